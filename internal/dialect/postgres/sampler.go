package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/quantile"
	"github.com/hotswap-db/hotswap/internal/dialect/servershare"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// ErrNoStatementStats means pg_stat_statements cannot be read in the
// sampled database (not installed, not in shared_preload_libraries, too old,
// or not readable): latency figures are zero until it can.
var ErrNoStatementStats = errors.New("postgres: pg_stat_statements unavailable")

const (
	// AgentQueryTag opens the text of every statement the agent runs, so
	// that the sampler can leave the agent's own statements out of
	// pg_stat_statements figures (they are matched by this prefix).
	AgentQueryTag = "/* hotswap-agent"
	// samplerTag opens the sampler's own query.
	samplerTag = AgentQueryTag + " sampler */"
	// maxTrackedStatements bounds the per-statement counters a Sampler keeps
	// for its percentile estimates: the statements with the most calls.
	maxTrackedStatements = 500
	// statementsRetry is how long a Sampler waits before trying
	// pg_stat_statements again after reading it failed.
	statementsRetry = time.Minute
	// reclassifyEvery is how often the agent's statements are looked for
	// in the query texts even when the set of statements looks unchanged.
	reclassifyEvery = 10 * time.Minute
	// maxOwnPending bounds the sampler's own transactions waiting to show in
	// pg_stat_database (see Sampler.ownPending): enough for a second of
	// samples 20 ms apart.
	maxOwnPending = 64
	// closeTimeout bounds the goodbye to the server in Close.
	closeTimeout = 5 * time.Second
)

// Sampler reads one PostgreSQL instance's native counters for the agent
// (pg_stat_statements, pg_stat_database, pg_stat_activity,
// pg_stat_replication and the standby's replay position) and turns them into
// domain.Sample figures for the interval since its previous reading. How
// each figure is computed is in docs/metrics.md.
//
// It runs one query per sample, a prepared statement whose text starts with
// AgentQueryTag (so it is left out of its own figures), on a session of its
// own: opened with the Conn's settings (application_name "hotswap-agent")
// on first use, reopened after a failure. A session of its own means one
// round trip per sample (a pooled session idle for a second would first be
// pinged), exactly one transaction of its own per sample (taken out of TPS),
// and no wait behind a pool that a migration keeps busy. When
// pg_stat_statements appears, goes or changes, that sample runs a second
// query; so does a sample with a statement not seen before, to read the
// fingerprint of its text (see sampler_texts.go).
//
// P95LatencyMs and P99LatencyMs are estimates: pg_stat_statements keeps no
// histogram. Each of the most called statements is modelled, for the
// interval, as a normal distribution with the interval's own mean (delta
// time over delta calls) and standard deviation (from the growth of the sum
// of squares, calls × (stddev² + mean²)), weighted by its calls in the
// interval; the estimate is the percentile of that mixture, found by
// bisection of its distribution function.
//
// A Sampler keeps the previous counters: it is meant for one goroutine and is
// not safe for concurrent use. Close ends its session; Conn.Close does not.
type Sampler struct {
	c       *Conn
	session *pgx.Conn
	// prepared lists the sampling queries prepared on session.
	prepared map[string]bool
	stmts    statementsSource
	prev     *reading
	// tracked holds the per-statement counters of the previous reading;
	// trackedAll says whether they were every statement of the database.
	tracked    map[stmtKey]stmtCounters
	trackedAll bool
	// ownPending counts the sampler's own transactions not yet seen in
	// pg_stat_database, whose counters a backend publishes up to a second
	// late; they are taken out of the next deltas.
	ownPending int64
	// texts are the statements' fingerprints (see sampler_texts.go).
	texts fingerprintCache
	now   func() time.Time
	// serverSeen is the number of the shared server-wide reading of the
	// previous sample (servershare.GetNewer).
	serverSeen uint64
}

var _ dialect.Sampler = (*Sampler)(nil)

