package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
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

// Sign returns the signature header's value for body under secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
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
	wait := r.first
	for attempt := 1; ; attempt++ {
		code, err := post(ctx, hc, w, ev, body, r.timeout)
		switch {
		case err == nil && code/100 == 2:
			return nil
		case err == nil && code/100 == 4 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
			return fmt.Errorf("webhook %s refused event %s with %d", w.URL, ev.ID, code)
		case attempt >= r.attempts:
			return fmt.Errorf("webhook %s: event %s not delivered after %d attempts (last: %d %v)", w.URL, ev.ID, attempt, code, err)
		}
		log.Debug("webhook delivery failed; retrying", "url", w.URL, "event", ev.ID, "attempt", attempt, "status", code, "error", err)
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
	req.Header.Set(api.SignatureHeader, Sign(w.Secret, body))
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}
