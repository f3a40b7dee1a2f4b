package httpapi

import (
	"net/http"

	"github.com/hotswap-db/hotswap/controlplane/webui"
)

// serveConsole mounts the web console at /ui/; /ui sends the browser there.
// The page needs no token to load; everything it shows comes from the API,
// with the user's token. Like /swagger it is a page for people, not a route
// of the API, so it is not in the description.
func serveConsole(mux *http.ServeMux) {
	mux.Handle("GET "+webui.Prefix, webui.Handler())
	mux.Handle("GET /ui", http.RedirectHandler(webui.Prefix, http.StatusMovedPermanently))
}
