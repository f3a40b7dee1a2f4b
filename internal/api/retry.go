package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// NotAppliedHeader is set on a 503 answer to a write the server did not
// apply (no leader to take it, a restart replaying its log): the write may
// be sent again. Without it, a write's outcome is unknown.
const NotAppliedHeader = "X-Hotswap-Not-Applied"

// WithUnavailableRetry makes the client resend, for up to total, a request
// the cluster answered 503 while it elects a leader: every read, and the
// writes the server says it did not apply. Each wait is logged with note.
func WithUnavailableRetry(total time.Duration, note func(err error, wait time.Duration)) Option {
	return func(c *Client) { c.retryFor, c.retryNote = total, note }
}

// retryWait is the first pause between tries; it doubles up to retryMaxWait.
const (
	retryWait    = 250 * time.Millisecond
	retryMaxWait = 2 * time.Second
)

// sendRetrying is send, tried again on a retryable 503 until the retry
// budget is spent or ctx ends.
func (c *Client) sendRetrying(ctx context.Context, method, path string, in any) (int, []byte, error) {
	start := time.Now()
	deadline := start.Add(c.retryFor)
	wait := retryWait
	for tries := 1; ; tries++ {
		status, body, err := c.send(ctx, method, path, in)
		if !c.mayRetry(method, err) {
			return status, body, err
		}
		if time.Now().Add(wait).After(deadline) {
			return status, body, fmt.Errorf("%w\n(still unavailable after %d tries in %s)", err, tries,
				time.Since(start).Round(100*time.Millisecond))
		}
		if c.retryNote != nil {
			c.retryNote(err, wait)
		}
		select {
		case <-ctx.Done():
			return status, body, err
		case <-time.After(wait):
		}
		wait = min(2*wait, retryMaxWait)
	}
}

// mayRetry reports whether err is a 503 the request may be sent again
// after: a read, or a write the server did not apply.
func (c *Client) mayRetry(method string, err error) bool {
	var ae *Error
	if c.retryFor <= 0 || !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		return false
	}
	return method == http.MethodGet || method == http.MethodHead || ae.NotApplied
}