// NewSampler returns a *Sampler of c's instance, as a dialect.Sampler. It
// does not connect: the first Sample opens its session and primes the
// deltas.
//
// A Sampler of a Conn opened with a shared cache (OpenShared) reads the
// server-wide part of its figures (sessions, lock waits, replication lag)
// with a query of its own, whose answer serves the samples of the server's
// other databases taken within serverSampleMaxAge, or in the same round
// (servershare.WithRound: the agent's samples of one tick): two queries
// for one database's sample, one for each other database's.
func (c *Conn) NewSampler() dialect.Sampler {
	return &Sampler{c: c, now: time.Now, stmts: statementsSource{serverApart: c.shared != nil}}
}

// serverSampleMaxAge is how long a reading of the server-wide figures
// serves the samples of the server's other databases: the agent samples
// the databases due in one tick one after the other, and its finest
// sampling interval is 50 ms, so a shared reading is never older than the
// interval of the finest sample it serves.
const serverSampleMaxAge = 50 * time.Millisecond

// serverReading is the server-wide part of a reading.
type serverReading struct {
	conns, active, waiters int64
	waitMs, lag            float64
	queuedBehindAgent      int64
}

// readServer returns the server-wide part, read on the Sampler's session
// unless another database's Sampler read it less than serverSampleMaxAge
// ago.
//
// A reading is never used twice by one Sampler: each of its samples sees
// the server as it is after the previous one.
func (s *Sampler) readServer(ctx context.Context) (serverReading, error) {
	sr, n, err := servershare.GetNewer(ctx, s.c.shared, s.c.server, "sample", serverSampleMaxAge, s.serverSeen,
		func(ctx context.Context) (serverReading, error) {
			var sr serverReading
			s.countOwnTransactions(serverSampleSQL)
			err := s.session.QueryRow(ctx, serverSampleSQL).Scan(&sr.conns, &sr.active, &sr.waiters,
				&sr.waitMs, &sr.lag, &sr.queuedBehindAgent)
			return sr, err
		})
	if err == nil {
		s.serverSeen = n
	}
	return sr, err
}

// Close ends the Sampler's session, if it has one. A later Sample opens a
// new one.
func (s *Sampler) Close() {
	if s.session == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	_ = s.session.Close(ctx)
	s.session, s.prepared = nil, nil
}

// LatencyUnavailable returns nil while pg_stat_statements is read, else an
// error wrapping ErrNoStatementStats that says why the latency figures are
// zero, so that the agent can report it when it changes. It is nil before
// the first Sample.
func (s *Sampler) LatencyUnavailable() error { return s.stmts.unavailable }

// Sample reads the counters and returns the figures for the interval since
// the previous call (see dialect.Sampler and docs/metrics.md). The first call
// primes the deltas: its rates and latencies are zero and IntervalMs is 0,
// but its gauges (connections, sessions, lock waits, replication lag) are
// filled. InstanceID, CPUPercent and DiskIOPS are left to the caller. Errors
// never hold a credential; a failure to reach the instance wraps
// dialect.ErrUnreachable.
func (s *Sampler) Sample(ctx context.Context) (domain.Sample, error) {
	cur, err := s.connectAndRead(ctx)
	if err != nil {
		return domain.Sample{}, s.c.scrub(fmt.Errorf("sample %s: %w", s.c.target, err))
	}
	sample := s.figures(&cur)
	s.remember(&cur)
	s.fingerprint(ctx, sample.Statements)
	return sample, nil
}

// connectAndRead opens the session if needed and reads the counters. A
// session that broke is dropped, to be reopened by the next Sample.
func (s *Sampler) connectAndRead(ctx context.Context) (reading, error) {
	if s.session == nil {
		conn, err := pgx.ConnectConfig(ctx, s.c.pool.Config().ConnConfig)
		if err != nil {
			return reading{}, fmt.Errorf("%w: connect: %w", dialect.ErrUnreachable, err)
		}
		s.session, s.prepared = conn, map[string]bool{}
	}
	r, err := s.read(ctx)
	if err != nil && s.session.IsClosed() {
		s.session, s.prepared = nil, nil
		return reading{}, fmt.Errorf("%w: %w", dialect.ErrUnreachable, err)
	}
	return r, err
}

