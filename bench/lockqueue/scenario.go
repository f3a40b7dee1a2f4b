package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/pgbench"
)

// result is what one scenario measured.
type result struct {
	name           string
	maxLatency     time.Duration
	normalTPS      float64
	blockedShare   float64 // throughput in the blocked window as a share of normal
	stalledSeconds int     // seconds with TPS under 10% of normal
	failed         int
	afterBlocker   time.Duration // from the blocker's end to the migration's end
	total          int
}

// scenario runs pgbench for the whole run, blocks the table, migrates
// through migrate, and measures.
func (e *env) scenario(ctx context.Context, name string, migrate func(context.Context, string) (time.Time, error)) (result, error) {
	column := "c_" + strings.ReplaceAll(strings.ToLower(name), " ", "_")
	total := e.o.normal + e.o.block + e.o.after
	prefix := filepath.Join(e.dir, column)
	o := e.pgbench()
	o.Clients, o.Threads, o.Duration, o.LogPrefix = e.o.clients, 2, total, prefix
	start := time.Now()
	bench, err := pgbench.Start(ctx, o, nil)
	if err != nil {
		return result{}, err
	}
	defer bench.Stop()
	time.Sleep(e.o.normal)
	blockedAt := time.Now()
	release, err := e.blocker(ctx)
	if err != nil {
		return result{}, err
	}
	migrated := make(chan time.Time, 1)
	errc := make(chan error, 1)
	go func() {
		time.Sleep(time.Second)
		at, err := migrate(ctx, column)
		errc <- err
		migrated <- at
	}()
	time.Sleep(time.Until(blockedAt.Add(e.o.block)))
	releasedAt := release()
	if err := <-errc; err != nil {
		return result{}, fmt.Errorf("%s: %w", name, err)
	}
	doneAt := <-migrated
	if err := bench.Wait(); err != nil {
		return result{}, fmt.Errorf("%s: %w", name, err)
	}
	txns, err := pgbench.ReadLog(prefix)
	if err != nil {
		return result{}, err
	}
	r := measure(name, txns, start, blockedAt, releasedAt)
	r.afterBlocker = doneAt.Sub(releasedAt)
	return r, nil
}

func measure(name string, txns []pgbench.Txn, start, blockedAt, releasedAt time.Time) result {
	r := result{name: name, total: len(txns)}
	normal, blocked := 0, 0
	for _, t := range txns {
		if t.Failed {
			r.failed++
			continue
		}
		r.maxLatency = max(r.maxLatency, t.Latency)
		switch {
		case t.End.After(start.Add(time.Second)) && t.End.Before(blockedAt):
			normal++
		case t.End.After(blockedAt) && t.End.Before(releasedAt):
			blocked++
		}
	}
	seconds := pgbench.PerSecond(txns)
	r.normalTPS = float64(normal) / blockedAt.Sub(start.Add(time.Second)).Seconds()
	blockedTPS := float64(blocked) / releasedAt.Sub(blockedAt).Seconds()
	r.blockedShare = blockedTPS / r.normalTPS
	for s := start.Unix() + 1; s < releasedAt.Unix()+2; s++ {
		if float64(seconds[s].TPS) < 0.1*r.normalTPS {
			r.stalledSeconds++
		}
	}
	return r
}

func printTable(w io.Writer, o options, a, b result) {
	fmt.Fprintf(w, "\nADD COLUMN while a transaction holds pgbench_accounts for %s; pgbench, %d clients\n\n", o.block, o.clients)
	fmt.Fprintf(w, "%-44s %16s %16s\n", "", a.name, b.name)
	row := func(label, x, y string) { fmt.Fprintf(w, "%-44s %16s %16s\n", label, x, y) }
	row("application max latency", a.maxLatency.Round(time.Millisecond).String(), b.maxLatency.Round(time.Millisecond).String())
	row("normal throughput (tps)", fmt.Sprintf("%.0f", a.normalTPS), fmt.Sprintf("%.0f", b.normalTPS))
	row("throughput while blocked, share of normal", pct(a.blockedShare), pct(b.blockedShare))
	row("seconds with tps under 10% of normal", strconv.Itoa(a.stalledSeconds), strconv.Itoa(b.stalledSeconds))
	row("failed transactions", strconv.Itoa(a.failed), strconv.Itoa(b.failed))
	row("migration done after the blocker ended", a.afterBlocker.Round(time.Millisecond).String(), b.afterBlocker.Round(time.Millisecond).String())
	row("transactions in the run", strconv.Itoa(a.total), strconv.Itoa(b.total))
	if b.maxLatency > 0 {
		fmt.Fprintf(w, "\nmax latency ratio (plain / HotSwap): %.1fx\n", float64(a.maxLatency)/float64(b.maxLatency))
	}
}

func pct(v float64) string { return fmt.Sprintf("%.0f%%", v*100) }
