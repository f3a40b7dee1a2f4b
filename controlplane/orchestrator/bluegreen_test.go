package orchestrator

import (
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// trafficSamples are n samples, 250 ms apart up to end, of an application
// running one lookup (its id on that server, and its text's fingerprint);
// calls 0 makes them idle.
func trafficSamples(instance, id string, calls int64, meanMs float64, end time.Time, n int) []domain.Sample {
	out := make([]domain.Sample, 0, n)
	for i := n - 1; i >= 0; i-- {
		s := domain.Sample{InstanceID: instance, At: end.Add(-time.Duration(i) * 250 * time.Millisecond), IntervalMs: 250}
		if calls > 0 {
			s.Calls, s.AvgLatencyMs, s.TPS = calls, meanMs, float64(calls*4)
			s.Statements = []domain.StatementSample{{ID: id, Fingerprint: "fp-lookup", Calls: calls, MeanMs: meanMs, SDMs: meanMs / 5}}
		}
		out = append(out, s)
	}
	return out
}

// blueGreenExecution is a BlueGreen execution: apply on green a2/green,
// then switch pooler a2/bouncer to green; blue is a1/blue.
func blueGreenExecution() domain.Execution {
	return domain.Execution{ExecutionID: "exec-bg", Strategy: domain.BlueGreen,
		Monitoring: domain.MonitorSettings{BaselineWindowSeconds: 5, MonitorWindowSeconds: 10},
		BlueGreen: &domain.BlueGreenSpec{Blue: domain.InstanceRef{Agent: "a1", InstanceID: "blue", Role: domain.RoleMaster},
			Green: domain.InstanceRef{Agent: "a2", InstanceID: "green", Role: domain.RoleAsyncReplica}, Agent: "a2", Pooler: "bouncer"},
		Steps: []domain.Step{
			{StepID: "s1", Kind: domain.StepApply, Direction: domain.Forward, Agent: "a2", InstanceID: "green", Status: domain.StepPending},
			{StepID: "s2", Kind: domain.StepSwitch, Direction: domain.Forward, Agent: "a2", InstanceID: "bouncer", Pooler: "bouncer",
				SwitchTo: "green", Status: domain.StepPending},
		}}
}

// TestBlueGreenSwitchJudgedAgainstBlue: the switch's baseline is blue's,
// under the traffic it served (green was idle: its own is not armed); after
// the switch green's statements, under other ids on that server, are
// matched with blue's by fingerprint, the slower lookup decides, the
// decision says it judged against blue's baseline, and the apply step's
// idle baseline no longer judges green.
func TestBlueGreenSwitchJudgedAgainstBlue(t *testing.T) {
	b := newBed(t)
	now := b.clock.Now()
	b.o.cfg.Store.Add("a1", trafficSamples("blue", "111", 400, 0.05, now, 16))
	b.o.cfg.Store.Add("a2", trafficSamples("green", "999", 0, 0, now, 16))
	e := blueGreenExecution()

	own := b.o.baseline(&e, &e.Steps[0])
	blue := b.o.baseline(&e, &e.Steps[1])
	if own.Source != "" || own.LatencyNotArmed == "" {
		t.Errorf("green's own baseline = %+v, want green's (no source), not armed: it served no traffic", own)
	}
	if blue.Source != "a1/blue" || blue.LatencyNotArmed != "" || len(blue.Statements) != 1 || blue.Statements[0].Fingerprint != "fp-lookup" {
		t.Fatalf("switch baseline = %+v, want blue a1/blue's, armed on the lookup with its fingerprint", blue)
	}

	for i := range e.Steps {
		e.Steps[i].Status, e.Steps[i].CompletedAt = domain.StepSucceeded, now
	}
	e.Steps[0].Baseline, e.Steps[1].Baseline = &own, &blue
	if !judgedThroughSwitch(e, &e.Steps[0]) || judgedThroughSwitch(e, &e.Steps[1]) {
		t.Error("after the switch the apply on green must be judged through the switch, the switch itself not")
	}
	b.clock.Advance(3 * time.Second)
	// Green under blue's traffic: the same statement, another id, 40x slower.
	b.o.cfg.Store.Add("a2", trafficSamples("green", "999", 300, 2, b.clock.Now(), 8))
	d, ok := b.o.windowDecision(e, &e.Steps[1])
	if !ok {
		t.Fatal("no decision: green's slower lookup was not matched with blue's baseline")
	}
	if d.Counter != domain.CounterLatency || len(d.Statements) != 1 || d.Statements[0].ID != "999" || d.Statements[0].BeforeMs != 0.05 {
		t.Errorf("decision %+v, want latency naming green's lookup 999 with blue's 0.05 ms before", d)
	}
	if r := d.Reason(); !strings.Contains(r, "judged against blue a1/blue's baseline") || !strings.Contains(r, "1600 tps") {
		t.Errorf("reason %q, want it to say it judged against blue a1/blue's baseline, with its figures", r)
	}
}

// TestBlueGreenSteadyGreenPasses: green as fast as blue was under the same
// traffic is no rollback.
func TestBlueGreenSteadyGreenPasses(t *testing.T) {
	b := newBed(t)
	now := b.clock.Now()
	b.o.cfg.Store.Add("a1", trafficSamples("blue", "111", 400, 0.05, now, 16))
	e := blueGreenExecution()
	blue := b.o.baseline(&e, &e.Steps[1])
	e.Steps[1].Status, e.Steps[1].CompletedAt, e.Steps[1].Baseline = domain.StepSucceeded, now, &blue
	b.clock.Advance(3 * time.Second)
	b.o.cfg.Store.Add("a2", trafficSamples("green", "999", 400, 0.052, b.clock.Now(), 12))
	if d, ok := b.o.windowDecision(e, &e.Steps[1]); ok {
		t.Fatalf("green as fast as blue decided %s", d.Reason())
	}
}
