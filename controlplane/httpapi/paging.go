package httpapi

import (
	"net/url"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// page is the part of a list one answer holds: at most limit items from
// offset, both read from the query (?limit=&offset=).
type page struct{ limit, offset int }

// readPage reads limit (def when absent, 1 to api.MaxPageSize) and offset
// (0 when absent) from q, with a field error for each bad one.
func readPage(q url.Values, def int) (page, []domain.FieldError) {
	limit, lerr := queryInt(q.Get("limit"), def, 1, api.MaxPageSize)
	offset, oerr := queryInt(q.Get("offset"), 0, 0, 1<<31-1)
	return page{limit: limit, offset: offset}, append(fieldErr("limit", lerr), fieldErr("offset", oerr)...)
}

// pageOf is the page's part of all (empty past the end).
func pageOf[T any](all []T, p page) []T {
	lo := min(p.offset, len(all))
	return all[lo:min(lo+p.limit, len(all))]
}