// read runs the sampling query. When it finds that pg_stat_statements
// appeared, went away or changed, it switches queries and reads again at
// once, so that a reading always covers the statements as they are now.
func (s *Sampler) read(ctx context.Context) (reading, error) {
	for attempt := 0; ; attempt++ {
		retry := attempt < 2
		r, err := s.query(ctx)
		switch {
		case err != nil && retry && s.stmts.inUse() && isStatementsError(err):
			s.stmts.fail(err, s.now())
		case err != nil:
			return reading{}, err
		case retry && s.stmts.update(r.ext, s.now()):
		default:
			s.stmts.learn(&r)
			return r, nil
		}
	}
}

// query runs the sampling query once and scans its row.
func (s *Sampler) query(ctx context.Context) (reading, error) {
	var server serverReading
	if s.stmts.serverApart {
		var err error
		if server, err = s.readServer(ctx); err != nil {
			return reading{}, fmt.Errorf("server-wide figures: %w", err)
		}
	}
	r := reading{variant: s.stmts.variant()}
	var ext []string
	var reset pgtype.Timestamptz
	sql, args := s.stmts.sql(), s.stmts.args(s.now())
	s.countOwnTransactions(sql)
	err := s.session.QueryRow(ctx, sql, args...).Scan(
		&ext, &reset, &r.known.count, &r.known.hash, &r.known.ids,
		&r.stmtCount, &r.calls, &r.timeMs,
		&r.users, &r.ids, &r.stCalls, &r.stTimes, &r.stSumSq,
		&r.xacts, &r.deadlocks,
		&r.conns, &r.active, &r.waiters, &r.waitMs, &r.lag, &r.queuedBehindAgent)
	r.at = s.now()
	if err != nil {
		return reading{}, err
	}
	r.known.at = r.at
	if s.stmts.serverApart {
		r.serverReading = server
	}
	if len(ext) == 2 {
		r.ext = &extension{schema: ext[0], version: ext[1]}
	}
	if reset.Valid {
		r.stmtReset = reset.Time
	}
	if n := len(r.ids); n != len(r.users) || n != len(r.stCalls) || n != len(r.stTimes) || n != len(r.stSumSq) {
		return reading{}, errors.New("per-statement arrays of different lengths")
	}
	return r, nil
}

// countOwnTransactions adds the transactions that running sql is about to
// cost to ownPending: one, and one more to prepare it on first use (the
// server counts the Parse-Sync exchange as a transaction).
func (s *Sampler) countOwnTransactions(sql string) {
	n := int64(1)
	if !s.prepared[sql] {
		s.prepared[sql] = true
		n++
	}
	s.ownPending = min(s.ownPending+n, maxOwnPending)
}

// reading is one row of the sampling query.
type reading struct {
	at      time.Time
	variant string     // which pg_stat_statements the query read; "" none
	ext     *extension // pg_stat_statements as installed now; nil if not
	known   agentStatements

	stmtReset time.Time // pg_stat_statements_info.stats_reset (1.9+)
	stmtCount int64     // statements of the database (agent's excluded)
	calls     int64
	timeMs    float64
	// The most called statements: user, queryid and cumulative counters.
	users   []uint32
	ids     []int64
	stCalls []int64
	stTimes []float64
	stSumSq []float64 // sum of squared execution times

	xacts, deadlocks int64
	// serverReading is the server-wide part: sessions, lock waits, lag.
	serverReading
}

