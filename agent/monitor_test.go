package agent

import (
	"testing"
	"time"
)

// TestGuardedInstancesShareTicks checks that two instances whose steps
// start at different moments, guarded at one interval, are due in the same
// ticks (where they share their server's readings), and that the first
// fast sample comes no later than one interval into the step.
func TestGuardedInstancesShareTicks(t *testing.T) {
	const every = 250 * time.Millisecond
	w := newWatcher("/proc")
	epoch := time.Unix(1_700_000_000, 0)
	startA, startB := epoch.Add(30*time.Millisecond), epoch.Add(410*time.Millisecond)
	watch := func(id string, at time.Time) {
		w.mu.Lock()
		defer w.mu.Unlock()
		st := w.state(id)
		st.guards, st.fastEvery, st.lastAt = []*activeGuard{{}}, every, alignedStart(at, every)
	}
	watch("a", startA)
	dueAt := map[string][]time.Time{}
	for tick := epoch.Add(20 * time.Millisecond); tick.Before(epoch.Add(2 * time.Second)); tick = tick.Add(minFastInterval) {
		if tick.Equal(startB.Add(10 * time.Millisecond)) {
			watch("b", startB)
		}
		for _, id := range []string{"a", "b"} {
			if _, watched := w.instances[id]; watched && w.isDue(id, tick, 10*time.Second) {
				dueAt[id] = append(dueAt[id], tick)
			}
		}
	}
	if len(dueAt["a"]) == 0 || len(dueAt["b"]) == 0 {
		t.Fatalf("due ticks a %v, b %v: want both sampled", dueAt["a"], dueAt["b"])
	}
	if first := dueAt["a"][0]; first.Sub(startA) > every {
		t.Errorf("a's first fast sample %s into its step, want at most %s", first.Sub(startA), every)
	}
	if first := dueAt["b"][0]; first.Sub(startB) > every {
		t.Errorf("b's first fast sample %s into its step, want at most %s", first.Sub(startB), every)
	}
	inA := map[time.Time]bool{}
	for _, at := range dueAt["a"] {
		inA[at] = true
	}
	for _, at := range dueAt["b"] {
		if !inA[at] {
			t.Errorf("b is due at %s, a tick where a is not: a %v, b %v", at.Sub(epoch), dueAt["a"], dueAt["b"])
			break
		}
	}
}
