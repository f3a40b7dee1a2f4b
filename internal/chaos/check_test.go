package chaos

import (
	"errors"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
)

func TestApplied(t *testing.T) {
	fwd := func(id, inst string, st domain.StepStatus) domain.Step {
		return domain.Step{StepID: id, Kind: domain.StepApply, Direction: domain.Forward, InstanceID: inst, Status: st}
	}
	rb := func(id, reverts, inst string, st domain.StepStatus) domain.Step {
		return domain.Step{StepID: id, Kind: domain.StepApply, Direction: domain.Rollback, InstanceID: inst, Status: st, Reverts: reverts}
	}
	for _, tc := range []struct {
		name  string
		steps []domain.Step
		want  map[string]bool
	}{
		{"succeeded", []domain.Step{fwd("s1", "a", domain.StepSucceeded)}, map[string]bool{"a": true}},
		{"failed", []domain.Step{fwd("s1", "a", domain.StepFailed)}, map[string]bool{"a": false}},
		{"undone", []domain.Step{fwd("s1", "a", domain.StepSucceeded), rb("r1", "s1", "a", domain.StepSucceeded)}, map[string]bool{"a": false}},
		{"undo failed", []domain.Step{fwd("s1", "a", domain.StepSucceeded), rb("r1", "s1", "a", domain.StepFailed)}, map[string]bool{"a": true}},
		{"one of two undone", []domain.Step{fwd("s1", "a", domain.StepSucceeded), fwd("s2", "b", domain.StepSucceeded),
			rb("r2", "s2", "b", domain.StepSucceeded)}, map[string]bool{"a": true, "b": false}},
		{"verify steps ignored", []domain.Step{{StepID: "v1", Kind: domain.StepVerify, InstanceID: "c", Status: domain.StepSucceeded}},
			map[string]bool{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := applied(domain.Execution{Steps: tc.steps})
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestCheckOutcomeFindsAMismatch(t *testing.T) {
	w := &World{Instances: []string{"a", "b"}}
	steps := []domain.Step{
		{StepID: "s1", Kind: domain.StepApply, Direction: domain.Forward, InstanceID: "a", Status: domain.StepSucceeded},
		{StepID: "s2", Kind: domain.StepApply, Direction: domain.Forward, InstanceID: "b", Status: domain.StepFailed},
	}
	for _, tc := range []struct {
		status domain.ExecutionStatus
		want   string
	}{
		{domain.ExecutionSucceeded, "b has no succeeded forward step"},
		{domain.ExecutionRolledBack, "step on a is still in place"},
	} {
		r := &runner{w: w, exec: domain.Execution{Status: tc.status, Steps: steps}}
		r.checkOutcome()
		if len(r.violations) != 1 || !strings.Contains(r.violations[0], tc.want) {
			t.Errorf("%s: violations = %q, want one about %q", tc.status, r.violations, tc.want)
		}
	}
}

func TestTallyCountsPerScenarioAndOutcome(t *testing.T) {
	var tl Tally
	tl.Add(Result{Scenario: "x", Status: domain.ExecutionSucceeded})
	tl.Add(Result{Scenario: "x", Status: domain.ExecutionRolledBack, Violations: []string{"v"}})
	tl.Add(Result{Scenario: "y", Err: errBroken})
	tl.Add(Result{Scenario: "y", Status: domain.ExecutionRunning})
	var sb strings.Builder
	if err := tl.Write(&sb); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(sb.String()), "\n")
	want := [][]string{
		{"scenario", "runs", "succeeded", "rolled", "back", "failed", "unfinished", "broken", "violations"},
		{"x", "2", "1", "1", "0", "0", "0", "1"},
		{"y", "2", "0", "0", "0", "1", "1", "0"},
		{"total", "4", "1", "1", "0", "1", "1", "1"},
	}
	if len(lines) != len(want) {
		t.Fatalf("table:\n%s", sb.String())
	}
	for i, l := range lines {
		if got := strings.Fields(l); strings.Join(got, " ") != strings.Join(want[i], " ") {
			t.Errorf("line %d = %q, want %q", i, got, want[i])
		}
	}
	if tl.Violations() != 1 || tl.Broken() != 1 {
		t.Errorf("violations, broken = %d, %d, want 1, 1", tl.Violations(), tl.Broken())
	}
}

var errBroken = errors.New("chaos: could not start")
