// Command detection measures how fast HotSwap's guard notices a migration
// that hurts the application and undoes it: from the moment the harmful
// DDL commits to the agent's decision, to the decision committed on the
// leader, and to the rollback finished, beside what a monitor that polls
// every 10 s would have done with the same run.
//
//	make build && go run ./bench/detection
//
// The application is pgbench selecting rows of items by k through the index
// items_k, for the whole benchmark. Each run executes `DROP INDEX items_k`
// (its rollback recreates the index) with a monitor window: the queries turn
// into sequential scans, the latency guard rolls the execution back. The
// median of the runs is printed with the figures of each run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hotswap-db/hotswap/internal/testbed"
)

func main() {
	o := options{}
	flag.StringVar(&o.binDir, "bin", "bin", "folder with hotswapd and hotswap-agent")
	flag.IntVar(&o.runs, "runs", 5, "migrations to run (at least 5 for a median worth the name)")
	flag.IntVar(&o.clients, "clients", 2, "pgbench clients")
	flag.IntVar(&o.rows, "rows", 200_000, "rows of the items table")
	flag.DurationVar(&o.settle, "settle", 8*time.Second, "load between a rollback and the next run (more than the baseline window), plus a random part of --poll-every")
	flag.DurationVar(&o.pollEvery, "poll-every", 10*time.Second, "interval of the polling monitor HotSwap is compared with")
	flag.IntVar(&o.sampleMs, "sample-ms", 250, "the guard's sampling interval during a step (sampleIntervalMs)")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "detection:", err)
		os.Exit(1)
	}
}

// options are the benchmark's flags.
type options struct {
	binDir    string
	runs      int
	clients   int
	rows      int
	settle    time.Duration
	pollEvery time.Duration
	sampleMs  int
}

// Monitoring settings of each execution: a 5 s baseline before the step and
// a 10 s monitor window after it.
const (
	baselineWindow = 5 * time.Second
	monitorWindow  = 10 * time.Second
)

// run starts PostgreSQL, hotswapd, an agent and the workload, runs the
// migrations one after the other and prints the figures.
func run(ctx context.Context, o options) error {
	if o.runs < 1 {
		return fmt.Errorf("--runs %d: at least 1", o.runs)
	}
	if o.settle <= baselineWindow {
		return fmt.Errorf("--settle %s: must be longer than the %s baseline window", o.settle, baselineWindow)
	}
	dir, err := os.MkdirTemp("", "hotswap-bench-")
	if err != nil {
		return fmt.Errorf("temporary folder: %w", err)
	}
	defer os.RemoveAll(dir)
	_ = os.Chmod(dir, 0o755) // the server runs as postgres when we are root
	if o.binDir, err = filepath.Abs(o.binDir); err != nil {
		return fmt.Errorf("--bin: %w", err)
	}
	pg, err := testbed.NewPostgres(ctx, filepath.Join(dir, "pg"), testbed.PostgresOptions{})
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	defer pg.Stop()
	env, err := newEnv(ctx, o, pg, dir)
	if err != nil {
		return err
	}
	defer env.close()
	results, err := env.runAll(ctx)
	if err != nil {
		return err
	}
	printReport(os.Stdout, o, results)
	return nil
}