// figures computes the sample from the previous reading and cur.
func (s *Sampler) figures(cur *reading) domain.Sample {
	sample := domain.Sample{
		At:                    cur.at.UTC(),
		ActiveConnections:     int(cur.conns),
		ActiveSessions:        int(cur.active),
		LockWaiters:           int(cur.waiters),
		LockWaitMs:            max(cur.waitMs, 0),
		ReplicationLagSeconds: max(cur.lag, 0),
	}
	prev := s.prev
	if prev == nil {
		return sample
	}
	secs := cur.at.Sub(prev.at).Seconds()
	if secs <= 0 {
		return sample
	}
	sample.IntervalMs = secs * 1000
	sample.TPS = float64(s.transactions(prev, cur)) / secs
	sample.Deadlocks = max(cur.deadlocks-prev.deadlocks, 0)
	if lat, ok := s.latency(prev, cur); ok {
		sample.Calls = lat.calls
		sample.AvgLatencyMs = lat.avg
		sample.P95LatencyMs = lat.p95
		sample.P99LatencyMs = lat.p99
		sample.Statements = lat.statements
	}
	sample.QueuedBehindAgent = int(cur.queuedBehindAgent)
	return sample
}

// transactions returns the database's committed and rolled back
// transactions between prev and cur, less the sampler's own. A counter that
// went back (statistics reset, crash) yields 0.
func (s *Sampler) transactions(prev, cur *reading) int64 {
	// The current query's own transaction is not in cur yet.
	pending := s.ownPending - 1
	d := cur.xacts - prev.xacts
	if d < 0 {
		s.ownPending = 1
		return 0
	}
	own := min(d, pending)
	s.ownPending -= own
	return d - own
}

// remember keeps cur as the previous reading, with its statements.
func (s *Sampler) remember(cur *reading) {
	s.prev = cur
	s.trackedAll = cur.stmtCount <= int64(len(cur.ids))
	s.tracked = make(map[stmtKey]stmtCounters, len(cur.ids))
	for i, id := range cur.ids {
		s.tracked[stmtKey{user: cur.users[i], query: id}] = stmtCounters{
			calls: cur.stCalls[i], timeMs: cur.stTimes[i], sumSq: cur.stSumSq[i],
		}
	}
}

// latency is the latency figures of one interval.
type latency struct {
	calls         int64
	avg, p95, p99 float64
	statements    []domain.StatementSample
}

// latency computes the interval's statement figures. It reports false when
// there are none to give: pg_stat_statements unreadable in either reading,
// or reset (or entries evicted) in between.
func (s *Sampler) latency(prev, cur *reading) (latency, bool) {
	if cur.variant == "" || cur.variant != prev.variant || !cur.stmtReset.Equal(prev.stmtReset) {
		return latency{}, false
	}
	calls, timeMs := cur.calls-prev.calls, cur.timeMs-prev.timeMs
	if calls < 0 || timeMs < 0 {
		return latency{}, false
	}
	if calls == 0 {
		return latency{}, true
	}
	mix, stmts := s.mixture(cur, calls, timeMs)
	p95 := quantile.Mixture(mix, 0.95)
	return latency{
		calls:      calls,
		avg:        timeMs / float64(calls),
		p95:        p95,
		p99:        max(quantile.Mixture(mix, 0.99), p95),
		statements: stmts,
	}, true
}

// stmtKey identifies a pg_stat_statements entry within one database.
type stmtKey struct {
	user  uint32
	query int64
}

// stmtCounters are an entry's cumulative counters.
type stmtCounters struct {
	calls  int64
	timeMs float64
	sumSq  float64
}

