package guard

import (
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// appSample is a sample of an application running a hot lookup (0.05 ms,
// 400 calls) and an order insert (0.3 ms, 40 calls), plus extra
// statements.
func appSample(i int, lookupMs float64, extra ...domain.StatementSample) domain.Sample {
	st := append([]domain.StatementSample{
		{ID: "lookup", Calls: 400, MeanMs: lookupMs, SDMs: 0.02},
		{ID: "insert", Calls: 40, MeanMs: 0.3, SDMs: 0.1},
	}, extra...)
	var calls int64
	var t float64
	for _, s := range st {
		calls += s.Calls
		t += float64(s.Calls) * s.MeanMs
	}
	return domain.Sample{InstanceID: "main", At: t0.Add(time.Duration(i) * 250 * time.Millisecond), IntervalMs: 250,
		Calls: calls, AvgLatencyMs: t / float64(calls), Statements: st}
}

// appBaseline is the baseline of 8 samples of the application, with
// ordinary noise in the lookup's latency.
func appBaseline() domain.Baseline {
	var ss []domain.Sample
	for i := range 8 {
		ss = append(ss, appSample(i, 0.05+0.005*float64(i%3)))
	}
	return Compute(ss)
}

func TestBaselineArming(t *testing.T) {
	b := appBaseline()
	if b.LatencyNotArmed != "" || len(b.Statements) != 2 || b.Statements[0].ID != "lookup" {
		t.Fatalf("baseline = %+v, want armed with lookup and insert", b)
	}
	idle := Compute([]domain.Sample{appSample(0, 0.05), {At: t0.Add(time.Second), IntervalMs: 1000}, {At: t0.Add(2 * time.Second), IntervalMs: 1000}})
	if idle.LatencyNotArmed == "" || !strings.Contains(idle.LatencyNotArmed, "1 sample(s) with traffic") {
		t.Errorf("idle window: not armed = %q, want it to say it had 1 sample with traffic", idle.LatencyNotArmed)
	}
	if armed, why := NewRollback(domain.Thresholds{}, idle).LatencyArmed(); armed || why == "" {
		t.Errorf("LatencyArmed = %v, %q on an idle window, want false with a reason", armed, why)
	}
	// A statement seen twice is too rare to judge.
	ss := []domain.Sample{}
	for i := range 6 {
		x := appSample(i, 0.05)
		if i < 2 {
			x.Statements = append(x.Statements, domain.StatementSample{ID: "rare", Calls: 30, MeanMs: 5})
		}
		ss = append(ss, x)
	}
	for _, st := range Compute(ss).Statements {
		if st.ID == "rare" {
			t.Errorf("rare statement in the baseline: %+v", st)
		}
	}
}

func TestLatencyPerStatement(t *testing.T) {
	scan := domain.StatementSample{ID: "report-scan", Calls: 2, MeanMs: 700, SDMs: 20}
	cases := []struct {
		name    string
		samples func(i int) domain.Sample
		want    string // the slower statement named, "" = no decision
	}{
		{name: "steady", samples: func(i int) domain.Sample { return appSample(i, 0.055) }},
		{name: "a new heavy statement changes the average, not the application",
			samples: func(i int) domain.Sample { return appSample(i, 0.055, scan) }},
		{name: "the mix changes: fewer lookups, the same speed", samples: func(i int) domain.Sample {
			s := appSample(i, 0.055)
			s.Statements[0].Calls = 20
			return s
		}},
		{name: "the hot lookup is 40 times slower", samples: func(i int) domain.Sample { return appSample(i, 2) }, want: "lookup"},
		{name: "a rise within the noise of few calls", samples: func(i int) domain.Sample {
			s := appSample(i, 0.055)
			s.Statements[1] = domain.StatementSample{ID: "insert", Calls: 1, MeanMs: 0.45}
			return s
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRollback(domain.Thresholds{}, appBaseline())
			for i := range 12 {
				d, ok := r.Observe(tc.samples(i))
				if !ok {
					continue
				}
				if tc.want == "" || len(d.Statements) == 0 || d.Statements[0].ID != tc.want || d.Value <= d.Threshold {
					t.Fatalf("decision %+v (%s), want %q", d, d.Reason(), tc.want)
				}
				if i != 1 || !strings.Contains(d.Reason(), "slower: statement lookup") {
					t.Errorf("decided at sample %d (%s), want at sample 1 naming the lookup", i, d.Reason())
				}
				return
			}
			if tc.want != "" {
				t.Fatalf("no decision, want one naming %s", tc.want)
			}
		})
	}
}

// TestLatencyRiseTooSmallToNotice: beside a stream of very cheap calls, a
// hot lookup that takes 0.13 ms instead of 0.05 ms moves the mix's mean
// 60% up but by 0.016 ms: no decision (a busy host did that to pgbench's
// statements while the DDL waited outside the lock queue). The same
// lookup 40 times slower is decided at once.
func TestLatencyRiseTooSmallToNotice(t *testing.T) {
	ping := domain.StatementSample{ID: "ping", Calls: 1500, MeanMs: 0.01, SDMs: 0.002}
	var ss []domain.Sample
	for i := range 8 {
		ss = append(ss, appSample(i, 0.05+0.005*float64(i%3), ping))
	}
	for _, tc := range []struct {
		lookupMs float64
		decided  bool
	}{{0.13, false}, {2, true}} {
		r := NewRollback(domain.Thresholds{}, Compute(ss))
		decided := false
		for i := range 12 {
			if d, ok := r.Observe(appSample(i, tc.lookupMs, ping)); ok {
				decided = strings.Contains(d.Reason(), "slower: statement lookup")
				break
			}
		}
		if decided != tc.decided {
			t.Errorf("lookup at %g ms: decided %v, want %v", tc.lookupMs, decided, tc.decided)
		}
	}
}

// TestLatencyHeldBehindOwnLockWait: while sessions queue behind the DDL's
// own bounded lock wait, and until their statements finished, the rule
// does not judge; afterwards it does again.
func TestLatencyHeldBehindOwnLockWait(t *testing.T) {
	r := NewRollback(domain.Thresholds{}, appBaseline())
	queued := func(i int) domain.Sample { s := appSample(i, 120); s.QueuedBehindAgent = 3; return s }
	for i, s := range []domain.Sample{queued(0), queued(1), appSample(2, 150)} {
		if d, ok := r.Observe(s); ok {
			t.Fatalf("sample %d decided %s while the application queued behind the DDL", i, d.Reason())
		}
	}
	decided := false
	for i := 3; i < 10 && !decided; i++ {
		_, decided = r.Observe(appSample(i, 5))
	}
	if !decided {
		t.Fatal("no decision once the queue behind the DDL was gone and the lookup stayed slow")
	}
}

// renamed is s as another server reports it: the same statements under
// other ids, with their texts' fingerprints.
func renamed(s domain.Sample) domain.Sample {
	st := make([]domain.StatementSample, len(s.Statements))
	for i, x := range s.Statements {
		x.Fingerprint, x.ID = "fp-"+x.ID, "green-"+x.ID
		st[i] = x
	}
	s.Statements, s.InstanceID = st, "green"
	return s
}

// TestLatencyAgainstAnotherInstance: a baseline taken on another instance
// (blue under the traffic green gets after a switch) matches statements by
// fingerprint: green's slower lookup decides, green as fast as blue does
// not; by id alone nothing matches and nothing is judged.
func TestLatencyAgainstAnotherInstance(t *testing.T) {
	var ss []domain.Sample
	for i := range 8 {
		s := appSample(i, 0.05+0.005*float64(i%3))
		for j := range s.Statements {
			s.Statements[j].Fingerprint = "fp-" + s.Statements[j].ID
		}
		ss = append(ss, s)
	}
	blue := Compute(ss)
	blue.Source = "blue-host/main"
	cases := []struct {
		name     string
		base     domain.Baseline
		lookupMs float64
		want     bool
	}{
		{name: "green as fast as blue", base: blue, lookupMs: 0.055},
		{name: "green's lookup 40 times slower", base: blue, lookupMs: 2, want: true},
		{name: "matched by id, the ids differ: not judged", base: withoutSource(blue), lookupMs: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRollback(domain.Thresholds{}, tc.base)
			for i := range 6 {
				if d, ok := r.Observe(renamed(appSample(i, tc.lookupMs))); ok {
					if !tc.want || len(d.Statements) == 0 || d.Statements[0].ID != "green-lookup" || d.Statements[0].BeforeMs < 0.05 {
						t.Fatalf("decision %s, want one: %v naming green-lookup with blue's mean before", d.Reason(), tc.want)
					}
					return
				}
			}
			if tc.want {
				t.Fatal("no decision, want green's slower lookup caught against blue's baseline")
			}
		})
	}
	// Another instance's baseline without fingerprints falls back to the
	// average latency.
	bare := blue
	bare.Statements = append([]domain.StatementBaseline(nil), blue.Statements...)
	for i := range bare.Statements {
		bare.Statements[i].Fingerprint = ""
	}
	if r := NewRollback(domain.Thresholds{}, bare); r.JudgedStatements() != 0 {
		t.Errorf("judged %d statements without fingerprints, want the average rule", r.JudgedStatements())
	}
}

func withoutSource(b domain.Baseline) domain.Baseline { b.Source = ""; return b }
