// Package replay replays a read-only workload against a database instance
// and measures its latency, for the Shadow strategy: the agent replays the
// same workload on the shadow instance before and after the schema change,
// and Compare decides whether the rollout may go on.
//
// The package holds what every engine shares and links no database driver:
// the workload, the read-only filter, the replay loop and its measurements,
// and the comparison the control plane makes. An engine that can replay
// implements Session (one statement, read-only, rolled back) and hands it to
// Run; an engine that can capture a workload from its own statistics feeds
// the statements to a Collector.
//
// A workload comes from a file (ParseFile), from the engine's statement
// statistics (an engine's capture, through a Collector) or from the
// server's statement log (CaptureLog). Whatever its source, the replay never
// writes: a statement is kept only when its parse tree shows a read
// (CheckReadOnly), and the engine's Session runs each one in a read-only
// transaction that it rolls back, tagged with Marker so that HotSwap's own
// samplers and captures leave it out. The statements are PostgreSQL
// syntax, checked on PostgreSQL's parser: the only engine that replays yet.
//
// Latencies are measured by the client around each statement (network round
// trip and result transfer included) and the percentiles are exact: taken
// from all the sorted measurements, not estimated.
package replay

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hotswap-db/hotswap/internal/dialect/quantile"
)

const (
	// Marker is the comment Run puts in front of every statement it
	// replays, so that samplers and captures (which skip queries starting
	// with "/* hotswap-agent") leave the replay out.
	Marker = "/* hotswap-agent replay */"
	// ApplicationName is the application_name of the replay's transactions.
	ApplicationName = "hotswap-agent replay"

	defaultTimeout = 30 * time.Second
	maxFailures    = 10
	maxFailureText = 300
)

// Workload is a list of read-only statements to replay, each runnable as it
// is (no parameters).
type Workload struct {
	// Statements are single read-only statements.
	Statements []string
	// Skipped counts the statements of the source left out: refused as not
	// read-only, or (captures) not runnable as captured or catalog noise.
	Skipped int
	// Sampled counts the kept statements whose parameters ($n) took values
	// sampled from their table (captures from normalised statistics).
	Sampled int
	// CoveredCalls and TotalCalls are, for a capture from statistics, the
	// calls of the kept statements and of every statement of the source
	// (HotSwap's own left out); TotalCalls is 0 when the source has none.
	CoveredCalls, TotalCalls int64
}

// Share is the part (0..1) of the source's calls the kept statements
// cover; ok is false when the source counts no calls.
func (w Workload) Share() (float64, bool) {
	if w.TotalCalls <= 0 {
		return 0, false
	}
	return float64(w.CoveredCalls) / float64(w.TotalCalls), true
}

// add keeps stmt when g reads it as read-only, else counts it as skipped.
func (w *Workload) add(g Grammar, stmt string) {
	if g.CheckReadOnly(stmt) != nil {
		w.Skipped++
		return
	}
	w.Statements = append(w.Statements, stmt)
}

// ParseFile reads a workload file in g's SQL: statements separated by
// semicolons, comments allowed. Statements that are not read-only are
// skipped and counted in Skipped; a file that does not parse is an error.
func ParseFile(r io.Reader, g Grammar) (Workload, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return Workload{}, fmt.Errorf("read workload file: %w", err)
	}
	stmts, err := g.Split(string(b))
	if err != nil {
		return Workload{}, fmt.Errorf("workload file: %w", err)
	}
	var w Workload
	for _, s := range stmts {
		w.add(g, s)
	}
	return w, nil
}

// Options tunes Run.
type Options struct {
	// Iterations is the number of passes over the workload; 0 means 1.
	Iterations int
	// Concurrency is the number of sessions replaying at once; 0 means 1.
	Concurrency int
	// Timeout bounds each statement (statement_timeout); 0 means 30 s.
	Timeout time.Duration
	// Grammar re-checks each statement before it is sent; nil means
	// PostgreSQL.
	Grammar Grammar
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	o.Iterations = max(o.Iterations, 1)
	o.Concurrency = max(o.Concurrency, 1)
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.Grammar == nil {
		o.Grammar = PostgreSQL
	}
	return o
}

// Result is what a replay measured. Percentiles and mean are over the
// statements that succeeded, in milliseconds, less each statement's
// slowest fifth of its runs (two of ten): one stall of a busy host hits a
// run or two, a slower plan hits every run, so the figures keep the
// second and drop the first. A percentile is the nearest-rank value of
// the sorted latencies (an observed latency).
type Result struct {
	Runs   int // statements that succeeded, and were timed
	Errors int // statements that failed (timeouts included)

	P50Ms, P95Ms, P99Ms, MeanMs float64

	// Skipped counts workload statements refused as not read-only: never
	// sent to the server.
	Skipped int
	// Failures lists up to 10 distinct failing statements, with the first
	// error of each: a statement that fails after a change is a finding.
	Failures []Failure
}

// Failure is a statement that failed during a replay.
type Failure struct {
	Statement string // the statement, shortened when long
	Error     string // its first error
	Count     int    // how many times it failed
}

