// Command fleet measures a migration over 100 databases: HotSwap's Canary
// over a label-selected fleet (monitor window 0) against a serial loop of
// psql, the way a shell script around a plain migration tool does it. Then
// the case that matters most: a migration that fails on some databases.
//
//	make build && go run ./bench/fleet
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
	flag.IntVar(&o.databases, "databases", 100, "databases in the fleet")
	flag.IntVar(&o.concurrent, "max-concurrent", 10, "hotswapd --max-concurrent-executions (10 is its default)")
	flag.IntVar(&o.failEvery, "fail-every", 7, "in the failure case, every Nth database already has the column")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

type options struct {
	binDir                string
	databases, concurrent int
	failEvery             int
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "hotswap-bench-fleet-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	_ = os.Chmod(dir, 0o755)
	if o.binDir, err = filepath.Abs(o.binDir); err != nil {
		return err
	}
	pg, err := testbed.NewPostgres(ctx, filepath.Join(dir, "pg"), testbed.PostgresOptions{
		Settings: map[string]string{"max_connections": "1000", "shared_buffers": "256MB"}})
	if err != nil {
		return err
	}
	defer pg.Stop()
	env, err := newEnv(ctx, o, pg, dir)
	if err != nil {
		return err
	}
	defer env.close()

	loop, err := env.timed(ctx, "add_a", env.serialLoop)
	if err != nil {
		return err
	}
	var hs, next outcome
	firstLog, err := env.measured(ctx, func() (err error) { hs, err = env.timed(ctx, "add_b", env.hotswap); return err })
	if err != nil {
		return err
	}
	nextLog, err := env.measured(ctx, func() (err error) { next, err = env.timed(ctx, "add_c", env.hotswap); return err })
	if err != nil {
		return err
	}
	fmt.Printf("\nADD COLUMN over %d databases (small tables), one PostgreSQL, %d-core machine\n", o.databases, 2)
	fmt.Printf("(HotSwap's first migration on a database also creates its history tables there)\n\n")
	fmt.Printf("%-26s %14s %16s %16s\n", "", "serial psql", "HotSwap, first", "HotSwap, next")
	fmt.Printf("%-26s %14s %16s %16s\n", "wall time", loop.wall.Round(time.Millisecond), hs.wall.Round(time.Millisecond), next.wall.Round(time.Millisecond))
	fmt.Printf("%-26s %14d %16d %16d\n", "databases changed", loop.changed, hs.changed, next.changed)
	fe, fb := firstLog.total()
	ne, nb := nextLog.total()
	n := float64(o.databases)
	fmt.Printf("%-26s %14s %16.0f %16.0f\n", "Raft bytes per database", "-", fb/n, nb/n)
	fmt.Printf("%-26s %14s %16.1f %16.1f\n", "Raft entries per database", "-", fe/n, ne/n)
	fmt.Printf("\nRaft log of the first migration, per database, by command (bytes, entries):\n  %s\n", firstLog.breakdown(o.databases))
	fmt.Printf("\nratio (serial / HotSwap): %.1fx first, %.1fx next\n", float64(loop.wall)/float64(hs.wall), float64(loop.wall)/float64(next.wall))
	return env.failureCase(ctx)
}
