package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/postgres"
	"github.com/hotswap-db/hotswap/internal/dialect/servershare"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// The application sessions of these tests; the agent's carry
// postgres.ApplicationName.
const samplerApp = "orders-service"

// TestSampler runs the sampler's cases one after the other against one
// server: its figures are instance- or database-wide, so cases must not
// overlap. Autovacuum is off so that only the cases' sessions run
// transactions.
func TestSampler(t *testing.T) {
	t.Parallel()
	p := testbed.StartPostgres(t, testbed.PostgresOptions{Settings: map[string]string{"autovacuum": "off"}})
	runSamplerCases(t, p, open(t, p.DSN("app")))
}

// TestSamplerSharedServer runs the same cases with a Conn that reads the
// server-wide figures apart, to share them with the server's other
// databases (OpenShared): every figure, the lock-queue guard's included,
// is as it is alone.
func TestSamplerSharedServer(t *testing.T) {
	t.Parallel()
	p := testbed.StartPostgres(t, testbed.PostgresOptions{Settings: map[string]string{"autovacuum": "off"}})
	runSamplerCases(t, p, openShared(t, p.DSN("app"), servershare.New()))
}

func runSamplerCases(t *testing.T, p *testbed.Postgres, c *postgres.Conn) {
	cases := []struct {
		name string
		run  func(t *testing.T, p *testbed.Postgres, c *postgres.Conn)
	}{
		{"WorkloadLatencyAndTPS", testSamplerWorkload},
		{"PercentileEstimates", testSamplerPercentiles},
		{"PercentilesOfTheInterval", testSamplerIntervalSpread},
		{"AgentExcluded", testSamplerExcludesAgent},
		{"IdleHasNoTransactions", testSamplerIdle},
		{"SessionsAndLockWaits", testSamplerLocks},
		{"PerStatement", testSamplerStatements},
		{"QueuedBehindAgent", testSamplerQueuedBehindAgent},
		{"Fingerprints", testSamplerFingerprints},
		{"StatisticsReset", testSamplerReset},
		{"WithoutPgStatStatements", testSamplerWithoutStatements},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			waitSample(t, newSampler(t, c), "the previous case's sessions to end", func(s domain.Sample) bool {
				return s.ActiveConnections == 0
			})
			tc.run(t, p, c)
		})
	}
}

