package fsm

import (
	"strings"
	"testing"
)

func TestAppliedCountsEntriesAndBytes(t *testing.T) {
	a := running(t)
	cmd := DispatchStepsRequest{ExecutionID: "e1", StepIDs: []string{"s1"}, At: t0}
	data, err := Encode(cmd)
	if err != nil {
		t.Fatal(err)
	}
	a.must(cmd)
	got := a.f.Applied()[DispatchStepsType]
	if got.Entries != 1 || got.Bytes != uint64(len(data)) {
		t.Errorf("dispatch_steps applied = %+v, want 1 entry of %d bytes", got, len(data))
	}
	if got := a.f.Applied()[StartExecutionType]; got.Entries != 1 {
		t.Errorf("start_execution entries = %d, want 1", got.Entries)
	}
}

func TestEveryCommandHasAName(t *testing.T) {
	for typ := range commands {
		if strings.HasPrefix(typ.String(), "type_") {
			t.Errorf("command type %d has no name", typ)
		}
	}
}
