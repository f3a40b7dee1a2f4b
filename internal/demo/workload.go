package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hotswap-db/hotswap/internal/pgbench"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// appScript is the application's transaction: one short UPDATE on the
// table being migrated.
const appScript = `\set id random(1, 10000)
UPDATE demo_accounts SET balance = balance + 1 WHERE id = :id;
`

// workload is the application: pgbench clients running appScript, with
// pgbench's last progress report kept for the live lines and its
// per-transaction log read once the run is over.
type workload struct {
	run       *pgbench.Run
	started   time.Time
	logPrefix string
	duration  time.Duration

	mu   sync.Mutex
	last pgbench.Progress
}

// startWorkload starts pgbench for d with a progress report every second.
func (s *stack) startWorkload(ctx context.Context, cfg Config, d time.Duration) (*workload, error) {
	dir := filepath.Join(cfg.WorkDir, "pgbench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pgbench log folder: %w", err)
	}
	w := &workload{logPrefix: filepath.Join(dir, "app"), duration: d}
	o := pgbench.Options{BinDir: s.pg.BinDir(), Host: "127.0.0.1", Port: s.pg.Port(), User: testbed.PostgresUser,
		Password: s.pg.Password(), Database: testbed.PostgresDatabase, Clients: cfg.Clients, Threads: cfg.Clients,
		Duration: d, Script: appScript, LogPrefix: w.logPrefix, Progress: time.Second}
	w.started = time.Now()
	run, err := pgbench.Start(ctx, o, w.record)
	if err != nil {
		return nil, err
	}
	w.run = run
	s.closer = append(s.closer, run.Stop)
	return w, nil
}

// record keeps pgbench's latest progress report.
func (w *workload) record(p pgbench.Progress) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = p
}

// latest returns pgbench's figures for the last second it reported.
func (w *workload) latest() pgbench.Progress {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

// finish waits for the run to end and reads its per-transaction log.
func (w *workload) finish() ([]pgbench.Txn, error) {
	if err := w.run.Wait(); err != nil {
		return nil, err
	}
	return pgbench.ReadLog(w.logPrefix)
}

// figures is what the application saw in a window of time.
type figures struct {
	worst  time.Duration // highest latency of a transaction that ran in the window
	tps    float64       // transactions that ended in the window, per second
	lowest int           // fewest transactions that ended in one whole second of the window
}

// measure computes the figures of the successful transactions between from
// and to. A transaction counts towards the worst latency if it ran at any
// time in the window, even if it ended after it.
func measure(txns []pgbench.Txn, from, to time.Time) figures {
	var f figures
	ended := 0
	for _, t := range txns {
		if t.Failed || t.End.Before(from) || t.End.Add(-t.Latency).After(to) {
			continue
		}
		f.worst = max(f.worst, t.Latency)
		if !t.End.After(to) {
			ended++
		}
	}
	f.tps = float64(ended) / to.Sub(from).Seconds()
	f.lowest = lowestSecond(pgbench.PerSecond(txns), from, to, int(f.tps))
	return f
}

// lowestSecond is the lowest throughput of the whole seconds between from
// and to (a second in which no transaction ended counts, with 0), or
// otherwise when there is no whole second.
func lowestSecond(seconds map[int64]pgbench.Second, from, to time.Time, otherwise int) int {
	first := from.Unix()
	if time.Unix(first, 0).Before(from) {
		first++
	}
	lowest := -1
	for sec := first; sec+1 <= to.Unix(); sec++ {
		if n := seconds[sec].TPS; lowest < 0 || n < lowest {
			lowest = n
		}
	}
	if lowest < 0 {
		return otherwise
	}
	return lowest
}
