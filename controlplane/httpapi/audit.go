package httpapi

import (
	"encoding/csv"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// DefaultAuditRetention is how long audit entries are kept in the state
// before they may be archived: one year.
const DefaultAuditRetention = 365 * 24 * time.Hour

// exportChunk is how many entries an export or a verification reads from
// the state at a time, under its read lock.
const exportChunk = 256

// auditAliases are the audit log's first paths, still served: each is
// answered as the path it maps to (the reference's /api/v1/audit-log),
// behind the same rule.
var auditAliases = map[string]string{
	"/api/v1/audit":         "/api/v1/audit-log",
	"/api/v1/audit/export":  "/api/v1/audit-log/export",
	"/api/v1/audit/verify":  "/api/v1/audit-log/verify",
	"/api/v1/audit/archive": "/api/v1/audit-log/archive",
}

// serveAliases answers a request on an alias path as its current path.
func serveAliases(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if to, ok := auditAliases[r.URL.Path]; ok {
			r2 := r.Clone(r.Context())
			u := *r.URL
			u.Path, u.RawPath = to, ""
			r2.URL = &u
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

// auditFilter reads the audit log's filters from the query: user, type
// (actor and action, their first names, still work), target, migration,
// database, since and until.
func (a *API) auditFilter(r *http.Request) (fsm.AuditFilter, error) {
	q := r.URL.Query()
	f := fsm.AuditFilter{Actor: first(q, "user", "actor"), Action: first(q, "type", "action"), Target: q.Get("target")}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if s := q.Get(name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return f, badRequest("invalid "+name, domain.FieldError{Field: name, Message: "must be an RFC 3339 time"})
			}
			*dst = t
		}
	}
	f.Targets = a.auditTargets(q.Get("migration"), q.Get("database"))
	return f, nil
}

// first returns the first of names the query sets.
func first(q url.Values, names ...string) string {
	for _, n := range names {
		if v := q.Get(n); v != "" {
			return v
		}
	}
	return ""
}

// auditTargets is the set of ids the migration and database filters
// select: a migration and its executions; a database, the migrations
// targeting it and theirs; both given, what both select. Ids no longer
// in the state still match their own entries. Nil: no such filter.
func (a *API) auditTargets(migration, database string) map[string]bool {
	st := a.raft.State()
	var sets []map[string]bool
	if migration != "" {
		sets = append(sets, a.migrationTargets(st, []string{migration}))
	}
	if database != "" {
		id := database
		if d, err := st.Database(database); err == nil {
			id = d.DatabaseID
		}
		var ids []string
		for _, m := range st.Migrations(fsm.MigrationFilter{DatabaseID: id}) {
			ids = append(ids, m.MigrationID)
		}
		set := a.migrationTargets(st, ids)
		set[id] = true
		sets = append(sets, set)
	}
	switch len(sets) {
	case 0:
		return nil
	case 1:
		return sets[0]
	}
	both := map[string]bool{}
	for id := range sets[0] {
		if sets[1][id] {
			both[id] = true
		}
	}
	if len(both) == 0 {
		both[""] = false // a set that matches no entry, not a missing filter
	}
	return both
}

// migrationTargets is the set of the migrations ids and their executions.
func (a *API) migrationTargets(st *fsm.State, ids []string) map[string]bool {
	set := map[string]bool{}
	for _, id := range ids {
		set[id] = true
	}
	for _, e := range st.Executions(func(e *domain.Execution) bool { return set[e.MigrationID] }) {
		set[e.ExecutionID] = true
	}
	return set
}

// auditPaging reads limit and offset.
func auditPaging(r *http.Request) (limit, offset int, err error) {
	pg, errs := readPage(r.URL.Query(), 100)
	if len(errs) > 0 {
		return 0, 0, badRequest("invalid paging", errs...)
	}
	return pg.limit, pg.offset, nil
}

// listAudit answers one page of the entries matching the query.
func (a *API) listAudit(w http.ResponseWriter, r *http.Request, _ principal) error {
	f, err := a.auditFilter(r)
	if err != nil {
		return err
	}
	limit, offset, err := auditPaging(r)
	if err != nil {
		return err
	}
	page, total := a.raft.State().AuditPage(f, offset, limit)
	writeJSON(w, http.StatusOK, api.AuditList{Entries: page, Total: total})
	return nil
}

// csvHeader names the columns of a CSV export.
var csvHeader = []string{"seq", "index", "at", "actor", "role", "from", "action", "target", "outcome", "prevHash", "hash"}

// exportAudit streams the matching entries as JSON lines or CSV, each
// written as it is read from the state, chunk by chunk: the answer's
// size does not decide the server's memory.
func (a *API) exportAudit(w http.ResponseWriter, r *http.Request, _ principal) error {
	f, err := a.auditFilter(r)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "jsonl" && format != "csv" {
		return badRequest("invalid format", domain.FieldError{Field: "format", Message: "jsonl or csv"})
	}
	entries := a.raft.State().AuditEntries(f, exportChunk)
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv")
		writeAuditCSV(w, entries)
		return nil
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	for e := range entries {
		if enc.Encode(e) != nil {
			return nil // the client went away; the status is already sent
		}
	}
	return nil
}

// writeAuditCSV writes a header line and one line per entry, flushing
// every chunk so the lines leave as they are made.
func writeAuditCSV(w http.ResponseWriter, entries iter.Seq[domain.AuditEntry]) {
	cw := csv.NewWriter(w)
	_ = cw.Write(csvHeader)
	n := 0
	for e := range entries {
		_ = cw.Write([]string{strconv.FormatUint(e.Seq, 10), strconv.FormatUint(e.Index, 10), e.At.Format(time.RFC3339Nano),
			e.Actor, e.Role, e.From, e.Action, e.Target, e.Outcome, e.PrevHash, e.Hash})
		if n++; n%exportChunk == 0 {
			if cw.Flush(); cw.Error() != nil {
				return // the client went away
			}
		}
	}
	cw.Flush()
}

// verifyAudit checks the chain kept in the state from the archive's
// anchor, chunk by chunk.
func (a *API) verifyAudit(w http.ResponseWriter, _ *http.Request, _ principal) error {
	st := a.raft.State()
	through, prev := st.AuditAnchor()
	v := api.AuditVerification{Valid: true, ArchivedThrough: through}
	for e := range st.AuditEntries(fsm.AuditFilter{}, exportChunk) {
		if v.Valid && (e.PrevHash != prev || e.ComputeHash() != e.Hash) {
			v.Valid, v.BrokenAt = false, e.Seq
		}
		prev = e.Hash
		v.Entries++
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// archiveAudit drops the entries an operator saved, when they are older
// than the retention period.
func (a *API) archiveAudit(w http.ResponseWriter, r *http.Request, _ principal) error {
	body, err := readBody(r, smallBodyLimit)
	if err != nil {
		return err
	}
	var req api.ArchiveAuditRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if req.ThroughSeq == 0 || len(req.LastHash) != 64 {
		return badRequest("invalid archive request", domain.FieldError{Field: "throughSeq",
			Message: "give the last archived entry's seq and its hash (64 hex digits)"})
	}
	before := a.now().UTC().Add(-a.auditRetention)
	c := fsm.ArchiveAuditRequest{ThroughSeq: req.ThroughSeq, LastHash: req.LastHash, Before: before}
	if err := a.commit(w, r, c); err != nil {
		return err
	}
	through, _ := a.raft.State().AuditAnchor()
	kept := int(a.raft.State().LastAuditSeq() - through)
	writeJSON(w, http.StatusOK, api.ArchiveAuditResponse{ArchivedThrough: through, Kept: kept})
	return nil
}

// migrationAudit lists the entries about a migration and its executions.
func (a *API) migrationAudit(w http.ResponseWriter, r *http.Request, _ principal) error {
	st := a.raft.State()
	m, err := st.FindMigration(r.PathValue("id"))
	if err != nil {
		return err
	}
	limit, offset, err := auditPaging(r)
	if err != nil {
		return err
	}
	page, total := st.AuditPage(fsm.AuditFilter{Targets: a.migrationTargets(st, []string{m.MigrationID})}, offset, limit)
	writeJSON(w, http.StatusOK, api.AuditList{Entries: page, Total: total})
	return nil
}
