package sqlserver

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/quantile"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// Sampler reads one instance's counters; see dialect.Sampler and
// docs/metrics.md for how each figure is computed.
type Sampler struct {
	c    *Conn
	conn *sql.Conn
	prev *counters
	now  func() time.Time // the clock readings are stamped with
}

var _ dialect.Sampler = (*Sampler)(nil)

// NewSampler returns a Sampler of the instance. It connects on its first
// Sample.
func (c *Conn) NewSampler() dialect.Sampler { return &Sampler{c: c, now: time.Now} }

// counters are the cumulative figures a sample takes deltas of.
type counters struct {
	at time.Time
	// transactions and deadlocks are the Transactions/sec counter of the
	// database and Number of Deadlocks/sec of _Total (cumulative, despite
	// their names).
	transactions, deadlocks int64
	// lockWaits and lockWaitMs are the LCK_M_* rows of sys.dm_os_wait_stats
	// summed: waits completed and their total time.
	lockWaits, lockWaitMs int64
	// queries are sys.dm_exec_query_stats summed by query_hash.
	queries map[string]queryStat
}

// queryStat is one query_hash's cumulative executions and elapsed time.
type queryStat struct {
	calls  int64
	micros int64
}

// The sampler's queries. Every one carries agentTag, which the query-stats
// reading leaves out.
const (
	queryStatsSQL = agentTag + `SELECT CONVERT(varchar(18), qs.query_hash, 1), SUM(qs.execution_count), SUM(qs.total_elapsed_time)
	FROM sys.dm_exec_query_stats qs CROSS APPLY sys.dm_exec_sql_text(qs.sql_handle) st
	WHERE st.text NOT LIKE N'%` + ProgramName + `%'
	GROUP BY qs.query_hash`
	lockWaitStatsSQL = agentTag + `SELECT CAST(COALESCE(SUM(waiting_tasks_count), 0) AS bigint), CAST(COALESCE(SUM(wait_time_ms), 0) AS bigint)
	FROM sys.dm_os_wait_stats WHERE wait_type LIKE N'LCK[_]M[_]%'`
	perfCountersSQL = agentTag + `SELECT
	CAST(COALESCE(MAX(CASE WHEN counter_name = N'Transactions/sec' THEN cntr_value END), 0) AS bigint),
	CAST(COALESCE(MAX(CASE WHEN counter_name = N'Number of Deadlocks/sec' THEN cntr_value END), 0) AS bigint)
	FROM sys.dm_os_performance_counters
	WHERE (object_name LIKE N'%:Databases%' AND counter_name = N'Transactions/sec' AND instance_name = DB_NAME())
	OR (object_name LIKE N'%:Locks%' AND counter_name = N'Number of Deadlocks/sec' AND instance_name = N'_Total')`
	// requestsSQL reads, for the application's sessions (not the agent's):
	// how many are connected, how many run a request, how many of those
	// wait for a lock and the longest such wait so far, and how many wait
	// behind an agent session that itself waits for a lock.
	requestsSQL = agentTag + `SELECT
	(SELECT count(*) FROM sys.dm_exec_sessions s WHERE s.is_user_process = 1 AND s.program_name <> N'` + ProgramName + `'),
	(SELECT count(*) FROM sys.dm_exec_requests r JOIN sys.dm_exec_sessions s ON s.session_id = r.session_id
		WHERE s.is_user_process = 1 AND s.program_name <> N'` + ProgramName + `' AND r.status IN (N'running', N'runnable', N'suspended')),
	(SELECT count(*) FROM sys.dm_exec_requests r JOIN sys.dm_exec_sessions s ON s.session_id = r.session_id
		WHERE s.is_user_process = 1 AND s.program_name <> N'` + ProgramName + `' AND r.wait_type LIKE N'LCK[_]M[_]%'),
	(SELECT CAST(COALESCE(MAX(r.wait_time), 0) AS bigint) FROM sys.dm_exec_requests r JOIN sys.dm_exec_sessions s ON s.session_id = r.session_id
		WHERE s.is_user_process = 1 AND s.program_name <> N'` + ProgramName + `' AND r.wait_type LIKE N'LCK[_]M[_]%'),
	(SELECT count(*) FROM sys.dm_exec_requests r JOIN sys.dm_exec_sessions b ON b.session_id = r.blocking_session_id
		WHERE b.program_name = N'` + ProgramName + `' AND r.wait_type LIKE N'LCK[_]M[_]%'
		AND EXISTS (SELECT 1 FROM sys.dm_exec_requests ar WHERE ar.session_id = b.session_id AND ar.wait_type LIKE N'LCK[_]M[_]%'))`
)

// Sample returns the figures of the interval since the previous call.
func (s *Sampler) Sample(ctx context.Context) (domain.Sample, error) {
	if err := s.connect(ctx); err != nil {
		return domain.Sample{}, s.c.scrub(err)
	}
	out, err := s.sample(ctx)
	if err != nil {
		_ = s.conn.Close()
		s.conn = nil
		return domain.Sample{}, s.c.scrub(fmt.Errorf("sample %s: %w", s.c.target, err))
	}
	return out, nil
}

// connect opens the sampler's own session.
func (s *Sampler) connect(ctx context.Context) error {
	if s.conn != nil {
		return nil
	}
	conn, err := s.c.session(ctx)
	if err != nil {
		return fmt.Errorf("sample %s: %w", s.c.target, err)
	}
	s.conn = conn
	return nil
}

