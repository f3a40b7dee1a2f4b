package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"
)

// result is what one run measured.
type result struct {
	name           string
	maxLatency     time.Duration // worst application statement
	normalQPS      float64       // statements per second before the blocker
	stalledSeconds int           // seconds with under 10% of normal throughput
	failed         int
	done           time.Duration // from the migration's start to its end
	afterRelease   time.Duration // from the blocker's end to the migration's end
	outcome
}

// scenario runs the workload for the whole run, starts the blocker,
// migrates with m a second later, ends the blocker, and measures.
func (e *env) scenario(ctx context.Context, m method) (result, error) {
	e.runs++
	column := fmt.Sprintf("c%d", e.runs)
	start := time.Now()
	w := startWorkload(ctx, e.db, e.o.clients)
	time.Sleep(e.o.normal)
	blockedAt := time.Now()
	release, err := blocker(ctx, e.db)
	if err != nil {
		w.stop()
		return result{}, err
	}
	type migrated struct {
		out   outcome
		begin time.Time
		err   error
	}
	mc := make(chan migrated, 1)
	go func() {
		time.Sleep(time.Second)
		begin := time.Now()
		out, err := m.run(ctx, column)
		mc <- migrated{out, begin, err}
	}()
	time.Sleep(time.Until(blockedAt.Add(e.o.block)))
	releasedAt := release()
	mg := <-mc
	time.Sleep(time.Until(releasedAt.Add(e.o.after)))
	queries := w.stop()
	if mg.err != nil {
		return result{}, mg.err
	}
	r := measure(m.name, queries, start, blockedAt, releasedAt)
	r.outcome, r.done, r.afterRelease = mg.out, mg.out.done.Sub(mg.begin), mg.out.done.Sub(releasedAt)
	return r, nil
}

// measure computes a run's figures from its statements.
func measure(name string, qs []query, start, blockedAt, releasedAt time.Time) result {
	r := result{name: name}
	normal := 0
	perSecond := map[int64]int{}
	for _, q := range qs {
		if q.failed {
			r.failed++
			continue
		}
		r.maxLatency = max(r.maxLatency, q.latency)
		perSecond[q.end.Unix()]++
		if q.end.After(start.Add(time.Second)) && q.end.Before(blockedAt) {
			normal++
		}
	}
	r.normalQPS = float64(normal) / blockedAt.Sub(start.Add(time.Second)).Seconds()
	for s := start.Unix() + 1; s < releasedAt.Unix()+2; s++ {
		if float64(perSecond[s]) < 0.1*r.normalQPS {
			r.stalledSeconds++
		}
	}
	return r
}

// printTable writes the runs side by side.
func printTable(w io.Writer, o options, rs []result) {
	fmt.Fprintf(w, "\n== MariaDB: ADD COLUMN on items while a transaction holds it for %s; %d clients (point read + point update)\n\n", o.block, o.clients)
	fmt.Fprintf(w, "%-42s", "")
	for _, r := range rs {
		fmt.Fprintf(w, " %14s", r.name)
	}
	fmt.Fprintln(w)
	row := func(label string, f func(r result) string) {
		fmt.Fprintf(w, "%-42s", label)
		for _, r := range rs {
			fmt.Fprintf(w, " %14s", f(r))
		}
		fmt.Fprintln(w)
	}
	row("application statements/s before", func(r result) string { return fmt.Sprintf("%.0f", r.normalQPS) })
	row("application max latency", func(r result) string { return r.maxLatency.Round(time.Millisecond).String() })
	row("seconds under 10% of normal throughput", func(r result) string { return strconv.Itoa(r.stalledSeconds) })
	row("migration done after its start", func(r result) string { return r.done.Round(time.Millisecond).String() })
	row("  ... relative to the blocker's end", func(r result) string { return r.afterRelease.Round(time.Millisecond).String() })
	row("lock timeouts", func(r result) string { return strconv.Itoa(r.lockTimeouts) })
	row("rollback decided", func(r result) string { return yesNo(r.rollback) })
	row("failed statements", func(r result) string { return strconv.Itoa(r.failed) })
	for _, r := range rs {
		if r.note != "" {
			fmt.Fprintf(w, "%s: %s\n", r.name, r.note)
		}
	}
	fmt.Fprintf(w, "goal: no statement delayed beyond the lock timeout (%s), done within 0.5 s of the blocker's end\n", o.lockTimeout)
}

// yesNo words a boolean.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
