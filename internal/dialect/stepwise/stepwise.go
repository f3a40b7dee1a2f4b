// Package stepwise is the resume policy every engine's executor follows for
// a script that cannot run in one transaction (design invariant 2): its
// statements run unit by unit (a lone statement, or an explicit block of
// the script), each completed statement is recorded in the instance's
// progress table right after it, a re-delivered step skips the statements
// an earlier delivery completed and resumes after the last one done, and
// the step's history row is written once every unit is done.
//
// The engine supplies the hooks (Hooks): read and record progress, run one
// unit with the lock-retry policy, write the history row.
package stepwise

import (
	"context"
	"fmt"
)

// Unit is the statements First..Last (0-based, inclusive) of a script, run
// and retried together.
type Unit struct{ First, Last int }

// Hooks are the engine's parts of a stepwise run.
type Hooks interface {
	// Done returns the indexes of the statements an earlier delivery of
	// the step completed.
	Done(ctx context.Context) (map[int]bool, error)
	// RunUnit runs the statements todo (indexes, in order, none done yet)
	// of one unit, with the lock-retry policy, recording each one's
	// progress as soon as it completes (inside an explicit block of the
	// script, the record commits with the block).
	RunUnit(ctx context.Context, todo []int) error
	// Finish records the step in the instance's history.
	Finish(ctx context.Context) error
}

// Run runs units with h: the statements already done are skipped (and
// reported with emit, naming the statement with sql), the others run unit
// by unit, and the history row is written last. It stops at the first
// unit that fails.
func Run(ctx context.Context, units []Unit, h Hooks, emit func(level, msg, sql string), sql func(i int) string) error {
	done, err := h.Done(ctx)
	if err != nil {
		return err
	}
	for _, u := range units {
		todo := pending(u, done, emit, sql)
		if len(todo) == 0 {
			continue
		}
		if err := h.RunUnit(ctx, todo); err != nil {
			return err
		}
	}
	return h.Finish(ctx)
}

// pending leaves out, and reports, the statements of u already done.
func pending(u Unit, done map[int]bool, emit func(level, msg, sql string), sql func(i int) string) []int {
	var todo []int
	for i := u.First; i <= u.Last; i++ {
		if done[i] {
			emit("info", fmt.Sprintf("statement %d already done by an earlier delivery of this step: skipped", i+1), sql(i))
			continue
		}
		todo = append(todo, i)
	}
	return todo
}
