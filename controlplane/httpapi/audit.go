package httpapi

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// DefaultAuditRetention is how long audit entries are kept in the state
// before they may be archived: one year.
const DefaultAuditRetention = 365 * 24 * time.Hour

// auditFilter reads the audit log's filters from the query.
func auditFilter(r *http.Request) (fsm.AuditFilter, error) {
	q := r.URL.Query()
	f := fsm.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target")}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if s := q.Get(name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return f, badRequest("invalid "+name, domain.FieldError{Field: name, Message: "must be an RFC 3339 time"})
			}
			*dst = t
		}
	}
	return f, nil
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request, _ principal) error {
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	limit, lerr := queryInt(r.URL.Query().Get("limit"), 100, 1, 1000)
	offset, oerr := queryInt(r.URL.Query().Get("offset"), 0, 0, 1<<31-1)
	if lerr != nil || oerr != nil {
		return badRequest("invalid paging", domain.FieldError{Field: "limit", Message: "1 to 1000, offset >= 0"})
	}
	all := a.raft.State().AuditLog(f)
	page := all[min(offset, len(all)):min(offset+limit, len(all))]
	writeJSON(w, http.StatusOK, api.AuditList{Entries: append([]domain.AuditEntry{}, page...), Total: len(all)})
	return nil
}

// exportAudit writes the matching entries one by one as JSON lines or CSV.
func (a *API) exportAudit(w http.ResponseWriter, r *http.Request, _ principal) error {
	f, err := auditFilter(r)
	if err != nil {
		return err
	}
	entries := a.raft.State().AuditLog(f)
	switch r.URL.Query().Get("format") {
	case "", "jsonl":
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		for _, e := range entries {
			if err := enc.Encode(e); err != nil {
				return nil // the client went away; the status is already sent
			}
		}
	case "csv":
		w.Header().Set("Content-Type", "text/csv")
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"seq", "index", "at", "actor", "role", "from", "action", "target", "outcome", "prevHash", "hash"})
		for _, e := range entries {
			_ = cw.Write([]string{strconv.FormatUint(e.Seq, 10), strconv.FormatUint(e.Index, 10), e.At.Format(time.RFC3339Nano),
				e.Actor, e.Role, e.From, e.Action, e.Target, e.Outcome, e.PrevHash, e.Hash})
		}
		cw.Flush()
	default:
		return badRequest("invalid format", domain.FieldError{Field: "format", Message: "jsonl or csv"})
	}
	return nil
}

func (a *API) verifyAudit(w http.ResponseWriter, _ *http.Request, _ principal) error {
	entries := a.raft.State().AuditLog(fsm.AuditFilter{})
	through, anchor := a.raft.State().AuditAnchor()
	broken, ok := domain.VerifyAuditChain(entries, anchor)
	writeJSON(w, http.StatusOK, api.AuditVerification{Valid: ok, Entries: len(entries), BrokenAt: broken,
		ArchivedThrough: through})
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
	targets := []string{m.MigrationID}
	for _, e := range st.Executions(func(e *domain.Execution) bool { return e.MigrationID == m.MigrationID }) {
		targets = append(targets, e.ExecutionID)
	}
	limit, lerr := queryInt(r.URL.Query().Get("limit"), 100, 1, 1000)
	offset, oerr := queryInt(r.URL.Query().Get("offset"), 0, 0, 1<<31-1)
	if lerr != nil || oerr != nil {
		return badRequest("invalid paging", domain.FieldError{Field: "limit", Message: "1 to 1000, offset >= 0"})
	}
	all := st.AuditLog(fsm.AuditFilter{AnyTarget: targets})
	page := all[min(offset, len(all)):min(offset+limit, len(all))]
	writeJSON(w, http.StatusOK, api.AuditList{Entries: append([]domain.AuditEntry{}, page...), Total: len(all)})
	return nil
}