// testSamplerWorkload runs a query of 10 ms on a table in a loop and checks
// the interval's calls, mean latency, percentiles and TPS against what the
// workload did. (A session that reads no table holds its transaction counts
// back from pg_stat_database until it does.)
func testSamplerWorkload(t *testing.T, p *testbed.Postgres, c *postgres.Conn) {
	execSQL(t, p.DSN("app"), "CREATE TABLE sampler_one (x int)", "INSERT INTO sampler_one VALUES (1)")
	w := startStmtLoop(t, p.DSN("app"), "SELECT pg_sleep(0.01) FROM sampler_one")
	// Past the workload's first second, whose counters are published at
	// once, so both ends of the interval lag alike.
	w.waitCalls(t, 120)
	s := newSampler(t, c)
	// The workload's count is read before and after each sample: on a busy
	// machine a sample takes a while, and the statements that completed in
	// the interval lie between the two brackets' differences.
	n0a := w.calls()
	first, n0 := takeSample(t, s), w.calls()
	if first.IntervalMs != 0 || first.Calls != 0 || first.AvgLatencyMs != 0 || first.TPS != 0 {
		t.Errorf("first sample = %+v, want a priming sample without rates", first)
	}
	if first.ActiveConnections != 1 {
		t.Errorf("ActiveConnections = %d with one application session, want 1", first.ActiveConnections)
	}
	w.waitCalls(t, n0+250)
	n1a := w.calls()
	got, n1 := takeSample(t, s), w.calls()
	w.stop()
	t.Logf("sample: %+v; workload ran %d to %d statements", got, n1a-n0, n1-n0a)

	if lo, hi := n1a-n0-3, n1-n0a+3; got.Calls < lo || got.Calls > hi {
		t.Errorf("Calls = %d, the workload completed %d to %d statements in the interval", got.Calls, lo+3, hi-3)
	}
	if got.AvgLatencyMs < 8 || got.AvgLatencyMs > 30 {
		t.Errorf("AvgLatencyMs = %v for 10 ms statements, want 8..30", got.AvgLatencyMs)
	}
	if hi := spreadBound(got); got.P95LatencyMs < got.AvgLatencyMs || got.P99LatencyMs < got.P95LatencyMs || got.P99LatencyMs > hi {
		t.Errorf("avg/p95/p99 = %v/%v/%v, want avg <= p95 <= p99 <= %.1f (the slowest statement's mean + 3 SD)",
			got.AvgLatencyMs, got.P95LatencyMs, got.P99LatencyMs, hi)
	}
	// A backend publishes its pg_stat_database counters up to a second
	// late: over 2.5 s, TPS is within 1/2.5 = 40% of the true rate.
	rate := float64(n1-n0) / (got.IntervalMs / 1000)
	if got.TPS < 0.5*rate || got.TPS > 1.5*rate {
		t.Errorf("TPS = %v, the workload ran %.1f transactions per second", got.TPS, rate)
	}
	if got.IntervalMs < 2000 || got.Deadlocks != 0 || got.LockWaiters != 0 {
		t.Errorf("interval/deadlocks/lock waiters = %v/%d/%d, want >= 2000/0/0", got.IntervalMs, got.Deadlocks, got.LockWaiters)
	}
}

// testSamplerPercentiles runs a fast statement nine times out of ten and a
// slow one the tenth: the 95th and 99th percentiles are the slow one's
// latency, far above the mean.
func testSamplerPercentiles(t *testing.T, p *testbed.Postgres, c *postgres.Conn) {
	fast, slow := "SELECT pg_sleep(0.002)", "SELECT pg_sleep(0.05), 'slow'"
	w := startStmtLoop(t, p.DSN("app"), fast, fast, fast, fast, fast, fast, fast, fast, fast, slow)
	w.waitCalls(t, 20)
	s := newSampler(t, c)
	takeSample(t, s)
	w.waitCalls(t, w.calls()+200)
	got := takeSample(t, s)
	w.stop()
	t.Logf("sample: %+v", got)
	if got.AvgLatencyMs < 4 || got.AvgLatencyMs > 15 {
		t.Errorf("AvgLatencyMs = %v, want about 0.9*2+0.1*50 = 6.8", got.AvgLatencyMs)
	}
	// The upper bound is what the interval's own figures allow: a busy
	// host spreads the 50 ms sleeps (seen: mean 56 ms, SD 22 ms).
	hi := spreadBound(got)
	if got.P95LatencyMs < 40 || got.P95LatencyMs > hi {
		t.Errorf("P95LatencyMs = %v, want about 50 (one call in ten takes 50 ms), at most %.1f", got.P95LatencyMs, hi)
	}
	if got.P99LatencyMs < got.P95LatencyMs || got.P99LatencyMs > hi {
		t.Errorf("P99LatencyMs = %v, want between P95 (%v) and %.1f (the slowest statement's mean + 3 SD)",
			got.P99LatencyMs, got.P95LatencyMs, hi)
	}
}

// spreadBound is the highest latency a sample's estimates may reach from
// its own statements' figures: the slowest statement's mean plus three
// standard deviations.
func spreadBound(got domain.Sample) float64 {
	hi := 0.0
	for _, st := range got.Statements {
		hi = max(hi, st.MeanMs+3*st.SDMs)
	}
	return hi
}

