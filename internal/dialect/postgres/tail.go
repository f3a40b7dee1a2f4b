package postgres

import (
	"context"
	"fmt"
	"sync"
)

// A step that committed still has two things to do on its session: write
// the whole schema's fingerprint (recordSchema) and hand the session back
// (release the step's lock, RESET ALL). Neither changes the step's
// outcome, and both are round trips the operator would wait for: on a
// busy server they cost as much as the DDL itself. So they run after
// ExecuteStep has returned, as the step's tail, and everything that reads
// what a tail writes waits for it first: the next step on the Conn, the
// schema drift check, the history and Close.

// tails tracks the tails still running on one Conn.
type tails struct {
	mu      sync.Mutex
	running int
	idle    chan struct{} // closed when the last running tail ends
	failed  error         // a tail's failure, not said yet
}

// begin counts a tail that starts.
func (t *tails) begin() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.running == 0 {
		t.idle = make(chan struct{})
	}
	t.running++
}

// end counts a tail that ended, with its failure if any.
func (t *tails) end(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		t.failed = err
	}
	t.running--
	if t.running == 0 {
		close(t.idle)
	}
}

// wait returns once no tail runs, or with ctx's error when ctx ends first.
func (t *tails) wait(ctx context.Context) error {
	t.mu.Lock()
	idle, running := t.idle, t.running
	t.mu.Unlock()
	if running == 0 {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for the previous step's bookkeeping: %w", ctx.Err())
	}
}

// takeFailure returns the failure of an earlier tail once, then nil.
func (t *tails) takeFailure() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	err := t.failed
	t.failed = nil
	return err
}

// release ends the step's use of its session. After a commit (and when
// the step's context still stands) it starts the tail: the whole schema's
// record, then the session's hand-back, in the background. Otherwise it
// hands the session back at once.
func (r *stepRun) release(ctx context.Context) {
	if !r.schemaDue {
		r.close(ctx)
		return
	}
	if ctx.Err() != nil {
		r.emit(levelWarn, "the step is applied and recorded, but the whole schema's fingerprint was not: the step was cancelled after its commit", "")
		r.close(ctx)
		return
	}
	r.c.tails.begin()
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	go func() {
		defer cancel()
		err := recordSchema(tctx, r.conn, r.req.ExecutionID, r.req.StepID)
		if err != nil {
			err = fmt.Errorf("step %s of execution %s is applied and recorded, but %w", r.req.StepID, r.req.ExecutionID, r.c.scrub(err))
		}
		r.close(tctx)
		r.c.tails.end(err)
	}()
}

// settle waits for the tails of earlier steps, and says what one of them
// could not do.
func (r *stepRun) settle(ctx context.Context) error {
	if err := r.c.tails.wait(ctx); err != nil {
		return err
	}
	if err := r.c.tails.takeFailure(); err != nil {
		r.emit(levelWarn, "an earlier step's bookkeeping failed: "+err.Error(), "")
	}
	return nil
}
