// Command overhead measures what hotswap-agent costs the database host it
// runs on: pgbench's throughput with no agent, with an agent sampling every
// second (the default) and every 250 ms (the rate during a migration step),
// in alternating runs; then the sampler's own cost, measured directly: the
// database time of its queries (pg_stat_statements) and the CPU of the agent
// process and of its database sessions (/proc).
//
//	make build && go run ./bench/overhead
//
// The agents are connected to a real hotswapd with their instance
// registered in a database, so they stream their samples as in production.
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
	flag.IntVar(&o.runs, "runs", 5, "runs of each setting (none, 1s, 250ms), alternating")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each pgbench run")
	flag.IntVar(&o.clients, "clients", 4, "pgbench clients")
	flag.IntVar(&o.scale, "scale", 10, "pgbench scale factor")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "overhead:", err)
		os.Exit(1)
	}
}

// options are the benchmark's flags.
type options struct {
	binDir   string
	runs     int
	duration time.Duration
	clients  int
	scale    int
}

// run starts PostgreSQL and hotswapd, runs pgbench with each setting in
// turn and prints the figures.
func run(ctx context.Context, o options) error {
	if o.runs < 1 || o.duration < time.Second {
		return fmt.Errorf("--runs %d, --duration %s: want at least 1 run of 1s", o.runs, o.duration)
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
	runs, err := env.runAll(ctx)
	if err != nil {
		return err
	}
	printReport(os.Stdout, o, env.settings, runs)
	return nil
}