// mixture builds the interval's latency components: one per tracked
// statement with calls in the interval, plus one point mass at the mean of
// the calls of untracked statements, so that the mixture's mean is the
// interval's mean latency. It also returns the tracked statements' own
// figures, the entries of one query id (one per user) merged.
func (s *Sampler) mixture(cur *reading, calls int64, timeMs float64) ([]quantile.Normal, []domain.StatementSample) {
	var mix []quantile.Normal
	byID := map[int64]quantile.Normal{}
	restCalls, restTime := calls, timeMs
	for i, id := range cur.ids {
		after := stmtCounters{calls: cur.stCalls[i], timeMs: cur.stTimes[i], sumSq: cur.stSumSq[i]}
		before, seen := s.tracked[stmtKey{user: cur.users[i], query: id}]
		if !seen && !s.trackedAll {
			continue // older than the interval, but not tracked until now
		}
		c, ok := intervalComponent(before, after)
		if !ok {
			continue
		}
		mix = append(mix, c)
		byID[id] = merge(byID[id], c)
		restCalls -= int64(c.Weight)
		restTime -= c.Weight * c.Mean
	}
	if restCalls > 0 && restTime >= 0 {
		mix = append(mix, quantile.Normal{Weight: float64(restCalls), Mean: restTime / float64(restCalls)})
	}
	return mix, statementSamples(byID)
}

// merge pools two components of one statement (one per user).
func merge(a, b quantile.Normal) quantile.Normal {
	w := a.Weight + b.Weight
	if a.Weight == 0 || w == 0 {
		return b
	}
	mean := (a.Weight*a.Mean + b.Weight*b.Mean) / w
	sq := a.Weight*(a.SD*a.SD+a.Mean*a.Mean) + b.Weight*(b.SD*b.SD+b.Mean*b.Mean)
	return quantile.Normal{Weight: w, Mean: mean, SD: math.Sqrt(max(sq/w-mean*mean, 0))}
}

// statementSamples lists the most called statements of the interval, at
// most domain.MaxSampleStatements.
func statementSamples(byID map[int64]quantile.Normal) []domain.StatementSample {
	out := make([]domain.StatementSample, 0, len(byID))
	for id, c := range byID {
		out = append(out, domain.StatementSample{ID: strconv.FormatInt(id, 10), Calls: int64(c.Weight), MeanMs: c.Mean, SDMs: c.SD})
	}
	slices.SortFunc(out, func(x, y domain.StatementSample) int {
		return cmp.Or(cmp.Compare(y.Calls, x.Calls), cmp.Compare(x.ID, y.ID))
	})
	return out[:min(len(out), domain.MaxSampleStatements)]
}

// intervalComponent models one statement's calls between two readings of
// its counters: their mean, and their standard deviation recovered from the
// growth of the sum of squares (falling back to the statement's lifetime
// deviation when rounding makes that meaningless). It reports false when
// the statement had no calls or its counters went back.
func intervalComponent(before, after stmtCounters) (quantile.Normal, bool) {
	n := after.calls - before.calls
	dt, dsq := after.timeMs-before.timeMs, after.sumSq-before.sumSq
	if n <= 0 || dt < 0 {
		return quantile.Normal{}, false
	}
	mean := dt / float64(n)
	variance := dsq/float64(n) - mean*mean
	if dsq < 0 || math.IsNaN(variance) || math.IsInf(variance, 0) {
		lifeMean := after.timeMs / float64(after.calls)
		variance = after.sumSq/float64(after.calls) - lifeMean*lifeMean
	}
	return quantile.Normal{Weight: float64(n), Mean: mean, SD: math.Sqrt(max(variance, 0))}, true
}

// extension is pg_stat_statements as installed in the sampled database.
type extension struct {
	schema, version string
}

// agentStatements is which pg_stat_statements entries are the agent's: the
// query ids whose text starts with AgentQueryTag, found when the entries
// had the given count and hash of query ids. Reading the texts is what
// costs most (the server reads its whole query-text file), so the sampling
// query reads them only when the entries changed since, or the finding is
// older than reclassifyEvery.
type agentStatements struct {
	count, hash int64 // count < 0: never found
	ids         []int64
	at          time.Time
}

// statementsSource tracks whether and how the sampling query reads
// pg_stat_statements. The query text depends on the extension's schema and
// version, so the sampler finds them (in every reading) and switches query
// when they change.
type statementsSource struct {
	ext         *extension // in use; nil: the query does not read it
	query       string     // the sampling query for ext
	agent       agentStatements
	asked       agentStatements // the count and hash the last query was given
	unavailable error           // why ext is nil, once known
	retryAt     time.Time       // no new attempt before, after a failure
	// serverApart: the query leaves the server-wide part out, read apart.
	serverApart bool
}