// testSamplerIntervalSpread runs one statement 300 times at 2 ms, then,
// after the first sample, 100 times of which one in ten takes 50 ms: the
// estimates follow the spread of the interval (mean 6.8 ms, standard
// deviation 14.4 ms, so P95 about 30 ms), not the statement's quieter
// lifetime (P95 about 19 ms). Then a statement first run in the interval
// is modelled from all its counters too.
func testSamplerIntervalSpread(t *testing.T, p *testbed.Postgres, c *postgres.Conn) {
	app := connect(t, p.DSN("app"), samplerApp)
	run := func(sql string, calls int, slowEvery int) {
		for i := range calls {
			seconds := 0.002
			if i%slowEvery == slowEvery-1 {
				seconds = 0.05
			}
			if _, err := app.Exec(t.Context(), sql, seconds); err != nil {
				t.Fatal(err)
			}
		}
	}
	const old, brandNew = "SELECT pg_sleep($1::float8), 'spread'", "SELECT pg_sleep($1::float8) WHERE true"
	run(old, 300, 1000)
	s := newSampler(t, c)
	takeSample(t, s)
	for _, sql := range []string{old, brandNew} {
		run(sql, 100, 10)
		got := takeSample(t, s)
		if got.Calls != 100 || got.P95LatencyMs < 25 || got.P95LatencyMs > 45 || got.P99LatencyMs < got.P95LatencyMs || got.P99LatencyMs > 60 {
			t.Errorf("%s: calls %d, p95 %v, p99 %v: want 100 calls, p95 in 25..45 (the interval's spread), p99 in p95..60",
				sql, got.Calls, got.P95LatencyMs, got.P99LatencyMs)
		}
	}
}

