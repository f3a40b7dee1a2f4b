// Command lockqueue measures what an ALTER TABLE does to an application
// while a long transaction holds the table: run through plain psql (what a
// plain migration runner does) and through HotSwap, side by side.
//
//	make build && go run ./bench/lockqueue
//
// Each run: pgbench with 4 clients for the whole run; after a few seconds a
// transaction takes ACCESS SHARE on pgbench_accounts for 15 s; one second
// later ADD COLUMN is started. pgbench's per-transaction log gives latency,
// throughput and failures.
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
	opts := options{}
	flag.StringVar(&opts.binDir, "bin", "bin", "folder with hotswapd and hotswap-agent")
	flag.DurationVar(&opts.normal, "normal", 5*time.Second, "load before the blocker")
	flag.DurationVar(&opts.block, "block", 15*time.Second, "how long the blocker holds the table")
	flag.DurationVar(&opts.after, "after", 5*time.Second, "load after the blocker")
	flag.DurationVar(&opts.lockTimeout, "lock-timeout", 500*time.Millisecond, "HotSwap's lock timeout")
	flag.IntVar(&opts.clients, "clients", 4, "pgbench clients")
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
	plain, err := env.scenario(ctx, "plain psql", env.viaPsql)
	if err != nil {
		return err
	}
	hs, err := env.scenario(ctx, "HotSwap", env.viaHotSwap)
	if err != nil {
		return err
	}
	printTable(os.Stdout, o, plain, hs)
	return nil
}
