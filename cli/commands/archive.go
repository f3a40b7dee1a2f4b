package commands

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// auditArchive saves the old entries to a file, checks them, and only then
// asks the cluster to drop them.
func auditArchive(c *cli.Context) error {
	if err := needArgs(c); err != nil {
		return err
	}
	before := time.Now().UTC().AddDate(-1, 0, 0)
	if t := c.Timestamp("before"); t != nil {
		before = t.UTC()
	}
	path := c.String("file")
	if _, err := os.Stat(path); err == nil {
		return usagef("--file %s exists: an archive is never overwritten", path)
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	raw, err := cl.ExportAudit(c.Context, "jsonl", api.AuditQuery{Until: before})
	if err != nil {
		return fmt.Errorf("audit archive: export: %w", err)
	}
	entries, err := checkedEntries(raw)
	if err != nil {
		return fmt.Errorf("audit archive: %w", err)
	}
	if len(entries) == 0 {
		return newPrinter(c).show(api.ArchiveAuditResponse{}, func(p printer) error {
			p.linef("No audit entry before %s: nothing to archive.", before.Format(time.RFC3339))
			return nil
		})
	}
	if err := writeNewFile(path, raw); err != nil {
		return fmt.Errorf("audit archive: %w", err)
	}
	last := entries[len(entries)-1]
	res, err := cl.ArchiveAudit(c.Context, api.ArchiveAuditRequest{ThroughSeq: last.Seq, LastHash: last.Hash})
	if err != nil {
		_ = os.Remove(path) // nothing was archived: leave no file that says otherwise
		return fmt.Errorf("audit archive: %w", err)
	}
	return newPrinter(c).show(res, func(p printer) error {
		p.linef("Archived entries %d to %d to %s; the cluster keeps %d entries from %d on.", entries[0].Seq, last.Seq,
			path, res.Kept, res.ArchivedThrough+1)
		return nil
	})
}

// checkedEntries decodes exported JSON lines and checks their hash chain.
func checkedEntries(raw []byte) ([]domain.AuditEntry, error) {
	var entries []domain.AuditEntry
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var e domain.AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("the export is not JSON lines of audit entries: %w", err)
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the export: %w", err)
	}
	if len(entries) == 0 {
		return nil, nil
	}
	if broken, ok := domain.VerifyAuditChain(entries, entries[0].PrevHash); !ok {
		return nil, fmt.Errorf("the exported chain breaks at entry %d: nothing archived", broken)
	}
	return entries, nil
}

// writeNewFile writes data to a file that must not exist yet, mode 0600,
// synced before it returns.
func writeNewFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
