package commands

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/backup"
)

func operatorCommand() *cli.Command {
	return &cli.Command{
		Name:  "operator",
		Usage: "run the control plane itself: its Raft peers and whole-state snapshots (Admin)",
		Subcommands: []*cli.Command{{
			Name:  "raft",
			Usage: "see and change the Raft configuration",
			Subcommands: []*cli.Command{
				{Name: "list-peers", Usage: "list the servers of the Raft configuration and who leads",
					UsageText: "hotswap operator raft list-peers\n\nExamples:\n  hotswap operator raft list-peers\n  hotswap -o json operator raft list-peers",
					Action:    listPeers},
				{Name: "remove-peer", Usage: "remove a server from the Raft configuration (not the leader: transfer first)",
					UsageText: "hotswap operator raft remove-peer SERVER-ID\n\nExamples:\n  hotswap operator raft remove-peer s3",
					Action:    removePeer},
				{Name: "transfer-leader", Usage: "hand the leadership to another voter",
					UsageText: "hotswap operator raft transfer-leader [--to SERVER-ID]\n\nExamples:\n" +
						"  hotswap operator raft transfer-leader            # to the most up-to-date voter\n" +
						"  hotswap operator raft transfer-leader --to s2",
					Flags:  []cli.Flag{&cli.StringFlag{Name: "to", Usage: "the voter to lead (default: the most up-to-date one)"}},
					Action: transferLeader},
			},
		}, snapshotCommand()},
	}
}

func snapshotCommand() *cli.Command {
	return &cli.Command{
		Name:  "snapshot",
		Usage: "save, inspect and restore the whole state of the control plane",
		Subcommands: []*cli.Command{
			{Name: "save", Usage: "write a consistent snapshot of the whole state to FILE (mode 0600: it holds password hashes and the token signing key)",
				UsageText: "hotswap operator snapshot save FILE\n\nExamples:\n  hotswap operator snapshot save backup.snap",
				Action:    saveSnapshot},
			{Name: "inspect", Usage: "verify a snapshot file offline and show what it holds",
				UsageText: "hotswap operator snapshot inspect FILE\n\nExamples:\n  hotswap operator snapshot inspect backup.snap",
				Action:    inspectSnapshot},
			{Name: "restore", Usage: "replace the whole state, on every server, with FILE's (the cluster keeps its own servers)",
				UsageText: "hotswap operator snapshot restore FILE\n\nThe file is verified (header, size, SHA-256) before anything is sent; " +
					"a damaged file changes nothing.\n\nExamples:\n  hotswap operator snapshot restore backup.snap",
				Action: restoreSnapshot},
		},
	}
}

func listPeers(c *cli.Context) error {
	if err := needArgs(c); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	st, err := cl.ClusterStatus(c.Context)
	if err != nil {
		return fmt.Errorf("list peers: %w", err)
	}
	return newPrinter(c).show(st, func(p printer) error { // -o json: the whole answer, as the API gives it
		rows := make([][]string, 0, len(st.Servers))
		for _, s := range st.Servers {
			state := "follower"
			if s.Leader {
				state = "leader"
			}
			rows = append(rows, []string{s.ID, s.RaftAddr, state, s.Suffrage, or(s.HTTPAddr)})
		}
		return p.table([]string{"ID", "ADDRESS", "STATE", "SUFFRAGE", "HTTP"}, rows)
	})
}

func removePeer(c *cli.Context) error {
	if err := needArgs(c, "SERVER-ID"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	id := c.Args().First()
	if err := cl.RemoveServer(c.Context, id); err != nil {
		return fmt.Errorf("remove peer %s: %w", id, err)
	}
	if !newPrinter(c).isJSON() {
		fmt.Fprintf(c.App.Writer, "Removed %s from the Raft configuration.\n", id)
	}
	return nil
}

func transferLeader(c *cli.Context) error {
	if err := needArgs(c); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	st, err := cl.TransferLeadership(c.Context, c.String("to"))
	if err != nil {
		return fmt.Errorf("transfer leadership: %w", err)
	}
	return newPrinter(c).show(st, func(p printer) error {
		p.linef("Leadership transferred; %s now leads.", or(st.Leader))
		return nil
	})
}

// saveSnapshot downloads the snapshot into memory, verifies it, and only
// then writes FILE (through a temporary file renamed into place), so a
// broken download never leaves a file that looks like a snapshot.
func saveSnapshot(c *cli.Context) error {
	if err := needArgs(c, "FILE"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := cl.SaveSnapshot(c.Context, &buf); err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	meta, _, err := backup.Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return fmt.Errorf("save snapshot: the server's answer is not a valid snapshot: %w", err)
	}
	path := c.Args().First()
	if err := writeFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	return newPrinter(c).show(meta, func(p printer) error {
		p.linef("Saved the state at Raft index %d to %s (%s bytes).", meta.Index, path, strconv.FormatInt(meta.Size, 10))
		return nil
	})
}

// writeFileAtomic writes data to path with mode 0600 through a temporary
// file in the same folder.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hotswap-snapshot-*")
	if err != nil {
		return fmt.Errorf("create a file beside %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func inspectSnapshot(c *cli.Context) error {
	if err := needArgs(c, "FILE"); err != nil {
		return err
	}
	meta, err := readSnapshotFile(c.Args().First())
	if err != nil {
		return err
	}
	return newPrinter(c).show(meta, func(p printer) error { return printSnapshotMeta(p, meta) })
}

func printSnapshotMeta(p printer, meta backup.Meta) error {
	return p.fields(
		field{"Taken by", fmt.Sprintf("%s (version %s)", or(meta.ServerID), or(meta.Version))},
		field{"At", meta.CreatedAt.Format(time.RFC3339)},
		field{"Raft", fmt.Sprintf("index %d, term %d", meta.Index, meta.Term)},
		field{"State", fmt.Sprintf("%d bytes, SHA-256 %s (verified)", meta.Size, meta.SHA256)},
	)
}

// readSnapshotFile opens and verifies a snapshot file.
func readSnapshotFile(path string) (backup.Meta, error) {
	f, err := os.Open(path)
	if err != nil {
		return backup.Meta{}, usagef("%v", err)
	}
	defer f.Close()
	meta, _, err := backup.Read(f)
	if err != nil {
		return backup.Meta{}, fmt.Errorf("%s: %w", path, err)
	}
	return meta, nil
}

func restoreSnapshot(c *cli.Context) error {
	if err := needArgs(c, "FILE"); err != nil {
		return err
	}
	path := c.Args().First()
	if _, err := readSnapshotFile(path); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return usagef("%v", err)
	}
	defer f.Close()
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	res, err := cl.RestoreSnapshot(c.Context, f)
	if err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	return newPrinter(c).show(res, func(p printer) error { return printRestore(p, res) })
}

func printRestore(p printer, res api.SnapshotRestore) error {
	p.linef("Restored the state at Raft index %d, taken by %s at %s.", res.Snapshot.Index, or(res.Snapshot.ServerID),
		res.Snapshot.CreatedAt.Format(time.RFC3339))
	r := res.Restored
	return p.fields(
		field{"Databases", strconv.Itoa(r.Databases)}, field{"Migrations", strconv.Itoa(r.Migrations)},
		field{"Executions", strconv.Itoa(r.Executions)}, field{"Users", strconv.Itoa(r.Users)},
		field{"Agents", strconv.Itoa(r.Agents)}, field{"Audit entries", strconv.Itoa(r.AuditEntries)},
	)
}
