package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
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

// counters are the cumulative figures a sample takes deltas of.
type counters struct {
	at       time.Time
	status   map[string]int64
	digests  map[string]digest
	mariadb  bool
	hasPerfS bool
}

// digest is one statement digest's cumulative calls and time.
type digest struct {
	calls int64
	picos float64
}

// statusNames are the SHOW GLOBAL STATUS counters a sample reads.
var statusNames = []string{"Questions", "Com_commit", "Com_rollback", "Threads_running", "Threads_connected",
	"Innodb_row_lock_time", "Innodb_row_lock_waits", "Innodb_row_lock_current_waits", "Innodb_deadlocks"}

// agentDigestFilter leaves out the digests of the agent's own queries
// (performance_schema, information_schema, the history schema, SHOW, SET,
// KILL) and the DDL it runs: digests are not recorded per session.
const agentDigestFilter = `DIGEST_TEXT IS NOT NULL
	AND DIGEST_TEXT NOT LIKE '%performance_schema%' AND DIGEST_TEXT NOT LIKE '%information_schema%'
	AND DIGEST_TEXT NOT LIKE '%hotswap%' AND DIGEST_TEXT NOT LIKE 'SHOW %' AND DIGEST_TEXT NOT LIKE 'SET %'
	AND DIGEST_TEXT NOT LIKE 'KILL %' AND DIGEST_TEXT NOT LIKE 'SELECT @@%' AND DIGEST_TEXT NOT LIKE 'SELECT CONNECTION_ID%'
	AND DIGEST_TEXT NOT LIKE 'ALTER %' AND DIGEST_TEXT NOT LIKE 'CREATE %' AND DIGEST_TEXT NOT LIKE 'DROP %'
	AND DIGEST_TEXT NOT LIKE 'RENAME %' AND DIGEST_TEXT NOT LIKE 'TRUNCATE %'`

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
	cur, err := s.readCounters(ctx)
	if err != nil {
		return domain.Sample{}, err
	}
	out := domain.Sample{At: cur.at.UTC()}
	out.ActiveConnections, err = countClients(ctx, s.conn)
	if err != nil {
		return out, err
	}
	out.ActiveSessions = int(max(cur.status["Threads_running"]-1, 0))
	if err := s.lockWaits(ctx, &out); err != nil {
		return out, err
	}
	ups, err := readReplicaStatus(ctx, s.conn, cur.mariadb)
	if err != nil {
		return out, err
	}
	for _, u := range ups {
		out.ReplicationLagSeconds = max(out.ReplicationLagSeconds, u.lag)
	}
	if s.prev != nil {
		deltas(s.prev, cur, &out)
	}
	s.prev = cur
	return out, nil
}

// readCounters reads SHOW GLOBAL STATUS and the statement digests.
func (s *Sampler) readCounters(ctx context.Context) (*counters, error) {
	cur := &counters{at: time.Now(), status: map[string]int64{}, digests: map[string]digest{}}
	var version string
	if err := s.conn.QueryRowContext(ctx, `SELECT VERSION(), @@performance_schema`).Scan(&version, &cur.hasPerfS); err != nil {
		return nil, fmt.Errorf("server version: %w", err)
	}
	cur.mariadb = containsFold(version, "mariadb")
	rows, err := readByName(ctx, s.conn, "SHOW GLOBAL STATUS")
	if err != nil {
		return nil, fmt.Errorf("global status: %w", err)
	}
	for _, r := range rows {
		name := r.get("Variable_name")
		if slices.Contains(statusNames, name) {
			cur.status[name], _ = strconv.ParseInt(r.get("Value"), 10, 64)
		}
	}
	if cur.hasPerfS {
		if err := s.readDigests(ctx, cur); err != nil {
			return nil, err
		}
	}
	return cur, nil
}