// inUse reports whether the sampling query reads pg_stat_statements.
func (src *statementsSource) inUse() bool { return src.ext != nil }

// variant names the pg_stat_statements the query reads ("" for none).
func (src *statementsSource) variant() string {
	if src.ext == nil {
		return ""
	}
	return src.ext.schema + "/" + src.ext.version
}

// sql returns the sampling query to run now.
func (src *statementsSource) sql() string {
	if src.query == "" {
		src.query = samplingSQL(src.ext, src.serverApart)
	}
	return src.query
}

// args returns the sampling query's arguments: what is known of the
// agent's statements, with a count of -1 to have them found again.
func (src *statementsSource) args(now time.Time) []any {
	if src.ext == nil {
		return nil
	}
	a := src.agent
	if a.ids == nil || now.Sub(a.at) > reclassifyEvery {
		a.count = -1
	}
	src.asked = a
	return []any{a.count, a.hash, append([]int64{}, a.ids...)}
}

// learn keeps what a reading found of the agent's statements, when its
// query looked for them in the texts (the entries were not those it was
// asked about).
func (src *statementsSource) learn(r *reading) {
	if r.variant == "" || r.variant != src.variant() {
		return
	}
	if r.known.count != src.asked.count || r.known.hash != src.asked.hash {
		src.agent = r.known
		if src.agent.ids == nil {
			src.agent.ids = []int64{}
		}
	}
}

// fail stops reading pg_stat_statements after err, until statementsRetry
// has passed.
func (src *statementsSource) fail(err error, now time.Time) {
	src.disable(fmt.Errorf("%w: reading it failed (next try in %s): %w", ErrNoStatementStats, statementsRetry, err))
	src.retryAt = now.Add(statementsRetry)
}

// disable makes the sampling query leave pg_stat_statements out, noting why.
func (src *statementsSource) disable(why error) {
	if src.ext != nil {
		src.use(nil)
	}
	src.unavailable = why
}

// use makes the sampling query read ext (nil: none), forgetting what was
// known of the agent's statements.
func (src *statementsSource) use(ext *extension) {
	src.ext, src.query, src.agent = ext, "", agentStatements{count: -1}
}

// errNotInstalled is why latency figures are missing from a database
// without pg_stat_statements.
var errNotInstalled = fmt.Errorf("%w: the extension is not installed in this database (CREATE EXTENSION pg_stat_statements)", ErrNoStatementStats)

// update compares the query in use with the extension found installed and
// switches query when they differ. It reports whether it switched.
func (src *statementsSource) update(found *extension, now time.Time) bool {
	wasInUse := src.ext != nil
	switch {
	case found == nil:
		src.disable(errNotInstalled)
		return wasInUse
	case wasInUse && *found == *src.ext:
		return false
	case !wasInUse && now.Before(src.retryAt):
		return false
	case !supportedVersion(found.version):
		src.disable(fmt.Errorf("%w: extension version %s is older than 1.8 (ALTER EXTENSION pg_stat_statements UPDATE)", ErrNoStatementStats, found.version))
		src.retryAt = now.Add(statementsRetry)
		return wasInUse
	}
	src.use(found)
	src.unavailable, src.retryAt = nil, time.Time{}
	return true
}

// supportedVersion reports whether pg_stat_statements version v (as in
// pg_extension) has the *_exec_time columns, that is 1.8 or later.
func supportedVersion(v string) bool { return compareVersion(v, "1.8") >= 0 }

// compareVersion compares two dotted numeric versions.
func compareVersion(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		if c := cmp.Compare(versionPart(as, i), versionPart(bs, i)); c != 0 {
			return c
		}
	}
	return 0
}

// versionPart returns the i-th number of a split version, 0 past its end.
func versionPart(parts []string, i int) int {
	if i >= len(parts) {
		return 0
	}
	n, _ := strconv.Atoi(parts[i])
	return n
}

