package agent

import (
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// TestResultCarriesTheStepsEvents: a step's events go out with its result
// (and with every answer to a re-delivery), so a leader that never got
// them streamed, or died before committing them, still has them; an event
// after the step ended is not kept.
func TestResultCarriesTheStepsEvents(t *testing.T) {
	a := New(agentconfig.Config{}, hclog.NewNullLogger())
	m := &agentpb.ExecuteStep{ExecutionId: "e1", StepId: "s1", InstanceId: "pg", FencingToken: 1}
	key := stepID("e1", "s1")
	a.steps.running[key] = func() {}
	for _, msg := range []string{"running 1 statement(s) in one transaction", "statement 1 done"} {
		a.sendEvent(m, dialect.StepEvent{Time: time.Now(), Level: "info", Message: msg})
	}
	a.finishStep(key, m, &agentpb.StepResult{})
	a.sendEvent(m, dialect.StepEvent{Time: time.Now(), Level: "info", Message: "after the end"})
	res := a.steps.finished[key]
	if got := len(res.GetEvents()); got != 2 || res.GetEvents()[1].GetMessage() != "statement 1 done" {
		t.Fatalf("result events = %v, want the step's 2 events", res.GetEvents())
	}
	if len(a.steps.events) != 0 {
		t.Errorf("events kept after the step ended: %v", a.steps.events)
	}
}
