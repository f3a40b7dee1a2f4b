package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/raft"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/backup"
)

// operatorTimeout bounds a snapshot, a restore and a leadership transfer.
const operatorTimeout = 2 * time.Minute

// TransferLeadership hands this server's leadership to the voter id, or to
// the most up-to-date voter when id is empty, and returns once this server
// has stepped down.
func (n *Node) TransferLeadership(id string) error {
	if !n.IsLeader() {
		return ErrNotLeader
	}
	if id == "" {
		return wrapTransfer(n.raft.LeadershipTransfer().Error(), "another voter")
	}
	if id == n.cfg.Self.ID {
		return fmt.Errorf("%s already leads", id)
	}
	addr, err := n.voterAddress(id)
	if err != nil {
		return err
	}
	return wrapTransfer(n.raft.LeadershipTransferToServer(raft.ServerID(id), addr).Error(), id)
}

func wrapTransfer(err error, to string) error {
	if err != nil {
		return fmt.Errorf("transfer leadership to %s: %w", to, err)
	}
	return nil
}

// voterAddress returns the Raft address of the voter id.
func (n *Node) voterAddress(id string) (raft.ServerAddress, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return "", fmt.Errorf("read the raft configuration: %w", err)
	}
	for _, s := range f.Configuration().Servers {
		if string(s.ID) == id {
			if s.Suffrage != raft.Voter {
				return "", fmt.Errorf("%s is not a voter", id)
			}
			return s.Address, nil
		}
	}
	return "", fmt.Errorf("%w: %s", ErrNoSuchServer, id)
}

// ErrNoSuchServer is returned for a server the Raft configuration does not list.
var ErrNoSuchServer = errors.New("no such server in the raft configuration")

// SaveSnapshot writes the whole committed state to w as a snapshot file
// (internal/backup): everything committed before the call is in it.
func (n *Node) SaveSnapshot(w io.Writer, version string) (backup.Meta, error) {
	if !n.IsLeader() {
		return backup.Meta{}, ErrNotLeader
	}
	if err := n.raft.Barrier(operatorTimeout).Error(); err != nil {
		return backup.Meta{}, fmt.Errorf("wait for the committed entries: %w", err)
	}
	f := n.raft.Snapshot()
	if err := f.Error(); err != nil {
		return backup.Meta{}, fmt.Errorf("take a snapshot: %w", err)
	}
	meta, rc, err := f.Open()
	if err != nil {
		return backup.Meta{}, fmt.Errorf("open the snapshot: %w", err)
	}
	defer rc.Close()
	state, err := io.ReadAll(rc)
	if err != nil {
		return backup.Meta{}, fmt.Errorf("read the snapshot: %w", err)
	}
	return backup.Write(w, backup.Meta{ServerID: n.cfg.Self.ID, Version: version, Index: meta.Index, Term: meta.Term,
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}, state)
}

// RestoreSnapshot replaces the whole state, on every server, with the one a
// verified snapshot file holds, keeping this cluster's own members. It
// returns what the file held and what the state now holds.
func (n *Node) RestoreSnapshot(state []byte) (fsm.StateSummary, error) {
	if !n.IsLeader() {
		return fsm.StateSummary{}, ErrNotLeader
	}
	rebased, summary, err := fsm.RebaseSnapshot(state, n.State().Servers())
	if err != nil {
		return fsm.StateSummary{}, err
	}
	meta := &raft.SnapshotMeta{Version: raft.SnapshotVersionMax, Size: int64(len(rebased))}
	if err := n.raft.Restore(meta, bytes.NewReader(rebased), operatorTimeout); err != nil {
		return fsm.StateSummary{}, fmt.Errorf("restore the snapshot: %w", err)
	}
	return summary, nil
}