// isStatementsError reports whether err is the server refusing to read
// pg_stat_statements: missing relation, function, column or schema, the
// library not preloaded, or no privilege.
func isStatementsError(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "42P01", "42883", "42703", "3F000", "55000", "42501":
		return true
	}
	return false
}

// samplingSQL returns the sampling query, reading pg_stat_statements as
// installed (ext) or not at all (nil). One statement, one round trip:
//
//   - st: the database's top-level statements, read without their texts,
//     with the sum of squares of their execution times
//     (calls * (stddev² + mean²));
//   - known: their count and a hash of their query ids, to notice new ones;
//   - agent: the agent's query ids: $3 as the sampler knows them when the
//     count and hash are still $1 and $2, else found again in the texts
//     (the only part that reads them);
//   - app: st without the agent's; agg: their total calls and time; hot,
//     per: the most called of them;
//   - db: pg_stat_database's transactions and deadlocks;
//   - act: client sessions other than the agent's, the active ones, the
//     ones waiting on a heavyweight lock and the longest of those waits,
//     and those of them blocked by an agent session that itself waits for
//     a lock (pg_blocking_pids, called only then);
//   - the replication lag, of the standbys on a primary, its own on a
//     standby;
//   - the extension's schema and version, to notice it being installed,
//     dropped or updated.
//
// A Sampler that shares the server-wide part (act and the lag) with the
// server's other databases reads it apart (serverSampleSQL): its query has
// zeros in their place.
func samplingSQL(ext *extension, serverApart bool) string {
	st, agent, reset := noStatementsSQL, noAgentSQL, "NULL::timestamptz"
	if ext != nil {
		st, agent, reset = statementsSQL(ext)
	}
	act, lag := activitySQL, lagSQL
	if serverApart {
		act, lag = noActivitySQL, noLagSQL
	}
	return fmt.Sprintf(samplingTemplate, samplerTag, st, agent, maxTrackedStatements, reset, act, lag)
}

// statementsSQL returns the st and agent CTEs and the stats_reset
// expression for the pg_stat_statements found installed.
func statementsSQL(ext *extension) (st, agent, reset string) {
	schema := pgx.Identifier{ext.schema}.Sanitize()
	topLevel, reset := "", "NULL::timestamptz"
	if compareVersion(ext.version, "1.9") >= 0 {
		topLevel = "AND s.toplevel"
		reset = "(SELECT stats_reset FROM " + schema + ".pg_stat_statements_info)"
	}
	st = fmt.Sprintf(`SELECT s.userid, s.queryid, s.calls, s.total_exec_time,
			s.calls * (s.stddev_exec_time ^ 2 + s.mean_exec_time ^ 2) AS sum_sq
		FROM %s.pg_stat_statements(false) s
		WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) %s`, schema, topLevel)
	agent = fmt.Sprintf(`SELECT CASE WHEN known.n = $1 AND known.hash = $2 THEN $3::int8[]
			ELSE (SELECT coalesce(array_agg(DISTINCT t.queryid), '{}') FROM %s.pg_stat_statements(true) t
				WHERE t.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
					AND t.queryid IS NOT NULL AND t.query LIKE '%s%%')
			END AS ids FROM known`, schema, AgentQueryTag)
	return st, agent, reset
}

// noStatementsSQL and noAgentSQL stand for pg_stat_statements when it
// cannot be read.
const (
	noStatementsSQL = `SELECT NULL::oid AS userid, NULL::int8 AS queryid, 0::int8 AS calls,
			0::float8 AS total_exec_time, 0::float8 AS sum_sq WHERE false`
	noAgentSQL = `SELECT '{}'::int8[] AS ids`
)

