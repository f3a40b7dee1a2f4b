package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/backup"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// transferLeadership hands the leadership to another voter. The audit
// entry is committed first, while this server still leads.
func (a *API) transferLeadership(w http.ResponseWriter, r *http.Request, _ principal) error {
	body, err := readOptionalBody(r, smallBodyLimit)
	if err != nil {
		return err
	}
	var req api.LeadershipTransferRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if req.To != "" && !domain.ValidName(req.To) {
		return badRequest("invalid server id", domain.FieldError{Field: "to", Message: "must be a server id"})
	}
	if err := a.checkTransfer(req.To); err != nil {
		return err
	}
	to := req.To
	if to == "" {
		to = "the most up-to-date voter"
	}
	if err := a.commit(w, r, fsm.OperatorActionRequest{Name: "leadership_transfer", Detail: "to " + to}); err != nil {
		return err
	}
	if err := a.raft.TransferLeadership(req.To); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.statusOnceLed(r.Context()))
	return nil
}

// checkTransfer refuses, before anything is committed, a transfer to a
// server that cannot take the leadership.
func (a *API) checkTransfer(to string) error {
	st, err := a.raft.Status()
	if err != nil {
		return err
	}
	if to == "" {
		if len(st.Servers) < 2 {
			return badRequest("this cluster has one server: there is no other voter to lead")
		}
		return nil
	}
	for _, s := range st.Servers {
		switch {
		case s.ID != to:
		case s.Leader:
			return badRequest(to + " already leads")
		case s.Suffrage != "voter":
			return badRequest(to + " is not a voter")
		default:
			return nil
		}
	}
	return notFound("no server " + to + " in the raft configuration")
}

// statusOnceLed waits, a few seconds at most, until a leader is known again
// and returns the cluster's status as this server then sees it.
func (a *API) statusOnceLed(ctx context.Context) api.ClusterStatus {
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := a.raft.Status()
		if (err == nil && st.Leader != "") || time.Now().After(deadline) || ctx.Err() != nil {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// saveSnapshot answers with a snapshot file of the whole committed state.
// Taking one is audited: the file holds password hashes and the signing key.
func (a *API) saveSnapshot(w http.ResponseWriter, r *http.Request, _ principal) error {
	if err := a.commit(w, r, fsm.OperatorActionRequest{Name: "snapshot_save"}); err != nil {
		return err
	}
	var buf bytes.Buffer
	meta, err := a.raft.SaveSnapshot(&buf, a.version)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", api.SnapshotMediaType)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"hotswap-%d.snap\"", meta.Index))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes()) // a client gone away has nothing to be told
	return nil
}

// restoreSnapshot verifies a snapshot file and replaces the whole state
// with it; a damaged or foreign file changes nothing.
func (a *API) restoreSnapshot(w http.ResponseWriter, r *http.Request, _ principal) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != api.SnapshotMediaType {
		return &apiError{http.StatusUnsupportedMediaType, api.CodeUnsupportedMediaType,
			"send the snapshot file as " + api.SnapshotMediaType, nil}
	}
	const limit = backup.MaxSize + 1<<20
	if r.ContentLength > limit {
		return errTooLarge(limit)
	}
	meta, state, err := backup.Read(http.MaxBytesReader(w, r.Body, limit))
	if tooLarge := new(http.MaxBytesError); errors.As(err, &tooLarge) {
		return errTooLarge(limit)
	}
	if err != nil {
		return badRequest("not a snapshot this server can restore: " + err.Error())
	}
	summary, err := a.raft.RestoreSnapshot(state)
	if errors.Is(err, fsm.ErrBadSnapshot) {
		return badRequest("not a snapshot this server can restore: " + err.Error())
	}
	if err != nil {
		return err
	}
	detail := fmt.Sprintf("index %d of %s, taken %s", meta.Index, meta.ServerID, meta.CreatedAt.Format(time.RFC3339))
	if err := a.commit(w, r, fsm.OperatorActionRequest{Name: "snapshot_restore", Detail: detail}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.SnapshotRestore{Snapshot: meta, Restored: countsOf(summary)})
	return nil
}

func countsOf(s fsm.StateSummary) api.StateCounts {
	return api.StateCounts{Servers: s.Servers, Agents: s.Agents, Databases: s.Databases, Migrations: s.Migrations,
		Executions: s.Executions, Users: s.Users, AuditEntries: s.AuditEntries}
}
