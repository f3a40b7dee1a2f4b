package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/pgbench"
)

// scenarioDef is what other sessions do to pgbench_accounts while the
// migration runs.
type scenarioDef struct {
	name, what string
	// start begins the sessions; stop ends them and says when.
	start func(ctx context.Context, e *env) (stop func() time.Time, err error)
	// expect says what the scenario makes impossible, if anything.
	expect string
}

// queuedAhead is why, behind one long holder, HotSwap can be done a few
// tens of milliseconds after psql.
const queuedAhead = "done can trail psql's by the time HotSwap needs to see the holder's end and look once more before " +
	"entering the queue (10-20 ms under this load): psql is queued from its start, first in line when the holder ends, " +
	"and every application statement waits behind it until then"

// scenarios are the runs, in order. Each scenario's statement has its own
// shape, so that pg_stat_statements keeps its figures apart (constants are
// normalized away), as an application's distinct queries are.
func scenarios(o options) []scenarioDef {
	return []scenarioDef{
		{name: "idle", what: fmt.Sprintf("a transaction idle after LOCK ... ACCESS SHARE for %s", o.block),
			start:  func(ctx context.Context, e *env) (func() time.Time, error) { return e.blocker(ctx) },
			expect: queuedAhead},
		{name: "long-query", what: fmt.Sprintf("one active query holding the table for %s", o.block),
			start: func(ctx context.Context, e *env) (func() time.Time, error) {
				return e.loop(ctx, 1, 0, fmt.Sprintf("SELECT pg_sleep(%g), 1, 2, 3 FROM pgbench_accounts LIMIT 1", o.block.Seconds()), 0)
			},
			expect: queuedAhead},
		{name: "readers", what: "3 sessions reading pgbench_accounts back to back, 0.7 s each, staggered (never free)",
			start: func(ctx context.Context, e *env) (func() time.Time, error) {
				return e.loop(ctx, 3, 700*time.Millisecond/3, "SELECT pg_sleep(0.7) FROM pgbench_accounts LIMIT 1", 0)
			},
			expect: "any moment leaves the application behind the ALTER for at least two staggers (467 ms), and only a 33 ms window " +
				"in each 233 ms keeps it under 500 ms: HotSwap waits for that window and enters once, but its own path (plan, " +
				"dispatch, the agent's checks: 0.1-0.3 s here) and the wait for the window can leave it later than psql, " +
				"which is done within one read of its start at the price of up to 0.7 s of stall"},
		{name: "report", what: "pgbench's short writers and a 2.5 s report every 4 s",
			start: func(ctx context.Context, e *env) (func() time.Time, error) {
				return e.loop(ctx, 1, 0, "SELECT pg_sleep(2.5), 1, 2 FROM pgbench_accounts LIMIT 1", 1500*time.Millisecond)
			}},
		{name: "slow-readers", what: "3 sessions reading back to back, 1.2 s each, staggered: the table is never free for 500 ms",
			start: func(ctx context.Context, e *env) (func() time.Time, error) {
				return e.loop(ctx, 3, 400*time.Millisecond, "SELECT pg_sleep(1.2), 1 FROM pgbench_accounts LIMIT 1", 0)
			},
			expect: "every moment the last reader still has 0.8-1.2 s to go, more than the 500 ms maximum delay: " +
				"HotSwap waits outside the queue until the readers stop; a plain ALTER stalls the application for up to 1.2 s"},
		{name: "bimodal", what: "3 sessions reading back to back, 0.1 s each but one read in 6 takes 1.5 s (one statement to pg_stat_statements)",
			start: func(ctx context.Context, e *env) (func() time.Time, error) {
				return e.loopEach(ctx, 3, 50*time.Millisecond, bimodalRead, 0)
			},
			expect: "designed to break the guard: pg_stat_statements gives one mean and spread (0.33 s, 0.52 s) for both kinds of read, " +
				"so a fresh read looks 0.8 s from its end and a long one past 0.8 s looks about to end when it has up to 0.7 s to go: " +
				"HotSwap finds no moment it trusts and waits outside the queue until the reads stop (latency kept, done late); " +
				"psql is done within one read but stalls the application for what is left of a long one (up to 1.5 s)"},
	}
}

// bimodalRead is the k-th read of session i in the bimodal scenario: 0.1 s,
// or 1.5 s one time in 6, the sessions out of step. Constants are
// normalized away, so pg_stat_statements sees one statement.
func bimodalRead(i, k int) string {
	d := 0.1
	if (k+2*i)%6 == 5 {
		d = 1.5
	}
	return fmt.Sprintf("SELECT pg_sleep(%g), 1, 2, 3, 4 FROM pgbench_accounts LIMIT 1", d)
}

// loop runs sql on n sessions, started stagger apart, each back to back
// with pause between runs, until stop.
func (e *env) loop(ctx context.Context, n int, stagger time.Duration, sql string, pause time.Duration) (func() time.Time, error) {
	return e.loopEach(ctx, n, stagger, func(int, int) string { return sql }, pause)
}