// Session runs one replayed statement on an engine's instance: in its own
// read-only transaction that it rolls back, with the engine's statement
// timeout set to timeout and the session named ApplicationName where the
// engine names sessions, waiting at most a few seconds past timeout on the
// client side. It returns how long the statement itself took. Ping checks
// that the instance can be reached. A Session is used from several
// goroutines at once.
type Session interface {
	Ping(ctx context.Context) error
	RunReadOnly(ctx context.Context, stmt string, timeout time.Duration) (time.Duration, error)
}

// Run replays w on s once unmeasured (a warm-up pass: caches and plans
// are warm for the first measured one), then opts.Iterations times over,
// from opts.Concurrency goroutines, measuring each statement. Each
// statement goes to s with
// Marker in front of its text. A failing statement is counted, not fatal;
// Run returns an error when the database cannot be reached or ctx ends
// (with what was measured so far).
func Run(ctx context.Context, s Session, w Workload, opts Options) (Result, error) {
	opts = opts.withDefaults()
	if err := s.Ping(ctx); err != nil {
		return Result{}, fmt.Errorf("replay: reach database: %w", err)
	}
	stmts, skipped := runnable(opts.Grammar, w.Statements)
	warmUp(ctx, s, stmts, opts.Timeout)
	rec := &recorder{}
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range opts.Concurrency {
		wg.Go(func() {
			for stmt := range jobs {
				d, err := s.RunReadOnly(ctx, stmt, opts.Timeout)
				if ctx.Err() == nil {
					rec.add(stmt, d, err)
				}
			}
		})
	}
	feed(ctx, jobs, stmts, opts.Iterations)
	close(jobs)
	wg.Wait()
	res := rec.result()
	res.Skipped = skipped
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("replay interrupted after %d statements: %w", res.Runs+res.Errors, err)
	}
	return res, nil
}

// warmUp runs each statement once, unmeasured, before the measured passes:
// the first pass would otherwise pay for cold caches and fresh plans, and
// a "before" baseline taken cold would make any change look harmless.
func warmUp(ctx context.Context, s Session, stmts []string, timeout time.Duration) {
	for _, stmt := range stmts {
		if ctx.Err() != nil {
			return
		}
		_, _ = s.RunReadOnly(ctx, stmt, timeout)
	}
}

// runnable re-checks the statements with g (a Workload may be built by
// hand) and returns the read-only ones with the Marker in front, and how
// many were refused.
func runnable(g Grammar, stmts []string) (out []string, refused int) {
	for _, s := range stmts {
		tagged := Marker + " " + s
		if g.CheckReadOnly(tagged) != nil {
			refused++
			continue
		}
		out = append(out, tagged)
	}
	return out, refused
}

// feed sends the statements to the workers, iterations times over, until
// ctx ends.
func feed(ctx context.Context, jobs chan<- string, stmts []string, iterations int) {
	for range iterations {
		for _, s := range stmts {
			select {
			case jobs <- s:
			case <-ctx.Done():
				return
			}
		}
	}
}

// recorder gathers the workers' measurements.
type recorder struct {
	mu        sync.Mutex
	latencies map[string][]time.Duration // by statement
	errors    int
	failures  []Failure
}

// add records one statement's outcome.
func (r *recorder) add(stmt string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		if r.latencies == nil {
			r.latencies = map[string][]time.Duration{}
		}
		r.latencies[stmt] = append(r.latencies[stmt], d)
		return
	}
	r.errors++
	stmt = shorten(stmt[len(Marker)+1:])
	for i := range r.failures {
		if r.failures[i].Statement == stmt {
			r.failures[i].Count++
			return
		}
	}
	if len(r.failures) < maxFailures {
		r.failures = append(r.failures, Failure{Statement: stmt, Error: err.Error(), Count: 1})
	}
}

// result computes the figures from the measurements.
func (r *recorder) result() Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := Result{Errors: r.errors, Failures: slices.Clone(r.failures)}
	var lat []time.Duration
	for _, runs := range r.latencies {
		res.Runs += len(runs)
		lat = append(lat, withoutSlowest(runs)...)
	}
	slices.Sort(lat)
	if len(lat) == 0 {
		return res
	}
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	res.MeanMs = ms(sum) / float64(len(lat))
	res.P50Ms, res.P95Ms, res.P99Ms = percentile(lat, 0.50), percentile(lat, 0.95), percentile(lat, 0.99)
	return res
}

// withoutSlowest returns a statement's runs less the slowest fifth of
// them (none of fewer than five runs).
func withoutSlowest(runs []time.Duration) []time.Duration {
	kept := slices.Clone(runs)
	slices.Sort(kept)
	return kept[:len(kept)-len(kept)/5]
}

// percentile is the nearest-rank p-quantile of sorted, in ms.
func percentile(sorted []time.Duration, p float64) float64 {
	return ms(quantile.NearestRank(sorted, p))
}

// ms converts a duration to fractional milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// shorten trims a statement for a report.
func shorten(s string) string {
	if len(s) <= maxFailureText {
		return s
	}
	n := maxFailureText
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
