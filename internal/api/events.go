package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// EventStreamMediaType is the media type of a server-sent events stream.
const EventStreamMediaType = "text/event-stream"

// The events of an execution's stream (GET .../executions/{executionId}/events).
const (
	// EventExecution carries the whole execution (domain.Execution) each
	// time the server applies a change to it.
	EventExecution = "execution"
	// EventMetrics carries an ExecutionMetrics whose snapshots are only the
	// ones taken since the previous metrics event; its baselines and
	// decisions are complete.
	EventMetrics = "metrics"
)

// ExecutionEvent is one event of an execution's stream: Execution is set
// for EventExecution, Metrics for EventMetrics.
type ExecutionEvent struct {
	Type string
	// ID is the Raft index the server had applied when it sent the event.
	ID        string
	Execution *domain.Execution
	Metrics   *ExecutionMetrics
}

// WatchExecution follows an execution as the answering server applies
// changes to it (server-sent events), calling fn with each event until ctx
// ends, the server closes the stream, or fn returns an error (which is
// returned). The stream does not end when the execution does: a finished
// execution can still be rolled back.
func (c *Client) WatchExecution(ctx context.Context, migrationID, executionID string, fn func(ExecutionEvent) error) error {
	p, err := executionPath(migrationID, executionID)
	if err != nil {
		return err
	}
	req, err := c.newRequest(ctx, http.MethodGet, p+"/events", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", EventStreamMediaType)
	hc := *c.http
	hc.Timeout = 0 // the stream lasts as long as ctx does
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the control plane at %s: %w", c.base.Redacted(), unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		var raw bytes.Buffer
		_, _ = raw.ReadFrom(resp.Body)
		return decodeError(resp, raw.Bytes())
	}
	return readEvents(bufio.NewScanner(resp.Body), fn)
}

// readEvents parses a server-sent events stream: "event:", "id:" and
// "data:" lines, an empty line ending each event, ":" lines ignored.
func readEvents(sc *bufio.Scanner, fn func(ExecutionEvent) error) error {
	sc.Buffer(make([]byte, 64<<10), maxResponseBytes)
	var typ, id string
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data.Len() > 0 {
				if err := dispatch(typ, id, data.String(), fn); err != nil {
					return err
				}
			}
			typ, id = "", ""
			data.Reset()
		case strings.HasPrefix(line, "event:"):
			typ = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "id:"):
			id = strings.TrimSpace(strings.TrimPrefix(line, "id:"))
		case strings.HasPrefix(line, "data:"):
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("api: read the event stream: %w", err)
	}
	return nil
}

// dispatch decodes one event and hands it to fn; an event of a type this
// client does not know is skipped.
func dispatch(typ, id, data string, fn func(ExecutionEvent) error) error {
	ev := ExecutionEvent{Type: typ, ID: id}
	var target any
	switch typ {
	case EventExecution:
		ev.Execution = &domain.Execution{}
		target = ev.Execution
	case EventMetrics:
		ev.Metrics = &ExecutionMetrics{}
		target = ev.Metrics
	default:
		return nil
	}
	if err := json.Unmarshal([]byte(data), target); err != nil {
		return fmt.Errorf("api: decode the %s event: %w", typ, err)
	}
	return fn(ev)
}
