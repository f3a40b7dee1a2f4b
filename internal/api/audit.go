package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// AuditQuery filters the audit log; zero fields match everything.
type AuditQuery struct {
	User string // who asked: a username, a token's name, or "system"
	Type string // the event type (action), e.g. create_migration, login
	// Target is the one id or name an entry is about.
	Target string
	// Migration keeps the entries about a migration and its executions;
	// Database those about a database (id or name), the migrations
	// targeting it and their executions.
	Migration, Database string
	Since, Until        time.Time
	Limit, Offset       int
}

func (q AuditQuery) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"user": q.User, "type": q.Type, "target": q.Target,
		"migration": q.Migration, "database": q.Database} {
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

// AuditList is the answer of GET /api/v1/audit-log: one page of entries,
// oldest first, and how many matched.
type AuditList struct {
	Entries []domain.AuditEntry `json:"entries"`
	Total   int                 `json:"total"`
}

// AuditVerification is the answer of GET /api/v1/audit-log/verify.
type AuditVerification struct {
	Valid    bool   `json:"valid"`
	Entries  int    `json:"entries"`
	BrokenAt uint64 `json:"brokenAt,omitempty"` // the first entry whose hash or link is wrong
	// ArchivedThrough is the last entry archived to a file (0: none); the
	// chain is checked from its hash.
	ArchivedThrough uint64 `json:"archivedThrough,omitempty"`
}

// ArchiveAuditRequest is the body of POST /api/v1/audit-log/archive: the last
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
	return out, c.post(ctx, "/api/v1/audit-log/archive", req, &out)
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
	return l, c.get(ctx, "/api/v1/audit-log?"+q.values().Encode(), &l)
}

// ExportAudit returns the whole matching audit log as JSON lines
// (format "jsonl") or CSV ("csv"). StreamAudit writes it as it comes.
func (c *Client) ExportAudit(ctx context.Context, format string, q AuditQuery) ([]byte, error) {
	var buf bytes.Buffer
	err := c.StreamAudit(ctx, format, q, &buf)
	return buf.Bytes(), err
}

// StreamAudit copies the matching audit log to w as the server sends it,
// as JSON lines (format "jsonl") or CSV ("csv"), without holding it.
func (c *Client) StreamAudit(ctx context.Context, format string, q AuditQuery, w io.Writer) error {
	v := q.values()
	v.Set("format", format)
	resp, err := c.sendRaw(ctx, http.MethodGet, "/api/v1/audit-log/export?"+v.Encode(), "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("read the audit export: %w", err)
	}
	return nil
}

// VerifyAudit has the server check the audit log's hash chain.
func (c *Client) VerifyAudit(ctx context.Context) (AuditVerification, error) {
	var v AuditVerification
	return v, c.get(ctx, "/api/v1/audit-log/verify", &v)
}
