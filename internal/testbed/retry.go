package testbed

import (
	"context"
	"time"
)

// Retry calls fn every 200 ms until it succeeds, ctx ends or timeout
// passes, and returns fn's last error.
func Retry(ctx context.Context, timeout time.Duration, fn func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
