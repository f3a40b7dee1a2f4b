package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// errLeaderSilent is why a forwarded request is given up on: this server
// stopped hearing from the leader it was sent to.
var errLeaderSilent = errors.New("httpapi: this server stopped hearing from the leader")

// errMaybeApplied marks a 503 answer to a write the leader may have
// applied: the client must check before sending it again.
var errMaybeApplied = errors.New("httpapi: the write may have been applied")

// neverHeard is the silence of a server that never heard from a leader.
const neverHeard = time.Duration(1<<63 - 1)

// silence is how long this server has not heard from the leader.
func (f *forwarder) silence() time.Duration {
	last := f.raft.LastContact()
	if last.IsZero() {
		return neverHeard
	}
	return time.Since(last)
}

// lostLeader reports whether this server no longer follows leaderID: it
// knows another leader or none, or has not heard from it for longer than
// the leader timeout.
func (f *forwarder) lostLeader(leaderID string) bool {
	l, ok := f.raft.LeaderServer()
	return !ok || l.ID != leaderID || f.silence() > f.leaderTimeout
}

// watch calls its lost function once, when this server loses the leader,
// unless stopped first.
type watch struct {
	mu      sync.Mutex
	stopped bool
	fired   bool
	done    chan struct{}
}

// stop ends the watch; it reports false when the watch had already fired.
func (w *watch) stop() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.stopped = true
		close(w.done)
	}
	return !w.fired
}

// fire calls lost unless the watch was stopped.
func (w *watch) fire(lost context.CancelCauseFunc) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.fired = true
		lost(errLeaderSilent)
	}
}

// giveUpOnSilence checks, a few times per leader timeout until ctx ends or
// the watch is stopped, whether this server still follows leaderID, and
// calls lost (with errLeaderSilent) when it does not.
func (f *forwarder) giveUpOnSilence(ctx context.Context, leaderID string, lost context.CancelCauseFunc) *watch {
	w := &watch{done: make(chan struct{})}
	go func() {
		t := time.NewTicker(max(f.leaderTimeout/5, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-w.done:
				return
			case <-t.C:
				if f.lostLeader(leaderID) {
					w.fire(lost)
					return
				}
			}
		}
	}()
	return w
}

// delivery follows what of a forwarded request reached the leader. A
// request with a body asks for "100 Continue" before sending it: every
// write endpoint reads its body before it changes anything, so a leader
// that neither asked for the body nor was sent it applied nothing. A
// request without a body may have been acted on once it was written.
type delivery struct {
	mu       sync.Mutex
	hasBody  bool
	asked    bool // the leader asked for the body (100 Continue)
	bodySent bool // the body started to be sent
	written  bool // the request was written to the connection without error
}

// expectContinue makes out, when it has a body, wait for the leader's
// "100 Continue" before sending it, and records when it is sent.
func (d *delivery) expectContinue(out *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hasBody = out.Body != nil && out.Body != http.NoBody
	if d.hasBody {
		out.Header.Set("Expect", "100-continue")
		out.Body = &sentBody{ReadCloser: out.Body, d: d}
	}
}

func (d *delivery) set(flag *bool) {
	d.mu.Lock()
	*flag = true
	d.mu.Unlock()
}

func (d *delivery) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		Got100Continue: func() { d.set(&d.asked) },
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				d.set(&d.written)
			}
		},
	}
}

// delivered reports whether the leader may have acted on the request.
func (d *delivery) delivered() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.hasBody {
		return d.asked || d.bodySent
	}
	return d.written
}

// sentBody is a forwarded request's body, noting when it is first read
// (to be sent).
type sentBody struct {
	io.ReadCloser
	d *delivery
}

func (b *sentBody) Read(p []byte) (int, error) {
	b.d.set(&b.d.bodySent)
	return b.ReadCloser.Read(p)
}

// noLeader is the answer of a server that knows no leader to forward to.
func (f *forwarder) noLeader() error {
	heard := "has never heard from one"
	if last := f.raft.LastContact(); !last.IsZero() {
		heard = "last heard from one " + time.Since(last).Round(time.Millisecond).String() + " ago"
	}
	return unavailable(fmt.Sprintf("this server (%s) knows no leader (it %s): an election is under way, the cluster "+
		"lost quorum (a majority of its voters must be up and reach each other), or this server is cut off from "+
		"the others; nothing was applied: retry shortly, or send the request to another server%s",
		f.raft.Self().ID, heard, f.otherServers()))
}

// cutOff is the answer of a server that has not heard from the leader for
// silence: it forwards nothing, so nothing was applied.
func (f *forwarder) cutOff(leader domain.Server, silence time.Duration) error {
	heard := "for " + silence.Round(time.Millisecond).String()
	if silence == neverHeard {
		heard = "yet"
	}
	return unavailable(fmt.Sprintf("this server (%s) has not heard from the leader %s %s: it is cut off from it, "+
		"or an election is under way; nothing was applied: retry shortly, or send the request to another server%s",
		f.raft.Self().ID, leader.ID, heard, f.otherServers()))
}

// forwardFailed is the answer to a forwarded request the leader did not
// answer: not applied unless the leader may have acted on it (delivered).
func (f *forwarder) forwardFailed(leader domain.Server, delivered, silent bool) error {
	why := "the leader " + leader.ID + " could not be reached"
	if silent {
		why = fmt.Sprintf("this server (%s) stopped hearing from the leader %s before it answered", f.raft.Self().ID, leader.ID)
	}
	if !delivered {
		return unavailable(why + "; nothing was applied: retry shortly, or send the request to another server" +
			f.otherServers())
	}
	return errors.Join(unavailable(why+" after the request reached it: it may or may not have been applied; "+
		"check before retrying"+f.otherServers()), errMaybeApplied)
}

// otherServers lists the other servers' HTTP addresses, for a message.
func (f *forwarder) otherServers() string {
	var out []string
	self := f.raft.Self().ID
	for id, s := range f.raft.State().Servers() {
		if id != self && s.HTTPAddr != "" {
			out = append(out, id+" at "+f.scheme+"://"+s.HTTPAddr)
		}
	}
	if len(out) == 0 {
		return ""
	}
	slices.Sort(out)
	return " (" + strings.Join(out, ", ") + ")"
}
