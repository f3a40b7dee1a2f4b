package notify

import (
	"context"
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/api"
)

// Mail says where e-mail notifications go, through an SMTP relay.
type Mail struct {
	Addr     string   // the relay, host:port
	From     string   // the sender address
	To       []string // the recipients
	Username string   // for PLAIN authentication (the relay must offer TLS, or be local)
	Password string
}

// Enabled reports whether mail is configured.
func (m *Mail) Enabled() bool { return m != nil && m.Addr != "" && len(m.To) > 0 }

// message writes ev as a plain-text e-mail.
func (m *Mail) message(ev api.WebhookEvent) []byte {
	subject := fmt.Sprintf("[HotSwap] %s %s", ev.Type, firstOf(ev.ExecutionID, ev.MigrationID))
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@hotswap>\r\n", m.From,
		strings.Join(m.To, ", "), subject, time.Now().UTC().Format(time.RFC1123Z), ev.ID)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	for _, f := range [][2]string{{"Event", ev.Type}, {"At", ev.At.UTC().Format(time.RFC3339)}, {"By", ev.Actor},
		{"Migration", ev.MigrationID}, {"Execution", ev.ExecutionID}, {"Database", ev.DatabaseID}, {"Detail", ev.Detail}} {
		if f[1] != "" {
			fmt.Fprintf(&b, "%-10s %s\r\n", f[0]+":", strings.ReplaceAll(f[1], "\n", "\r\n           "))
		}
	}
	if ev.Automatic {
		b.WriteString("\r\nHotSwap decided this rollback itself, from the database's counters.\r\n")
	}
	return []byte(b.String())
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// send mails ev, retrying a relay that is down or answers a temporary
// (4xx) error; a permanent (5xx) refusal is not retried.
func (m *Mail) send(ctx context.Context, ev api.WebhookEvent, r retry) error {
	msg := m.message(ev)
	return withRetry(ctx, r, func(int) (bool, error) {
		err := m.sendOnce(msg)
		if err == nil {
			return false, nil
		}
		return !permanent(err), fmt.Errorf("mail %s via %s: %w", ev.ID, m.Addr, err)
	})
}

func (m *Mail) sendOnce(msg []byte) error {
	var auth smtp.Auth
	if m.Username != "" {
		host, _, _ := net.SplitHostPort(m.Addr)
		auth = smtp.PlainAuth("", m.Username, m.Password, host)
	}
	return smtp.SendMail(m.Addr, auth, m.From, m.To, msg)
}

// permanent reports an SMTP refusal that retrying cannot change (5xx).
func permanent(err error) bool {
	var code int
	_, scanErr := fmt.Sscanf(err.Error(), "%d", &code)
	return scanErr == nil && code >= 500 && code < 600
}