// loopEach is loop with the k-th statement of session i given by sql(i, k).
func (e *env) loopEach(ctx context.Context, n int, stagger time.Duration, sql func(i, k int) string, pause time.Duration) (func() time.Time, error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range n {
		conn, err := pgx.Connect(ctx, e.pg.DSN("app"))
		if err != nil {
			cancel()
			return nil, err
		}
		wg.Go(func() {
			defer conn.Close(context.Background())
			sleepCtx(ctx, time.Duration(i)*stagger)
			for k := 0; ctx.Err() == nil; k++ {
				_, _ = conn.Exec(ctx, sql(i, k))
				sleepCtx(ctx, pause)
			}
		})
	}
	return func() time.Time { cancel(); at := time.Now(); wg.Wait(); return at }, nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// result is what one method measured in one scenario.
type result struct {
	name           string
	maxLatency     time.Duration
	normalTPS      float64
	blockedShare   float64 // throughput while the sessions ran, as a share of normal
	stalledSeconds int     // seconds with TPS under 10% of normal
	failed         int
	done           time.Duration // from the migration's start to its end
	afterRelease   time.Duration // from the sessions' end to the migration's end (negative: before)
	outcome
}

// scenario runs pgbench for the whole run, starts the scenario's sessions,
// migrates with m a second later, and measures.
func (e *env) scenario(ctx context.Context, sc scenarioDef, m method) (result, error) {
	e.runs++
	column := fmt.Sprintf("c%d_%s", e.runs, strings.ReplaceAll(strings.ToLower(m.name), " ", "_"))
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
	stop, err := sc.start(ctx, e)
	if err != nil {
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
		if out.begun.After(begin) {
			begin = out.begun
		}
		mc <- migrated{out, begin, err}
	}()
	time.Sleep(time.Until(blockedAt.Add(e.o.block)))
	releasedAt := stop()
	mg := <-mc
	if mg.err != nil {
		return result{}, mg.err
	}
	if err := bench.Wait(); err != nil {
		return result{}, err
	}
	txns, err := pgbench.ReadLog(prefix)
	if err != nil {
		return result{}, err
	}
	r := measure(m.name, txns, start, blockedAt, releasedAt)
	r.outcome, r.done, r.afterRelease = mg.out, mg.out.done.Sub(mg.begin), mg.out.done.Sub(releasedAt)
	return r, nil
}

func measure(name string, txns []pgbench.Txn, start, blockedAt, releasedAt time.Time) result {
	r := result{name: name}
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
	r.blockedShare = float64(blocked) / releasedAt.Sub(blockedAt).Seconds() / r.normalTPS
	for s := start.Unix() + 1; s < releasedAt.Unix()+2; s++ {
		if float64(seconds[s].TPS) < 0.1*r.normalTPS {
			r.stalledSeconds++
		}
	}
	return r
}

func printTable(w io.Writer, o options, sc scenarioDef, rs []result) {
	fmt.Fprintf(w, "\n== %s: ADD COLUMN on pgbench_accounts while %s; pgbench, %d clients\n\n", sc.name, sc.what, o.clients)
	fmt.Fprintf(w, "%-42s", "")
	for _, r := range rs {
		fmt.Fprintf(w, " %16s", r.name)
	}
	fmt.Fprintln(w)
	row := func(label string, f func(r result) string) {
		fmt.Fprintf(w, "%-42s", label)
		for _, r := range rs {
			fmt.Fprintf(w, " %16s", f(r))
		}
		fmt.Fprintln(w)
	}
	row("application max latency", func(r result) string { return r.maxLatency.Round(time.Millisecond).String() })
	row("seconds with tps under 10% of normal", func(r result) string { return strconv.Itoa(r.stalledSeconds) })
	row("throughput while disturbed, share", func(r result) string { return fmt.Sprintf("%.0f%%", r.blockedShare*100) })
	row("migration done after its start", func(r result) string { return r.done.Round(time.Millisecond).String() })
	row("  ... relative to the sessions' end", func(r result) string { return r.afterRelease.Round(time.Millisecond).String() })
	row("lock timeouts", func(r result) string { return strconv.Itoa(r.lockTimeouts) })
	row("rollback decided", func(r result) string { return yesNo(r.rollback) })
	row("failed transactions", func(r result) string { return strconv.Itoa(r.failed) })
	for _, r := range rs {
		if r.note != "" {
			fmt.Fprintf(w, "%s: %s\n", r.name, r.note)
		}
	}
	if o.logs {
		for _, r := range rs {
			if len(r.log) > 0 {
				fmt.Fprintf(w, "%s's log:\n  %s\n", r.name, strings.Join(r.log, "\n  "))
			}
		}
	}
	if sc.expect != "" {
		fmt.Fprintf(w, "why the goal cannot be met here: %s\n", sc.expect)
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
