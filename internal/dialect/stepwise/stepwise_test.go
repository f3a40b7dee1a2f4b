package stepwise

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// fakeHooks records what Run asks of an engine.
type fakeHooks struct {
	done     map[int]bool
	ran      [][]int
	failAt   int // unit number (1-based) that fails; 0: none
	finished bool
}

func (f *fakeHooks) Done(context.Context) (map[int]bool, error) { return f.done, nil }

func (f *fakeHooks) RunUnit(_ context.Context, todo []int) error {
	f.ran = append(f.ran, todo)
	if len(f.ran) == f.failAt {
		return errors.New("unit failed")
	}
	for _, i := range todo {
		f.done[i] = true
	}
	return nil
}

func (f *fakeHooks) Finish(context.Context) error { f.finished = true; return nil }

func TestRunResumesAfterTheLastDone(t *testing.T) {
	units := []Unit{{0, 0}, {1, 3}, {4, 4}}
	h := &fakeHooks{done: map[int]bool{0: true, 1: true}}
	var skipped []string
	emit := func(_, msg, sql string) { skipped = append(skipped, sql) }
	sql := func(i int) string { return fmt.Sprintf("s%d", i) }
	if err := Run(t.Context(), units, h, emit, sql); err != nil {
		t.Fatal(err)
	}
	if want := [][]int{{2, 3}, {4}}; !slices.EqualFunc(h.ran, want, slices.Equal[[]int]) {
		t.Errorf("ran %v, want %v", h.ran, want)
	}
	if want := []string{"s0", "s1"}; !slices.Equal(skipped, want) || !h.finished {
		t.Errorf("skipped %v (finished %v), want %v and the history written", skipped, h.finished, want)
	}
}

func TestRunStopsAtAFailedUnit(t *testing.T) {
	h := &fakeHooks{done: map[int]bool{}, failAt: 2}
	err := Run(t.Context(), []Unit{{0, 0}, {1, 1}, {2, 2}}, h, func(_, _, _ string) {}, func(int) string { return "" })
	if err == nil || h.finished || len(h.ran) != 2 {
		t.Errorf("Run = %v after %v (finished %v), want the error of unit 2, nothing after, no history", err, h.ran, h.finished)
	}
}
