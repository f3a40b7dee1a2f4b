package main

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/hotswap-db/hotswap/controlplane/notify"
)

// webhooks checks the --webhook URLs and reads their signing secret.
func webhooks(urls []string, secretFile string) ([]notify.Webhook, error) {
	if len(urls) == 0 {
		if secretFile != "" {
			return nil, fmt.Errorf("--webhook-secret-file is given but no --webhook")
		}
		return nil, nil
	}
	if secretFile == "" {
		return nil, fmt.Errorf("--webhook needs --webhook-secret-file: deliveries are signed so a receiver can trust them")
	}
	raw, err := os.ReadFile(secretFile)
	if err != nil {
		return nil, fmt.Errorf("--webhook-secret-file: %w", err)
	}
	secret := strings.TrimSpace(string(raw))
	if len(secret) < 16 {
		return nil, fmt.Errorf("--webhook-secret-file %s: the secret must be at least 16 characters", secretFile)
	}
	var out []notify.Webhook
	for _, raw := range urls {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--webhook %q: want an http:// or https:// URL", raw)
		}
		out = append(out, notify.Webhook{URL: u.String(), Secret: []byte(secret)})
	}
	return out, nil
}