// testSamplerExcludesAgent runs slow statements through the agent's pool,
// tagged as the agent's, next to a few application statements: only the
// latter count, and the agent's sessions are neither connections nor
// active sessions. The agent's statement differs in structure from the
// application's: pg_stat_statements keys entries on a query id that ignores
// comments, so a statement the application also runs shares its entry, and
// its text, with the application's (see docs/metrics.md).
func testSamplerExcludesAgent(t *testing.T, p *testbed.Postgres, c *postgres.Conn) {
	s := newSampler(t, c)
	takeSample(t, s)
	const burst = 8
	var wg sync.WaitGroup
	for range burst {
		wg.Go(func() {
			if _, err := c.Pool().Exec(t.Context(), "/* hotswap-agent test */ SELECT count(*) FROM pg_sleep(0.3)"); err != nil {
				t.Errorf("agent statement: %v", err)
			}
		})
	}
	observer := connect(t, p.DSN("postgres"), postgres.ApplicationName)
	waitFor(t, "the agent's statements to run", func() bool {
		var n int
		err := observer.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = $1 AND state = 'active' AND query LIKE '%pg_sleep(0.3)%'`, postgres.ApplicationName).Scan(&n)
		return err == nil && n >= 2
	})
	during := takeSample(t, s)
	if during.ActiveConnections != 0 || during.ActiveSessions != 0 {
		t.Errorf("while only the agent works: connections/active = %d/%d, want 0/0", during.ActiveConnections, during.ActiveSessions)
	}
	wg.Wait()
	app := connect(t, p.DSN("app"), samplerApp)
	for range 3 {
		if _, err := app.Exec(t.Context(), "SELECT pg_sleep(0.01)"); err != nil {
			t.Fatal(err)
		}
	}
	got := takeSample(t, s)
	if got.Calls != 3 || got.AvgLatencyMs < 8 || got.AvgLatencyMs > 30 || got.P99LatencyMs > 60 {
		t.Errorf("after %d agent statements of 300 ms and 3 application ones of 10 ms: calls %d, avg/p95/p99 %v/%v/%v; want 3 calls of about 10 ms",
			burst, got.Calls, got.AvgLatencyMs, got.P95LatencyMs, got.P99LatencyMs)
	}
	if during.Calls != 0 {
		t.Errorf("Calls = %d while only the agent and the sampler ran statements, want 0", during.Calls)
	}
}

// testSamplerIdle checks that the sampler's own transactions do not show as
// the database's: an idle database has no TPS.
func testSamplerIdle(t *testing.T, _ *testbed.Postgres, c *postgres.Conn) {
	s := newSampler(t, c)
	takeSample(t, s)
	var xacts float64
	for range 2 {
		// Longer than the second a backend may hold its counters back.
		time.Sleep(1100 * time.Millisecond)
		got := takeSample(t, s)
		xacts += got.TPS * got.IntervalMs / 1000
		if got.Calls != 0 || got.ActiveConnections != 0 || got.ActiveSessions != 0 {
			t.Errorf("idle database: calls/connections/active = %d/%d/%d, want 0/0/0", got.Calls, got.ActiveConnections, got.ActiveSessions)
		}
	}
	if xacts > 0.5 {
		t.Errorf("an idle database shows %.1f transactions over two intervals, want 0 (the sampler's own are left out)", xacts)
	}
}

// testSamplerLocks blocks an application session (and one of the agent's)
// behind a table lock and checks the lock waiters, the longest wait, the
// connections and the active sessions.
func testSamplerLocks(t *testing.T, p *testbed.Postgres, c *postgres.Conn) {
	execSQL(t, p.DSN("app"), "CREATE TABLE sampler_lock (id int)")
	holder, waiter := connect(t, p.DSN("app"), samplerApp), connect(t, p.DSN("app"), samplerApp)
	connect(t, p.DSN("app"), samplerApp) // idle
	execOn(t, holder, "BEGIN", "LOCK TABLE sampler_lock IN ACCESS EXCLUSIVE MODE")
	blockedAt := time.Now()
	done := make(chan error, 2)
	go func() { _, err := waiter.Exec(t.Context(), "SELECT * FROM sampler_lock"); done <- err }()
	go func() {
		_, err := c.Pool().Exec(t.Context(), "/* hotswap-agent test */ SELECT * FROM sampler_lock")
		done <- err
	}()
	s := newSampler(t, c)
	got := waitSample(t, s, "a lock wait of a second", func(s domain.Sample) bool { return s.LockWaitMs >= 1000 })
	if waited := float64(time.Since(blockedAt).Milliseconds()); got.LockWaitMs > waited+100 {
		t.Errorf("LockWaitMs = %v, the session has waited %v ms", got.LockWaitMs, waited)
	}
	if got.LockWaiters != 1 || got.ActiveConnections != 3 || got.ActiveSessions != 1 {
		t.Errorf("lock waiters/connections/active = %d/%d/%d, want 1/3/1 (the agent's waiter left out)",
			got.LockWaiters, got.ActiveConnections, got.ActiveSessions)
	}
	execOn(t, holder, "COMMIT")
	for range 2 {
		if err := <-done; err != nil {
			t.Fatalf("blocked statement: %v", err)
		}
	}
	if got := takeSample(t, s); got.LockWaiters != 0 || got.LockWaitMs != 0 {
		t.Errorf("after the lock was released: waiters %d, wait %v ms, want 0, 0", got.LockWaiters, got.LockWaitMs)
	}
}

// testSamplerReset resets one statement of pg_stat_statements, then all of
// them and the database's counters, between samples: the interval has no
// latency figures and nothing is negative, even when the counters grew past
// their old values again; the next interval is measured again.
func testSamplerReset(t *testing.T, p *testbed.Postgres, c *postgres.Conn) {
	app := connect(t, p.DSN("app"), samplerApp)
	run := func(n int) {
		for range n {
			execOn(t, app, "SELECT pg_sleep(0.001)")
		}
	}
	s := newSampler(t, c)
	run(20)
	takeSample(t, s)
	// A reset of one statement leaves stats_reset alone: the totals drop.
	execOn(t, app, `SELECT pg_stat_statements_reset(0, 0, queryid) FROM pg_stat_statements
		WHERE query = 'SELECT pg_sleep($1)'`)
	run(3)
	assertNoFigures(t, "one statement reset", takeSample(t, s))
	run(20)
	takeSample(t, s)
	execOn(t, app, "SELECT pg_stat_statements_reset()", "SELECT pg_stat_reset()")
	run(3)
	assertNoFigures(t, "counters below their previous values", takeSample(t, s))
	run(3)
	takeSample(t, s)
	execOn(t, app, "SELECT pg_stat_statements_reset()")
	run(30) // past the counters of the previous sample
	assertNoFigures(t, "counters reset and grown again", takeSample(t, s))
	run(10)
	if got := takeSample(t, s); got.Calls != 10 || got.AvgLatencyMs <= 0 {
		t.Errorf("the interval after a reset: calls %d, avg %v, want 10 calls measured", got.Calls, got.AvgLatencyMs)
	}
}

// assertNoFigures checks a sample taken across a reset: no latency figures,
// nothing negative.
func assertNoFigures(t *testing.T, what string, got domain.Sample) {
	t.Helper()
	if got.Calls != 0 || got.AvgLatencyMs != 0 || got.P95LatencyMs != 0 || got.P99LatencyMs != 0 {
		t.Errorf("%s: calls %d, avg/p95/p99 %v/%v/%v, want no latency figures", what,
			got.Calls, got.AvgLatencyMs, got.P95LatencyMs, got.P99LatencyMs)
	}
	if got.TPS < 0 || got.Deadlocks < 0 || got.IntervalMs <= 0 {
		t.Errorf("%s: TPS %v, deadlocks %d, interval %v: want no negative figure", what, got.TPS, got.Deadlocks, got.IntervalMs)
	}
}

// testSamplerWithoutStatements samples a database without
// pg_stat_statements (no error, no latency, the reason noted), then
// installs it: the sampler starts reading it.
func testSamplerWithoutStatements(t *testing.T, p *testbed.Postgres, _ *postgres.Conn) {
	execSQL(t, p.DSN("app"), "CREATE DATABASE nostats")
	c := open(t, p.DSN("nostats"))
	s := newSampler(t, c)
	app := connect(t, p.DSN("nostats"), samplerApp)
	takeSample(t, s)
	execOn(t, app, "SELECT pg_sleep(0.01)")
	got := takeSample(t, s)
	if err := s.LatencyUnavailable(); !errors.Is(err, postgres.ErrNoStatementStats) || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("LatencyUnavailable() = %v, want ErrNoStatementStats saying it is not installed", err)
	}
	if got.Calls != 0 || got.IntervalMs <= 0 || got.ActiveConnections < 1 {
		t.Errorf("without pg_stat_statements: %+v, want no calls but the other figures", got)
	}
	execOn(t, app, "CREATE EXTENSION pg_stat_statements")
	takeSample(t, s)
	if err := s.LatencyUnavailable(); err != nil {
		t.Errorf("LatencyUnavailable() = %v once the extension is installed, want nil", err)
	}
	execOn(t, app, "SELECT pg_sleep(0.01)", "SELECT pg_sleep(0.01)")
	if got := takeSample(t, s); got.Calls != 2 {
		t.Errorf("Calls = %d after installing pg_stat_statements and running 2 statements, want 2", got.Calls)
	}
}

func TestSamplerNotPreloaded(t *testing.T) {
	t.Parallel()
	p := testbed.StartPostgres(t, testbed.PostgresOptions{Settings: map[string]string{"shared_preload_libraries": ""}})
	c := open(t, p.DSN("app"))
	s := newSampler(t, c)
	app := connect(t, p.DSN("app"), samplerApp)
	takeSample(t, s)
	execOn(t, app, "SELECT 1")
	got := takeSample(t, s)
	err := s.LatencyUnavailable()
	if !errors.Is(err, postgres.ErrNoStatementStats) || !strings.Contains(err.Error(), "shared_preload_libraries") {
		t.Errorf("LatencyUnavailable() = %v, want ErrNoStatementStats quoting the server", err)
	}
	if got.Calls != 0 || got.IntervalMs <= 0 || got.ActiveConnections < 1 {
		t.Errorf("sample = %+v, want no calls but the other figures", got)
	}
}

func TestSamplerStandbyLag(t *testing.T) {
	t.Parallel()
	primary := testbed.StartPostgres(t, testbed.PostgresOptions{})
	standby := primary.StartStandby(t)
	ps, ss := newSampler(t, open(t, primary.DSN("app"))), newSampler(t, open(t, standby.DSN("app")))
	execSQL(t, primary.DSN("app"), "CREATE TABLE sampler_lag (id int)", "INSERT INTO sampler_lag VALUES (1)")
	waitFor(t, "the standby to replay sampler_lag", func() bool {
		var n int
		return tryQueryRow(standby.DSN("app"), "SELECT count(*) FROM sampler_lag", &n) == nil && n == 1
	})
	waitSample(t, ss, "a caught-up standby to show no lag", func(s domain.Sample) bool { return s.ReplicationLagSeconds == 0 })
	execSQL(t, standby.DSN("app"), "SELECT pg_wal_replay_pause()")
	execSQL(t, primary.DSN("app"), "INSERT INTO sampler_lag VALUES (2)")
	paused := waitSample(t, ss, "the lag to pass a second", func(s domain.Sample) bool { return s.ReplicationLagSeconds > 1 })
	later := waitSample(t, ss, "the lag to keep growing", func(s domain.Sample) bool {
		return s.ReplicationLagSeconds > paused.ReplicationLagSeconds+0.2
	})
	t.Logf("standby lag %v s then %v s; primary sees %v s", paused.ReplicationLagSeconds, later.ReplicationLagSeconds,
		takeSample(t, ps).ReplicationLagSeconds)
	execSQL(t, standby.DSN("app"), "SELECT pg_wal_replay_resume()")
	waitSample(t, ss, "the lag back to 0 after replay resumed", func(s domain.Sample) bool { return s.ReplicationLagSeconds == 0 })
	if got := takeSample(t, ps); got.ReplicationLagSeconds < 0 || got.ReplicationLagSeconds > 60 {
		t.Errorf("primary lag = %v, want a small non-negative figure", got.ReplicationLagSeconds)
	}
}

func TestSamplerUnreachable(t *testing.T) {
	t.Parallel()
	port, err := testbed.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	const password = "Sampler-s3cret"
	c := open(t, fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/app?sslmode=disable&connect_timeout=2", testbed.PostgresUser, password, port))
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	got, err := newSampler(t, c).Sample(ctx)
	if !errors.Is(err, dialect.ErrUnreachable) || strings.Contains(err.Error(), password) {
		t.Errorf("Sample error = %v, want ErrUnreachable without the password", err)
	}
	if b, _ := json.Marshal(got); strings.Contains(string(b), password) {
		t.Errorf("sample holds the password: %s", b)
	}
}

// BenchmarkSample measures one Sample (one query round trip) with few
// statements in pg_stat_statements, and with 2,000 statements of up to 6 kB
// of text (an ORM's worth). It reports the server's execution time of the
// sampling query (pg_stat_statements' mean_exec_time) as db-ms/op.
func BenchmarkSample(b *testing.B) {
	p := testbed.StartPostgres(b, testbed.PostgresOptions{})
	c, err := postgres.Open(b.Context(), p.DSN("app"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	admin := benchConnect(b, p.DSN("app"))
	b.Run("statements=few", func(b *testing.B) { benchmarkSample(b, admin, c) })
	fillStatements(b, admin, 2000)
	b.Run("statements=2000", func(b *testing.B) { benchmarkSample(b, admin, c) })
}

// benchmarkSample times Sample and reports the sampling query's mean
// execution time on the server.
func benchmarkSample(b *testing.B, admin *pgx.Conn, c *postgres.Conn) {
	s := newSampler(b, c)
	takeSample(b, s)
	var before [2]float64
	if err := admin.QueryRow(b.Context(), samplerStatsSQL).Scan(&before[0], &before[1]); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Sample(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	var after [2]float64
	if err := admin.QueryRow(b.Context(), samplerStatsSQL).Scan(&after[0], &after[1]); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric((after[0]-before[0])/(after[1]-before[1]), "db-ms/op")
}

// samplerStatsSQL reads the sampling query's total execution time and calls.
const samplerStatsSQL = `SELECT coalesce(sum(total_exec_time), 0), coalesce(sum(calls), 0)::float8
	FROM pg_stat_statements WHERE query LIKE '/* hotswap-agent sampler */%'`

// benchConnect opens an application session closed at the end of tb.
func benchConnect(tb testing.TB, dsn string) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(tb.Context(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// fillStatements runs n distinct statements with long texts (IN lists of
// growing length), so that pg_stat_statements holds n more entries.
func fillStatements(tb testing.TB, conn *pgx.Conn, n int) {
	var list strings.Builder
	for i := range n {
		fmt.Fprintf(&list, ",%d", i)
		sql := fmt.Sprintf("SELECT count(*) FROM (VALUES (1)) v(x) WHERE x IN (0%s)", list.String())
		if _, err := conn.Exec(tb.Context(), sql, pgx.QueryExecModeSimpleProtocol); err != nil {
			tb.Fatal(err)
		}
	}
}

// newSampler returns a sampler of c closed at the end of the test.
func newSampler(tb testing.TB, c *postgres.Conn) *postgres.Sampler {
	s := c.NewSampler().(*postgres.Sampler)
	tb.Cleanup(s.Close)
	return s
}

// takeSample takes a sample, failing the test on error.
func takeSample(tb testing.TB, s *postgres.Sampler) domain.Sample {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), waitTimeout)
	defer cancel()
	got, err := s.Sample(ctx)
	if err != nil {
		tb.Fatalf("sample: %v", err)
	}
	return got
}

// waitSample samples until ok holds, failing the test after waitTimeout.
func waitSample(t *testing.T, s *postgres.Sampler, what string, ok func(domain.Sample) bool) domain.Sample {
	t.Helper()
	var got domain.Sample
	waitFor(t, what, func() bool {
		got = takeSample(t, s)
		return ok(got)
	})
	return got
}

// execOn runs stmts on conn, failing the test on error.
func execOn(t *testing.T, conn *pgx.Conn, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := conn.Exec(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// stmtLoop runs statements in a loop on an application session and counts
// those completed.
type stmtLoop struct {
	done   atomic.Int64
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startStmtLoop runs sqls in turn, over and over, until stop or the end of
// the test.
func startStmtLoop(t *testing.T, dsn string, sqls ...string) *stmtLoop {
	t.Helper()
	conn := connect(t, dsn, samplerApp)
	ctx, cancel := context.WithCancel(t.Context())
	w := &stmtLoop{cancel: cancel}
	w.wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			if _, err := conn.Exec(ctx, sqls[i%len(sqls)]); err != nil {
				if ctx.Err() == nil {
					t.Errorf("workload: %v", err)
				}
				return
			}
			w.done.Add(1)
		}
	})
	t.Cleanup(w.stop)
	return w
}

// calls returns how many statements the workload completed.
func (w *stmtLoop) calls() int64 { return w.done.Load() }

// waitCalls waits until the workload has completed n statements.
func (w *stmtLoop) waitCalls(t *testing.T, n int64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d workload statements", n), func() bool { return w.calls() >= n })
}

// stop ends the workload and waits for it.
func (w *stmtLoop) stop() {
	w.cancel()
	w.wg.Wait()
}
