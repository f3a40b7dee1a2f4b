package main

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

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

// mailSettings reads the --smtp-* flags: nil when no relay is given.
func mailSettings(c *cli.Context) (*notify.Mail, error) {
	addr := c.String("smtp-addr")
	if addr == "" {
		for _, f := range []string{"smtp-from", "smtp-to", "smtp-username", "smtp-password-file"} {
			if c.IsSet(f) {
				return nil, fmt.Errorf("--%s is given but no --smtp-addr", f)
			}
		}
		return nil, nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("--smtp-addr %q: want host:port", addr)
	}
	m := &notify.Mail{Addr: addr, From: c.String("smtp-from"), To: c.StringSlice("smtp-to"), Username: c.String("smtp-username")}
	if !strings.Contains(m.From, "@") || len(m.To) == 0 {
		return nil, fmt.Errorf("--smtp-addr needs --smtp-from (an address) and at least one --smtp-to")
	}
	for _, to := range m.To {
		if !strings.Contains(to, "@") || strings.ContainsAny(to, "\r\n,") {
			return nil, fmt.Errorf("--smtp-to %q: want one address", to)
		}
	}
	if path := c.String("smtp-password-file"); path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--smtp-password-file: %w", err)
		}
		m.Password = strings.TrimRight(string(raw), "\r\n")
	}
	return m, nil
}