// sample reads the counters and the instantaneous figures.
func (s *Sampler) sample(ctx context.Context) (domain.Sample, error) {
	cur, err := readCounters(ctx, s.conn, s.now())
	if err != nil {
		return domain.Sample{}, err
	}
	out := domain.Sample{At: cur.at.UTC()}
	if err := readRequests(ctx, s.conn, &out); err != nil {
		return out, err
	}
	if err := s.replicationLag(ctx, &out); err != nil {
		return out, err
	}
	if s.prev != nil {
		deltas(s.prev, cur, &out)
	}
	s.prev = cur
	return out, nil
}

// readCounters reads the cumulative counters.
func readCounters(ctx context.Context, q queryer, at time.Time) (*counters, error) {
	cur := &counters{at: at, queries: map[string]queryStat{}}
	if err := q.QueryRowContext(ctx, perfCountersSQL).Scan(&cur.transactions, &cur.deadlocks); err != nil {
		return nil, fmt.Errorf("performance counters: %w", err)
	}
	if err := q.QueryRowContext(ctx, lockWaitStatsSQL).Scan(&cur.lockWaits, &cur.lockWaitMs); err != nil {
		return nil, fmt.Errorf("lock wait statistics: %w", err)
	}
	rows, err := q.QueryContext(ctx, queryStatsSQL)
	if err != nil {
		return nil, fmt.Errorf("query statistics: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var hash string
		var st queryStat
		if err := rows.Scan(&hash, &st.calls, &st.micros); err != nil {
			return nil, fmt.Errorf("query statistics: %w", err)
		}
		cur.queries[hash] = st
	}
	return cur, rows.Err()
}

// readRequests fills the instantaneous figures of sys.dm_exec_requests.
func readRequests(ctx context.Context, q queryer, out *domain.Sample) error {
	var longestMs int64
	err := q.QueryRowContext(ctx, requestsSQL).Scan(&out.ActiveConnections, &out.ActiveSessions, &out.LockWaiters,
		&longestMs, &out.QueuedBehindAgent)
	if err != nil {
		return fmt.Errorf("requests: %w", err)
	}
	out.LockWaitMs = float64(longestMs)
	return nil
}

// replicationLag is the worst lag of the database's availability group
// (see Probe); nothing outside one.
func (s *Sampler) replicationLag(ctx context.Context, out *domain.Sample) error {
	ag, err := readAGState(ctx, s.conn)
	if err != nil || !ag.inGroup {
		return err
	}
	links, err := readReplicaLinks(ctx, s.conn, ag)
	if err != nil {
		return err
	}
	for _, l := range links {
		out.ReplicationLagSeconds = max(out.ReplicationLagSeconds, l.LagSeconds)
	}
	return nil
}

// deltas fills the interval's rates, lock waits and latency from two
// readings. A query_hash whose counts went down (its plan left the cache
// and came back) is left out of the interval.
func deltas(prev, cur *counters, out *domain.Sample) {
	secs := cur.at.Sub(prev.at).Seconds()
	out.IntervalMs = secs * 1000
	if secs <= 0 {
		return
	}
	out.TPS = float64(max(cur.transactions-prev.transactions, 0)) / secs
	out.Deadlocks = max(cur.deadlocks-prev.deadlocks, 0)
	if waits := cur.lockWaits - prev.lockWaits; waits > 0 && cur.lockWaitMs >= prev.lockWaitMs {
		out.LockWaitMs = max(out.LockWaitMs, float64(cur.lockWaitMs-prev.lockWaitMs)/float64(waits))
	}
	stmts := queryDeltas(prev.queries, cur.queries)
	var calls int64
	var micros float64
	mix := make([]quantile.Normal, 0, len(stmts))
	for _, st := range stmts {
		calls += st.Calls
		micros += st.MeanMs * 1000 * float64(st.Calls)
		mix = append(mix, quantile.Normal{Mean: st.MeanMs, Weight: float64(st.Calls)})
	}
	out.Calls = calls
	if calls > 0 {
		out.AvgLatencyMs = micros / 1000 / float64(calls)
		out.P95LatencyMs, out.P99LatencyMs = quantile.Mixture(mix, 0.95), quantile.Mixture(mix, 0.99)
	}
	out.Statements = stmts[:min(len(stmts), domain.MaxSampleStatements)]
}

// queryDeltas are the query hashes that completed calls in the interval,
// most called first, each with its mean elapsed time. SQL Server keeps no
// sum of squares per statement, so SDMs is 0: each statement counts as
// its mean.
func queryDeltas(prev, cur map[string]queryStat) []domain.StatementSample {
	var out []domain.StatementSample
	for hash, c := range cur {
		p := prev[hash]
		dc, dm := c.calls-p.calls, c.micros-p.micros
		if dc <= 0 || dm < 0 {
			continue
		}
		out = append(out, domain.StatementSample{ID: hash, Fingerprint: hash, Calls: dc, MeanMs: float64(dm) / float64(dc) / 1000})
	}
	slices.SortFunc(out, func(a, b domain.StatementSample) int {
		return cmp.Or(cmp.Compare(b.Calls, a.Calls), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// Close ends the sampler's session.
func (s *Sampler) Close() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}
