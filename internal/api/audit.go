package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// AuditQuery filters the audit log; zero fields match everything.
type AuditQuery struct {
	Actor, Action, Target string
	Since, Until          time.Time
	Limit, Offset         int
}

func (q AuditQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"actor": q.Actor, "action": q.Action, "target": q.Target} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Offset > 0 {
		v.Set("offset", strconv.Itoa(q.Offset))
	}
	return v
}

// AuditList is the answer of GET /api/v1/audit: one page of entries,
// oldest first, and how many matched.
type AuditList struct {
	Entries []domain.AuditEntry `json:"entries"`
	Total   int                 `json:"total"`
}

// AuditVerification is the answer of GET /api/v1/audit/verify.
type AuditVerification struct {
	Valid    bool   `json:"valid"`
	Entries  int    `json:"entries"`
	BrokenAt uint64 `json:"brokenAt,omitempty"` // the first entry whose hash or link is wrong
	// ArchivedThrough is the last entry archived to a file (0: none); the
	// chain is checked from its hash.
	ArchivedThrough uint64 `json:"archivedThrough,omitempty"`
}

// ArchiveAuditRequest is the body of POST /api/v1/audit/archive: the last
// entry an operator saved to a file, and its hash, proving the file holds
// the entries up to it. They are dropped from the cluster's state.
type ArchiveAuditRequest struct {
	ThroughSeq uint64 `json:"throughSeq"`
	LastHash   string `json:"lastHash"`
}

// ArchiveAuditResponse says where the audit log kept by the cluster now starts.
type ArchiveAuditResponse struct {
	ArchivedThrough uint64 `json:"archivedThrough"`
	Kept            int    `json:"kept"`
}

// ArchiveAudit drops the entries through req.ThroughSeq from the cluster's
// state, once they are saved (see ExportAudit); only entries older than the
// cluster's retention period may go.
func (c *Client) ArchiveAudit(ctx context.Context, req ArchiveAuditRequest) (ArchiveAuditResponse, error) {
	var out ArchiveAuditResponse
	return out, c.post(ctx, "/api/v1/audit/archive", req, &out)
}

// MigrationAudit returns one page of the audit entries about a migration
// and its executions, oldest first.
func (c *Client) MigrationAudit(ctx context.Context, id string, limit, offset int) (AuditList, error) {
	p, err := resource("migrations", id)
	if err != nil {
		return AuditList{}, err
	}
	v := AuditQuery{Limit: limit, Offset: offset}.values()
	var out AuditList
	return out, c.get(ctx, p+"/audit-log?"+v.Encode(), &out)
}

// ListAudit returns one page of the audit log.
func (c *Client) ListAudit(ctx context.Context, q AuditQuery) (AuditList, error) {
	var l AuditList
	return l, c.get(ctx, "/api/v1/audit?"+q.values().Encode(), &l)
}

// ExportAudit returns the whole matching audit log as JSON lines
// (format "jsonl") or CSV ("csv").
func (c *Client) ExportAudit(ctx context.Context, format string, q AuditQuery) ([]byte, error) {
	v := q.values()
	v.Set("format", format)
	_, body, err := c.send(ctx, http.MethodGet, "/api/v1/audit/export?"+v.Encode(), nil)
	return body, err
}

// VerifyAudit has the server check the audit log's hash chain.
func (c *Client) VerifyAudit(ctx context.Context) (AuditVerification, error) {
	var v AuditVerification
	return v, c.get(ctx, "/api/v1/audit/verify", &v)
}
