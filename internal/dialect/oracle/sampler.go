package oracle

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
}

var _ dialect.Sampler = (*Sampler)(nil)

// NewSampler returns a Sampler of the instance. It connects on its first
// Sample.
func (c *Conn) NewSampler() dialect.Sampler { return &Sampler{c: c} }

// counters are one reading of the cumulative figures a sample takes
// deltas of, and of the system metrics.
type counters struct {
	at    time.Time
	stats map[string]int64 // v$sysstat
	// sql are the application's statements by sql_id (v$sqlarea).
	sql map[string]sqlStat
	// responseCs is v$sysmetric's Response Time Per Txn (centiseconds),
	// hostCPU its Host CPU Utilization (%); -1 when not read.
	responseCs, hostCPU float64
}

// sqlStat is one statement's cumulative executions and elapsed time.
type sqlStat struct {
	executions int64
	elapsedUs  float64
}

// The sampler's queries.
const (
	sysstatSQL = `SELECT name, value FROM v$sysstat WHERE name IN ('user commits', 'user rollbacks', 'enqueue deadlocks')`
	// sysmetricSQL reads the last 60-second interval (group 2, System
	// Metrics Long Duration).
	sysmetricSQL = `SELECT metric_name, value FROM v$sysmetric WHERE group_id = 2
	AND metric_name IN ('Response Time Per Txn', 'Host CPU Utilization (%)')`
	// sqlareaSQL reads the application's statements: queries, DML and
	// PL/SQL calls (command types 2, 3, 6, 7, 47, 189), not the agent's
	// (its module), not SYS's recursive ones.
	sqlareaSQL = `SELECT sql_id, executions, elapsed_time FROM v$sqlarea
	WHERE executions > 0 AND command_type IN (2, 3, 6, 7, 47, 189)
	AND NVL(module, '-') <> :1 AND parsing_schema_name NOT IN ('SYS', 'SYSTEM', 'HOTSWAP')`
	// sessionsSQL counts the user sessions, the active ones, those waiting
	// on a row or table lock (enq: TX, enq: TM) with the longest wait so
	// far, and those blocked by one of the agent's sessions.
	sessionsSQL = `SELECT COUNT(*),
	NVL(SUM(CASE WHEN s.status = 'ACTIVE' THEN 1 ELSE 0 END), 0),
	NVL(SUM(CASE WHEN s.state = 'WAITING' AND (s.event LIKE 'enq: TX%' OR s.event LIKE 'enq: TM%') THEN 1 ELSE 0 END), 0),
	NVL(MAX(CASE WHEN s.state = 'WAITING' AND (s.event LIKE 'enq: TX%' OR s.event LIKE 'enq: TM%') THEN s.wait_time_micro END), 0),
	NVL(SUM(CASE WHEN b.program = :1 THEN 1 ELSE 0 END), 0)
	FROM v$session s LEFT JOIN v$session b ON b.sid = s.blocking_session
	WHERE s.type = 'USER' AND NVL(s.program, '-') <> :2`
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
	cur, err := readCounters(ctx, s.conn)
	if err != nil {
		return domain.Sample{}, err
	}
	out := domain.Sample{At: cur.at.UTC()}
	if err := readSessions(ctx, s.conn, &out); err != nil {
		return out, err
	}
	lag, err := readApplyLag(ctx, s.conn)
	if err != nil && !denied(err) {
		return out, err
	}
	out.ReplicationLagSeconds = lag
	if s.prev != nil {
		deltas(s.prev, cur, &out)
	}
	s.prev = cur
	return out, nil
}

