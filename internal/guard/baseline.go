package guard

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// What a baseline window must hold for the latency rule to be armed, and
// what makes a statement significant enough to be judged.
const (
	// minTrafficSamples is the fewest samples with completed statements.
	minTrafficSamples = 3
	// minWindowCalls is the fewest application calls in the window.
	minWindowCalls = 50
	// minStatementCalls is the fewest calls of a judged statement.
	minStatementCalls = 20
	// minCallShare and minTimeShare: a judged statement has at least this
	// share of the window's calls, or of its execution time.
	minCallShare = 0.01
	minTimeShare = 0.05
	// maxBaselineStatements bounds Baseline.Statements (the most called).
	maxBaselineStatements = 32
)

// Compute makes a baseline of the samples of a window: averages of the
// samples that saw traffic, and the latency baseline of each significant
// statement. When the window holds too little traffic to judge latency,
// LatencyNotArmed says why.
func Compute(samples []domain.Sample) domain.Baseline {
	var b domain.Baseline
	var latW float64
	acc := statementAccumulator{}
	traffic, withStatements := 0, false
	for _, s := range samples {
		if s.IntervalMs <= 0 {
			continue
		}
		if b.Samples == 0 || s.At.Before(b.From) {
			b.From = s.At
		}
		if s.At.After(b.To) {
			b.To = s.At
		}
		b.Samples++
		b.TPS += s.TPS
		b.CPUPercent += s.CPUPercent
		b.LagSeconds += s.ReplicationLagSeconds
		if s.Calls > 0 {
			traffic++
			w := float64(s.Calls)
			latW += w
			b.AvgLatencyMs += s.AvgLatencyMs * w
			b.P95LatencyMs += s.P95LatencyMs * w
		}
		withStatements = withStatements || len(s.Statements) > 0
		acc.add(s.Statements)
	}
	if b.Samples > 0 {
		n := float64(b.Samples)
		b.TPS, b.CPUPercent, b.LagSeconds = b.TPS/n, b.CPUPercent/n, b.LagSeconds/n
	}
	if latW > 0 {
		b.AvgLatencyMs, b.P95LatencyMs = b.AvgLatencyMs/latW, b.P95LatencyMs/latW
	}
	if withStatements {
		b.Statements = acc.significant(traffic)
	}
	b.LatencyNotArmed = notArmed(b, traffic, int64(latW), withStatements)
	return b
}

// notArmed says why a baseline cannot judge latency, "" when it can.
func notArmed(b domain.Baseline, traffic int, calls int64, withStatements bool) string {
	switch {
	case traffic < minTrafficSamples || calls < minWindowCalls:
		return fmt.Sprintf("the baseline window held %d sample(s) with traffic and %d application statement(s); "+
			"at least %d samples and %d statements are needed to judge latency", traffic, calls, minTrafficSamples, minWindowCalls)
	case withStatements && len(b.Statements) == 0:
		return fmt.Sprintf("no statement of the baseline window ran often enough to be judged "+
			"(at least %d calls in half of its %d samples with traffic)", minStatementCalls, traffic)
	}
	return ""
}

// statementAccumulator sums each statement's figures over a window.
type statementAccumulator map[string]*statementSums

// statementSums are one statement's sums over the window's samples.
type statementSums struct {
	fingerprint string
	calls       int64
	samples     int
	timeMs      float64
	sumSq       float64 // of single calls: calls * (sd² + mean²)
	means       []weighted
}

// weighted is one sample's mean and its calls.
type weighted struct {
	mean  float64
	calls int64
}

func (a statementAccumulator) add(ss []domain.StatementSample) {
	for _, st := range ss {
		if st.Calls <= 0 {
			continue
		}
		sum, ok := a[st.ID]
		if !ok {
			sum = &statementSums{}
			a[st.ID] = sum
		}
		if st.Fingerprint != "" {
			sum.fingerprint = st.Fingerprint
		}
		c := float64(st.Calls)
		sum.calls += st.Calls
		sum.samples++
		sum.timeMs += c * st.MeanMs
		sum.sumSq += c * (st.SDMs*st.SDMs + st.MeanMs*st.MeanMs)
		sum.means = append(sum.means, weighted{mean: st.MeanMs, calls: st.Calls})
	}
}

// significant returns the baselines of the statements worth judging: run
// often, in most samples, and a fair share of the calls or of the time.
func (a statementAccumulator) significant(traffic int) []domain.StatementBaseline {
	var calls int64
	var timeMs float64
	for _, s := range a {
		calls += s.calls
		timeMs += s.timeMs
	}
	var out []domain.StatementBaseline
	for id, s := range a {
		share, timeShare := float64(s.calls)/float64(max(calls, 1)), s.timeMs/max(timeMs, 1e-9)
		if s.calls < minStatementCalls || s.samples < max(2, (traffic+1)/2) || (share < minCallShare && timeShare < minTimeShare) {
			continue
		}
		out = append(out, s.baseline(id))
	}
	slices.SortFunc(out, func(x, y domain.StatementBaseline) int {
		return cmp.Or(cmp.Compare(y.Calls, x.Calls), cmp.Compare(x.ID, y.ID))
	})
	return out[:min(len(out), maxBaselineStatements)]
}

// baseline is the statement's baseline: its mean is the higher of the
// window's and the last quarter's (a slowdown under way before the step
// is not the step's doing).
func (s *statementSums) baseline(id string) domain.StatementBaseline {
	c := float64(s.calls)
	mean := s.timeMs / c
	var spread float64
	for _, m := range s.means {
		spread += float64(m.calls) * (m.mean - mean) * (m.mean - mean)
	}
	return domain.StatementBaseline{ID: id, Fingerprint: s.fingerprint, Calls: s.calls, Samples: s.samples,
		MeanMs: max(mean, recentMean(s.means)), SDMs: math.Sqrt(max(s.sumSq/c-mean*mean, 0)), SpreadMs: math.Sqrt(spread / c)}
}

// recentMean is the call-weighted mean of the last quarter of the
// samples (at least two), 0 with fewer than four samples.
func recentMean(ms []weighted) float64 {
	if len(ms) < 4 {
		return 0
	}
	var t, c float64
	for _, m := range ms[len(ms)-max(len(ms)/4, 2):] {
		t += m.mean * float64(m.calls)
		c += float64(m.calls)
	}
	return t / c
}
