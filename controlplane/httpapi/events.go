package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// Tuning of an execution's event stream.
const (
	// streamCoalesce is the least time between two looks at the state: the
	// changes applied meanwhile go out as one event, so a burst of Raft
	// entries is not a burst of events.
	streamCoalesce = 250 * time.Millisecond
	// streamKeepAlive is how long a quiet stream waits before sending a
	// comment line, so proxies and browsers keep the connection open.
	streamKeepAlive = 15 * time.Second
)

// watchExecution answers GET .../executions/{executionId}/events with
// server-sent events following the execution in this server's committed
// state: the FSM applies the same entries on every server, so a follower
// serves the stream as well as the leader, and no request reaches another
// server. The stream wakes when an entry is applied (WaitApplied), never on
// a timer of the client's; it ends when the client goes or the server shuts
// down.
func (a *API) watchExecution(w http.ResponseWriter, r *http.Request, _ principal) error {
	e, err := a.execution(r)
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", api.EventStreamMediaType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(a.closing, cancel)()
	s := &executionStream{a: a, id: e.ExecutionID, w: w, flush: rc.Flush}
	if err := s.run(ctx); err != nil {
		a.log.Debug("execution stream ended", "execution", e.ExecutionID, "error", err)
	}
	return nil
}

// executionStream is one client's stream: what it was last sent, so it is
// sent only what changed.
type executionStream struct {
	a     *API
	id    string
	w     io.Writer
	flush func() error

	lastExecution []byte
	sentUntil     time.Time // the newest snapshot sent
	lastMetrics   []byte    // baselines and decisions last sent
}

// run sends the execution as it is, then again after each change, until
// ctx ends or the client cannot be written to.
func (s *executionStream) run(ctx context.Context) error {
	for {
		index := s.applied()
		if err := s.send(index); err != nil {
			return err
		}
		if err := s.waitChange(ctx, index); err != nil {
			return err
		}
	}
}

// applied is the Raft index this server has applied.
func (s *executionStream) applied() uint64 {
	st, _ := s.a.raft.Status() // AppliedIndex is set even when the configuration cannot be read
	return st.AppliedIndex
}

// waitChange waits until an entry after index is applied (keeping the
// connection alive meanwhile), then lets the changes of a burst gather.
func (s *executionStream) waitChange(ctx context.Context, index uint64) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, streamKeepAlive)
		err := s.a.raft.WaitApplied(wctx, index+1)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			break
		}
		if err := s.write([]byte(": keep-alive\n\n")); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(streamCoalesce):
		return nil
	}
}

// send writes the events the state holds news for: the execution when it
// changed, the metrics when there are new snapshots, baselines or
// decisions.
func (s *executionStream) send(index uint64) error {
	e, err := s.a.raft.State().Execution(s.id)
	if err != nil {
		return fmt.Errorf("read execution %s: %w", s.id, err)
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode execution %s: %w", s.id, err)
	}
	id := strconv.FormatUint(index, 10)
	if !bytes.Equal(raw, s.lastExecution) {
		if err := s.event(api.EventExecution, id, raw); err != nil {
			return err
		}
		s.lastExecution = raw
	}
	return s.sendMetrics(e, id)
}

// sendMetrics writes a metrics event with the snapshots not sent yet, when
// there are any or the baselines or decisions changed.
func (s *executionStream) sendMetrics(e domain.Execution, id string) error {
	m := s.a.metricsOf(e, s.sentUntil.UnixMilli()) // the zero time is before every snapshot
	fixed, err := json.Marshal([]any{m.Baselines, m.Decisions, m.Status})
	if err != nil {
		return fmt.Errorf("encode metrics of %s: %w", s.id, err)
	}
	if len(m.Snapshots) == 0 && bytes.Equal(fixed, s.lastMetrics) {
		return nil
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode metrics of %s: %w", s.id, err)
	}
	if err := s.event(api.EventMetrics, id, raw); err != nil {
		return err
	}
	s.lastMetrics = fixed
	if n := len(m.Snapshots); n > 0 {
		s.sentUntil = m.Snapshots[n-1].At
	}
	return nil
}

// event writes one event (JSON data holds no newline) and flushes it.
func (s *executionStream) event(typ, id string, data []byte) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "event: %s\nid: %s\ndata: ", typ, id)
	b.Write(data)
	b.WriteString("\n\n")
	return s.write(b.Bytes())
}

func (s *executionStream) write(p []byte) error {
	if _, err := s.w.Write(p); err != nil {
		return fmt.Errorf("write to the client: %w", err)
	}
	if err := s.flush(); err != nil {
		return fmt.Errorf("flush to the client: %w", err)
	}
	return nil
}
