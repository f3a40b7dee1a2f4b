package api

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/hotswap-db/hotswap/internal/backup"
)

// SnapshotMediaType is the media type of a snapshot file (internal/backup).
const SnapshotMediaType = "application/octet-stream"

// LeadershipTransferRequest is the body of POST
// /api/v1/cluster/leadership-transfer: the voter to hand leadership to,
// or none for the most up-to-date one.
type LeadershipTransferRequest struct {
	To string `json:"to,omitempty"`
}

// StateCounts says how many of each object a control plane's state holds.
type StateCounts struct {
	Servers      int `json:"servers"`
	Agents       int `json:"agents"`
	Databases    int `json:"databases"`
	Migrations   int `json:"migrations"`
	Executions   int `json:"executions"`
	Users        int `json:"users"`
	AuditEntries int `json:"auditEntries"`
}

// SnapshotRestore is the answer of POST /api/v1/operator/snapshot: the
// snapshot file that was restored and what the state now holds.
type SnapshotRestore struct {
	Snapshot backup.Meta `json:"snapshot"`
	Restored StateCounts `json:"restored"`
}

// TransferLeadership asks the leader to hand leadership to the voter to
// (any voter when empty) and returns the cluster as the old leader then
// sees it.
func (c *Client) TransferLeadership(ctx context.Context, to string) (ClusterStatus, error) {
	var st ClusterStatus
	return st, c.post(ctx, "/api/v1/cluster/leadership-transfer", LeadershipTransferRequest{To: to}, &st)
}

// SaveSnapshot writes a snapshot file of the whole committed state, as the
// leader takes it, to w, and returns how many bytes it wrote.
func (c *Client) SaveSnapshot(ctx context.Context, w io.Writer) (int64, error) {
	resp, err := c.sendRaw(ctx, http.MethodGet, "/api/v1/operator/snapshot", "", nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, io.LimitReader(resp.Body, backup.MaxSize+1<<20))
	if err != nil {
		return n, fmt.Errorf("api: read the snapshot: %w", err)
	}
	return n, nil
}

// RestoreSnapshot sends a snapshot file for the cluster to restore: the
// whole state is replaced by the file's.
func (c *Client) RestoreSnapshot(ctx context.Context, file io.Reader) (SnapshotRestore, error) {
	var out SnapshotRestore
	resp, err := c.sendRaw(ctx, http.MethodPost, "/api/v1/operator/snapshot", SnapshotMediaType, file)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	return out, decodeAnswer(resp, &out)
}
