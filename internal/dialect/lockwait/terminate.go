package lockwait

import (
	"context"
	"fmt"
	"time"
)

// Terminator is the optional Session hook that ends a blocker's session,
// for a migration whose policy allows it (Policy.TerminateAfter).
type Terminator interface {
	// Terminate ends b's session if b's transaction is still open and the
	// engine's rules allow it (never the agent's own sessions; superuser
	// and replication sessions only when the policy says so).
	Terminate(ctx context.Context, b Blocker) (Termination, error)
}

// Termination is what Terminate did.
type Termination struct {
	// Terminated says the session was ended.
	Terminated bool
	// Who describes the session: user, application name, when its query
	// started and the query's text, truncated.
	Who string
	// Refused says why it was left alone; empty when it was ended or had
	// already gone.
	Refused string
}

// terminateWaitCap bounds the wait for a terminated session to go.
const terminateWaitCap = 2 * time.Second

// terminateOld terminates, when the policy allows it, the holders whose
// transaction is older than Policy.TerminateAfter, once each, records who
// in the step's events, and waits for them to go. It reports whether it
// terminated any (the holders are then looked at again).
func (p *Policy) terminateOld(ctx context.Context, hs []Blocker, s *streamState) (bool, error) {
	if p.TerminateAfter <= 0 {
		return false, nil
	}
	t, ok := p.Session.(Terminator)
	if !ok {
		if !s.saidNoTerminate {
			s.saidNoTerminate = true
			p.emit("warn", "the migration's policy asks to terminate old blockers, which this engine cannot do: waiting for them instead", "")
		}
		return false, nil
	}
	var ended []Blocker
	for _, h := range hs {
		key := "terminate " + h.Session + "@" + h.Started.String()
		if h.Age < p.TerminateAfter || s.told[key] {
			continue
		}
		s.tell(key)
		res, err := t.Terminate(ctx, h)
		if err != nil {
			p.emit("warn", fmt.Sprintf("could not terminate %s %s: %v", p.SessionNoun, h.Session, err), "")
			continue
		}
		p.emitTermination(h, res)
		if res.Terminated {
			ended = append(ended, h)
		}
	}
	if len(ended) == 0 {
		return false, nil
	}
	_, err := p.waitEnded(ctx, ended, min(terminateWaitCap, p.remaining()))
	return true, err
}

// emitTermination records what Terminate did with h.
func (p *Policy) emitTermination(h Blocker, res Termination) {
	switch {
	case res.Terminated:
		p.emit("warn", fmt.Sprintf("terminated %s %s (transaction open %s, older than the policy's %s; %s) %s: %s",
			p.SessionNoun, h.Session, h.Age.Round(100*time.Millisecond), p.TerminateAfter, h.describe(), h.what(), res.Who), "")
	case res.Refused != "":
		p.emit("warn", fmt.Sprintf("not terminating %s %s (transaction open %s): %s: %s",
			p.SessionNoun, h.Session, h.Age.Round(100*time.Millisecond), res.Refused, res.Who), "")
	}
}

// untilTerminable bounds a wait for blind holders so that the policy
// looks again when the youngest of them reaches the termination age.
func (p *Policy) untilTerminable(bs []Blocker, maxWait time.Duration) time.Duration {
	if p.TerminateAfter <= 0 {
		return maxWait
	}
	for _, b := range bs {
		maxWait = min(maxWait, max(p.TerminateAfter-b.Age, momentPoll))
	}
	return maxWait
}
