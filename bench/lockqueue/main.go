// Command lockqueue measures what an ALTER TABLE does to an application
// while other sessions hold the table, in several scenarios, through plain
// psql (waits in the lock queue as long as it takes), a retry loop with
// pgroll's settings (500 ms lock timeout, jittered backoff from 1 s to
// 60 s) and HotSwap (default guards), side by side.
//
//	make build && go run ./bench/lockqueue
//
// Each run: pgbench with 4 clients for the whole run; after a few seconds
// the scenario's sessions start on pgbench_accounts for a while; one second
// later ADD COLUMN is started. pgbench's per-transaction log gives latency,
// throughput and failures.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/testbed"
)

func main() {
	opts := options{}
	flag.StringVar(&opts.binDir, "bin", "bin", "folder with hotswapd and hotswap-agent")
	flag.DurationVar(&opts.normal, "normal", 5*time.Second, "load before the scenario's sessions start")
	flag.DurationVar(&opts.block, "block", 10*time.Second, "how long the scenario's sessions hold on")
	flag.DurationVar(&opts.after, "after", 3*time.Second, "load after they stop")
	flag.DurationVar(&opts.lockTimeout, "lock-timeout", 500*time.Millisecond, "HotSwap's lock timeout (its maximum application delay)")
	flag.IntVar(&opts.clients, "clients", 4, "pgbench clients")
	flag.StringVar(&opts.only, "scenarios", "", "comma-separated scenario names to run (default all)")
	flag.StringVar(&opts.methods, "methods", "", "comma-separated methods to run: psql, retry, hotswap (default all)")
	flag.BoolVar(&opts.logs, "logs", false, "print HotSwap's execution log of each run, times from the migration's start")
	flag.Parse()
	if err := run(context.Background(), opts); err != nil {
		fmt.Fprintln(os.Stderr, "lockqueue:", err)
		os.Exit(1)
	}
}

type options struct {
	binDir               string
	normal, block, after time.Duration
	lockTimeout          time.Duration
	clients              int
	only                 string
	logs                 bool
	methods              string
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "hotswap-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	_ = os.Chmod(dir, 0o755)
	if o.binDir, err = filepath.Abs(o.binDir); err != nil {
		return err
	}
	pg, err := testbed.NewPostgres(ctx, filepath.Join(dir, "pg"), testbed.PostgresOptions{})
	if err != nil {
		return err
	}
	defer pg.Stop()
	env, err := newEnv(ctx, o, pg, dir)
	if err != nil {
		return err
	}
	defer env.close()
	for _, sc := range scenarios(o) {
		if o.only != "" && !strings.Contains(","+o.only+",", ","+sc.name+",") {
			continue
		}
		var results []result
		for _, m := range env.methods() {
			r, err := env.scenario(ctx, sc, m)
			if err != nil {
				return fmt.Errorf("%s, %s: %w", sc.name, m.name, err)
			}
			results = append(results, r)
		}
		printTable(os.Stdout, o, sc, results)
	}
	return nil
}