// readDigests reads the application's statement digests.
func (s *Sampler) readDigests(ctx context.Context, cur *counters) error {
	rows, err := s.conn.QueryContext(ctx, `SELECT CONCAT(COALESCE(SCHEMA_NAME, ''), '/', DIGEST), COUNT_STAR, SUM_TIMER_WAIT
		FROM performance_schema.events_statements_summary_by_digest WHERE `+agentDigestFilter)
	if _, ok := denied(err); ok {
		cur.hasPerfS = false // the account may not read them: no latency (the preflight says why)
		return nil
	}
	if err != nil {
		return fmt.Errorf("statement digests: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var d digest
		if err := rows.Scan(&key, &d.calls, &d.picos); err != nil {
			return fmt.Errorf("statement digests: %w", err)
		}
		cur.digests[key] = d
	}
	return rows.Err()
}

// lockWaits counts the sessions waiting for a lock now (metadata locks in
// the process list, row locks in INNODB_TRX) and the longest wait so far.
func (s *Sampler) lockWaits(ctx context.Context, out *domain.Sample) error {
	stmt := func(exclude func(string) string) string {
		return `SELECT
		(SELECT count(*) FROM information_schema.PROCESSLIST p WHERE p.STATE LIKE 'Waiting for%lock%' AND ` + exclude("p.ID") + `),
		(SELECT COALESCE(MAX(p.TIME), 0) FROM information_schema.PROCESSLIST p WHERE p.STATE LIKE 'Waiting for%lock%' AND ` + exclude("p.ID") + `),
		(SELECT count(*) FROM information_schema.INNODB_TRX x WHERE x.trx_state = 'LOCK WAIT'),
		(SELECT COALESCE(MAX(TIMESTAMPDIFF(MICROSECOND, x.trx_wait_started, NOW(6))), 0) FROM information_schema.INNODB_TRX x WHERE x.trx_state = 'LOCK WAIT')`
	}
	var mdlWaiters, rowWaiters int
	var mdlSecs, rowMicros float64
	rows, err := queryNotAgent(ctx, s.conn, stmt)
	if err := scanOne(rows, err, &mdlWaiters, &mdlSecs, &rowWaiters, &rowMicros); err != nil {
		if _, ok := denied(err); ok {
			return nil // no PROCESS: the figures are unknown, left at zero (the preflight says why)
		}
		return fmt.Errorf("lock waits: %w", err)
	}
	out.LockWaiters = mdlWaiters + rowWaiters
	out.LockWaitMs = max(mdlSecs*1000, rowMicros/1000)
	return nil
}

// deltas fills the interval's rates and latency from two readings.
func deltas(prev, cur *counters, out *domain.Sample) {
	secs := cur.at.Sub(prev.at).Seconds()
	out.IntervalMs = secs * 1000
	if secs <= 0 {
		return
	}
	d := func(name string) int64 { return max(cur.status[name]-prev.status[name], 0) }
	out.TPS = float64(d("Com_commit")+d("Com_rollback")) / secs
	out.Deadlocks = d("Innodb_deadlocks")
	var means []weighted
	var calls int64
	var picos float64
	for k, c := range cur.digests {
		p := prev.digests[k]
		dc, dp := c.calls-p.calls, c.picos-p.picos
		if dc <= 0 || dp < 0 {
			continue
		}
		calls += dc
		picos += dp
		means = append(means, weighted{ms: dp / float64(dc) / 1e9, calls: dc})
	}
	out.Calls = calls
	if calls > 0 {
		out.AvgLatencyMs = picos / float64(calls) / 1e9
		out.P95LatencyMs, out.P99LatencyMs = weightedQuantile(means, 0.95), weightedQuantile(means, 0.99)
	}
}

// weighted is one digest's mean latency over the interval and its calls.
type weighted struct {
	ms    float64
	calls int64
}

// weightedQuantile estimates a latency quantile from the digests' means,
// each counted once per call: an estimate that ignores the spread within
// a digest (docs/metrics.md).
func weightedQuantile(ws []weighted, p float64) float64 {
	slices.SortFunc(ws, func(a, b weighted) int {
		switch {
		case a.ms < b.ms:
			return -1
		case a.ms > b.ms:
			return 1
		}
		return 0
	})
	var total int64
	for _, w := range ws {
		total += w.calls
	}
	rank := int64(p*float64(total) + 0.999999)
	var seen int64
	for _, w := range ws {
		seen += w.calls
		if seen >= rank {
			return w.ms
		}
	}
	return 0
}

// Close ends the sampler's session.
func (s *Sampler) Close() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}