// samplingTemplate is the sampling query; see samplingSQL.
const samplingTemplate = `%[1]s
WITH st AS MATERIALIZED (
		%[2]s
	),
	known AS MATERIALIZED (
		SELECT count(*) AS n, coalesce(sum((queryid %% 1000000007)::int4), 0)::int8 AS hash FROM st
	),
	agent AS MATERIALIZED (
		%[3]s
	),
	app AS MATERIALIZED (
		SELECT st.* FROM st, agent WHERE st.queryid IS NULL OR st.queryid <> ALL (agent.ids)
	),
	hot AS (SELECT * FROM app WHERE queryid IS NOT NULL ORDER BY calls DESC LIMIT %[4]d)
SELECT
	(SELECT ARRAY[n.nspname::text, e.extversion] FROM pg_extension e
		JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'),
	%[5]s,
	known.n, known.hash, agent.ids,
	agg.n, agg.calls, agg.time_ms,
	per.users, per.ids, per.calls, per.times, per.sum_sq,
	db.xacts, db.deadlocks,
	act.conns, act.active, act.waiters, act.wait_ms,
	%[7]s,
	act.queued_behind_agent
FROM known, agent,
	(SELECT count(queryid) AS n, coalesce(sum(calls), 0)::int8 AS calls,
		coalesce(sum(total_exec_time), 0)::float8 AS time_ms FROM app) agg,
	(SELECT array_agg(userid) AS users, array_agg(queryid) AS ids, array_agg(calls) AS calls,
		array_agg(total_exec_time) AS times, array_agg(sum_sq) AS sum_sq FROM hot) per,
	(SELECT coalesce(sum(xact_commit + xact_rollback), 0)::int8 AS xacts,
		coalesce(sum(deadlocks), 0)::int8 AS deadlocks
		FROM pg_stat_database WHERE datname = current_database()) db,
	%[6]s act`

// The server-wide part of a sample: the client sessions other than the
// agent's (over every database of the server), the active ones, the ones
// waiting on a heavyweight lock and the longest of those waits, and those
// of them blocked by an agent session that itself waits for a lock
// (pg_blocking_pids, called only then); and the replication lag, of the
// standbys on a primary, its own on a standby.
const (
	activitySQL = `(SELECT count(*) AS conns,
		count(*) FILTER (WHERE state = 'active') AS active,
		count(*) FILTER (WHERE wait_event_type = 'Lock') AS waiters,
		coalesce(1000 * max(extract(epoch FROM now() - coalesce(state_change, query_start)))
			FILTER (WHERE wait_event_type = 'Lock'), 0)::float8 AS wait_ms,
		count(*) FILTER (WHERE CASE WHEN wait_event_type = 'Lock' AND cardinality(aw.pids) > 0
			THEN pg_blocking_pids(pid) && aw.pids ELSE false END) AS queued_behind_agent
		FROM pg_stat_activity,
			(SELECT coalesce(array_agg(pid), '{}') AS pids FROM pg_stat_activity
				WHERE application_name = '` + ApplicationName + `' AND wait_event_type = 'Lock') aw
		WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
			AND application_name IS DISTINCT FROM '` + ApplicationName + `')`
	lagSQL = `CASE WHEN pg_is_in_recovery() THEN
		CASE WHEN coalesce(pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn(), false) THEN 0
		ELSE coalesce(greatest(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8, 0), 0)
		END
	ELSE coalesce((SELECT max(extract(epoch FROM replay_lag))::float8 FROM pg_stat_replication), 0)
	END`
	// noActivitySQL and noLagSQL stand for the server-wide part in the
	// query of a Sampler that reads it apart (serverSampleSQL).
	noActivitySQL = `(SELECT 0::int8 AS conns, 0::int8 AS active, 0::int8 AS waiters, 0::float8 AS wait_ms,
		0::int8 AS queued_behind_agent)`
	noLagSQL = `0::float8`
	// serverSampleSQL reads the server-wide part alone.
	serverSampleSQL = samplerTag + `
SELECT act.conns, act.active, act.waiters, act.wait_ms, ` + lagSQL + `, act.queued_behind_agent
FROM ` + activitySQL + ` act`
)