// readCounters reads v$sysstat, v$sysmetric and v$sqlarea. A view the
// account may not read leaves its figures out (the preflight says why).
func readCounters(ctx context.Context, q queryer) (*counters, error) {
	cur := &counters{at: time.Now(), stats: map[string]int64{}, sql: map[string]sqlStat{}, responseCs: -1, hostCPU: -1}
	err := eachRow(ctx, q, sysstatSQL, nil, func(scan func(...any) error) error {
		var name string
		var v int64
		err := scan(&name, &v)
		cur.stats[name] = v
		return err
	})
	if err != nil && !denied(err) {
		return nil, fmt.Errorf("read v$sysstat: %w", err)
	}
	err = eachRow(ctx, q, sysmetricSQL, nil, func(scan func(...any) error) error {
		var name string
		var v float64
		err := scan(&name, &v)
		if name == "Response Time Per Txn" {
			cur.responseCs = v
		} else {
			cur.hostCPU = v
		}
		return err
	})
	if err != nil && !denied(err) {
		return nil, fmt.Errorf("read v$sysmetric: %w", err)
	}
	err = eachRow(ctx, q, sqlareaSQL, []any{ProgramName}, func(scan func(...any) error) error {
		var id string
		var st sqlStat
		err := scan(&id, &st.executions, &st.elapsedUs)
		cur.sql[id] = st
		return err
	})
	if err != nil && !denied(err) {
		return nil, fmt.Errorf("read v$sqlarea: %w", err)
	}
	return cur, nil
}

// eachRow runs query and calls row for each row.
func eachRow(ctx context.Context, q queryer, query string, args []any, row func(scan func(...any) error) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// readSessions fills the session counts and lock waits.
func readSessions(ctx context.Context, q queryer, out *domain.Sample) error {
	var waitUs float64
	err := q.QueryRowContext(ctx, sessionsSQL, ProgramName, ProgramName).
		Scan(&out.ActiveConnections, &out.ActiveSessions, &out.LockWaiters, &waitUs, &out.QueuedBehindAgent)
	if denied(err) {
		return nil // no SELECT on v$session: the figures are unknown, left at zero (the preflight says why)
	}
	if err != nil {
		return fmt.Errorf("read v$session: %w", err)
	}
	out.LockWaitMs = waitUs / 1000
	return nil
}

// deltas fills the interval's rates and latencies from two readings.
// Latency is per statement from v$sqlarea deltas: the mean is the
// interval's elapsed time over its executions, and p95/p99 are estimated
// from the statements' means weighted by executions (v$sqlarea keeps no
// spread). Without statement figures the mean is v$sysmetric's Response
// Time Per Txn, a per-transaction figure.
func deltas(prev, cur *counters, out *domain.Sample) {
	secs := cur.at.Sub(prev.at).Seconds()
	out.IntervalMs = secs * 1000
	if secs <= 0 {
		return
	}
	d := func(name string) int64 { return max(cur.stats[name]-prev.stats[name], 0) }
	out.TPS = float64(d("user commits")+d("user rollbacks")) / secs
	out.Deadlocks = d("enqueue deadlocks")
	if cur.hostCPU >= 0 {
		out.CPUPercent = cur.hostCPU
	}
	var mix []quantile.Normal
	var elapsedUs float64
	for id, c := range cur.sql {
		p, seen := prev.sql[id]
		dc, de := c.executions-p.executions, c.elapsedUs-p.elapsedUs
		if !seen || dc <= 0 || de < 0 {
			continue // new in the cursor cache, aged out and back, or idle: no delta
		}
		out.Calls += dc
		elapsedUs += de
		mean := de / float64(dc) / 1000
		mix = append(mix, quantile.Normal{Weight: float64(dc), Mean: mean})
		out.Statements = append(out.Statements, domain.StatementSample{ID: id, Fingerprint: id, Calls: dc, MeanMs: mean})
	}
	switch {
	case out.Calls > 0:
		out.AvgLatencyMs = elapsedUs / float64(out.Calls) / 1000
		out.P95LatencyMs, out.P99LatencyMs = quantile.Mixture(mix, 0.95), quantile.Mixture(mix, 0.99)
	case cur.responseCs >= 0:
		out.AvgLatencyMs = cur.responseCs * 10
	}
	topStatements(out)
}

// topStatements keeps the most executed statements, most first.
func topStatements(out *domain.Sample) {
	slices.SortFunc(out.Statements, func(a, b domain.StatementSample) int {
		return cmp.Or(cmp.Compare(b.Calls, a.Calls), cmp.Compare(a.ID, b.ID))
	})
	if len(out.Statements) > domain.MaxSampleStatements {
		out.Statements = out.Statements[:domain.MaxSampleStatements]
	}
}

// Close ends the sampler's session.
func (s *Sampler) Close() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}
