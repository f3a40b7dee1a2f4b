package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/hotswap-db/hotswap/internal/api"
)

// Webhook is one receiver: its URL and the secret its deliveries are
// signed with.
type Webhook struct {
	URL    string
	Secret []byte
}

// retry says how a delivery is retried.
type retry struct {
	attempts int
	first    time.Duration // the first wait; each next one doubles
	timeout  time.Duration // of one attempt
}

var defaultRetry = retry{attempts: 6, first: time.Second, timeout: 10 * time.Second}

// deliver POSTs ev to w until a 2xx answer, a refusal that retrying cannot
// change (4xx but 408 and 429), the attempts running out or ctx ending.
func deliver(ctx context.Context, hc *http.Client, w Webhook, ev api.WebhookEvent, r retry, log hclog.Logger) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	return withRetry(ctx, r, func(attempt int) (bool, error) {
		code, err := post(ctx, hc, w, ev, body, r.timeout)
		switch {
		case err == nil && code/100 == 2:
			return false, nil
		case err == nil && code/100 == 4 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
			return false, fmt.Errorf("webhook %s refused event %s with %d", w.URL, ev.ID, code)
		case err == nil:
			err = fmt.Errorf("answered %d", code)
		}
		log.Debug("webhook delivery failed", "url", w.URL, "event", ev.ID, "attempt", attempt, "error", err)
		return true, fmt.Errorf("webhook %s: event %s: %w", w.URL, ev.ID, err)
	})
}

// withRetry calls try until it succeeds, fails for good (retry false), the
// attempts run out or ctx ends, waiting r.first, then twice as long, between
// attempts.
func withRetry(ctx context.Context, r retry, try func(attempt int) (retry bool, err error)) error {
	wait := r.first
	for attempt := 1; ; attempt++ {
		again, err := try(attempt)
		switch {
		case err == nil || !again:
			return err
		case attempt >= r.attempts:
			return fmt.Errorf("not delivered after %d attempts: %w", attempt, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
}

func post(ctx context.Context, hc *http.Client, w Webhook, ev api.WebhookEvent, body []byte, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "hotswap-webhook")
	req.Header.Set(api.EventHeader, ev.Type)
	req.Header.Set(api.DeliveryHeader, ev.ID)
	req.Header.Set(api.SignatureHeader, api.SignWebhook(w.Secret, body))
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}
