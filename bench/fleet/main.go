// Command fleet measures a migration over 100 databases: HotSwap's Canary
// over a label-selected fleet (monitor window 0) against a serial loop of
// psql, the way a shell script around a plain migration tool does it. Then
// the case that matters most: a migration that fails on some databases.
//
//	make build && go run ./bench/fleet
//
// With --runs N it measures N fresh fleets (each with its own server) and
// ends with the minimum, median and maximum of the ratios; --statements K
// prints the K statements that took the server's time during HotSwap's
// first migration (pg_stat_statements, over every database).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/hotswap-db/hotswap/internal/testbed"
)

func main() {
	o := options{}
	flag.StringVar(&o.binDir, "bin", "bin", "folder with hotswapd and hotswap-agent")
	flag.IntVar(&o.databases, "databases", 100, "databases in the fleet")
	flag.IntVar(&o.concurrent, "max-concurrent", 10, "hotswapd --max-concurrent-executions (10 is its default)")
	flag.IntVar(&o.failEvery, "fail-every", 7, "in the failure case, every Nth database already has the column")
	flag.IntVar(&o.runs, "runs", 1, "fresh fleets to measure, one after the other")
	flag.IntVar(&o.statements, "statements", 0, "print the top N statements of HotSwap's first migration")
	flag.BoolVar(&o.skipFailure, "skip-failure", false, "leave out the failure case")
	flag.Parse()
	if err := runAll(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

type options struct {
	binDir                string
	databases, concurrent int
	failEvery             int
	runs, statements      int
	skipFailure           bool
}

// ratios are one run's serial/HotSwap wall-time ratios.
type ratios struct{ first, next float64 }

func runAll(ctx context.Context, o options) error {
	var all []ratios
	for i := range max(o.runs, 1) {
		if o.runs > 1 {
			fmt.Printf("\n=== run %d of %d (load average %s)\n", i+1, o.runs, loadAverage())
		}
		r, err := run(ctx, o)
		if err != nil {
			return err
		}
		all = append(all, r)
	}
	if len(all) > 1 {
		summarize(all)
	}
	return nil
}

// summarize prints the minimum, median and maximum of the runs' ratios.
func summarize(all []ratios) {
	pick := func(f func(ratios) float64) (lo, med, hi float64) {
		v := make([]float64, len(all))
		for i, r := range all {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[0], v[len(v)/2], v[len(v)-1]
	}
	fl, fm, fh := pick(func(r ratios) float64 { return r.first })
	nl, nm, nh := pick(func(r ratios) float64 { return r.next })
	fmt.Printf("\nratio over %d runs (min / median / max): first %.1fx / %.1fx / %.1fx, next %.1fx / %.1fx / %.1fx (load average now %s)\n",
		len(all), fl, fm, fh, nl, nm, nh, loadAverage())
}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	var a, b5, c string
	if _, err := fmt.Sscan(string(b), &a, &b5, &c); err != nil {
		return "?"
	}
	return a + " " + b5 + " " + c
}

func run(ctx context.Context, o options) (ratios, error) {
	dir, err := os.MkdirTemp("", "hotswap-bench-fleet-")
	if err != nil {
		return ratios{}, err
	}
	defer os.RemoveAll(dir)
	_ = os.Chmod(dir, 0o755)
	if o.binDir, err = filepath.Abs(o.binDir); err != nil {
		return ratios{}, err
	}
	pg, err := testbed.NewPostgres(ctx, filepath.Join(dir, "pg"), testbed.PostgresOptions{
		Settings: map[string]string{"max_connections": "1000", "shared_buffers": "256MB"}})
	if err != nil {
		return ratios{}, err
	}
	defer pg.Stop()
	env, err := newEnv(ctx, o, pg, dir)
	if err != nil {
		return ratios{}, err
	}
	defer env.close()
	r, err := env.compare(ctx)
	if err != nil || o.skipFailure {
		return r, err
	}
	return r, env.failureCase(ctx)
}

// compare times the serial loop, HotSwap's first migration over the fleet
// and its next one, and prints them.
func (e *env) compare(ctx context.Context) (ratios, error) {
	o := e.o
	loop, err := e.timed(ctx, "add_a", e.serialLoop)
	if err != nil {
		return ratios{}, err
	}
	if err := e.resetStatements(ctx); err != nil {
		return ratios{}, err
	}
	var hs, next outcome
	firstLog, err := e.measured(ctx, func() (err error) { hs, err = e.timed(ctx, "add_b", e.hotswap); return err })
	if err != nil {
		return ratios{}, err
	}
	if err := e.printStatements(ctx); err != nil {
		return ratios{}, err
	}
	nextLog, err := e.measured(ctx, func() (err error) { next, err = e.timed(ctx, "add_c", e.hotswap); return err })
	if err != nil {
		return ratios{}, err
	}
	fmt.Printf("\nADD COLUMN over %d databases (small tables), one PostgreSQL, %d-core machine\n", o.databases, 2)
	fmt.Printf("(the agent created its history tables in each database when it connected, before the timing;\n" +
		" the first migration is each database's first step, on sessions and catalog caches not used for one yet)\n\n")
	fmt.Printf("%-26s %14s %16s %16s\n", "", "serial psql", "HotSwap, first", "HotSwap, next")
	fmt.Printf("%-26s %14s %16s %16s\n", "wall time", loop.wall.Round(time.Millisecond), hs.wall.Round(time.Millisecond), next.wall.Round(time.Millisecond))
	fmt.Printf("%-26s %14d %16d %16d\n", "databases changed", loop.changed, hs.changed, next.changed)
	fe, fb := firstLog.total()
	ne, nb := nextLog.total()
	n := float64(o.databases)
	fmt.Printf("%-26s %14s %16.0f %16.0f\n", "Raft bytes per database", "-", fb/n, nb/n)
	fmt.Printf("%-26s %14s %16.1f %16.1f\n", "Raft entries per database", "-", fe/n, ne/n)
	fmt.Printf("\nRaft log of the first migration, per database, by command (bytes, entries):\n  %s\n", firstLog.breakdown(o.databases))
	r := ratios{first: float64(loop.wall) / float64(hs.wall), next: float64(loop.wall) / float64(next.wall)}
	fmt.Printf("\nratio (serial / HotSwap): %.1fx first, %.1fx next\n", r.first, r.next)
	return r, nil
}
