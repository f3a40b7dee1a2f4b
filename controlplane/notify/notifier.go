package notify

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/hotswap-db/hotswap/internal/api"
)

// Config says where events go.
type Config struct {
	Webhooks []Webhook
	Mail     *Mail // nil: no e-mail
	Logger   hclog.Logger
	// Poll is how often the audit log is read (default 500 ms); expiries
	// are looked for every ExpiryScan (default 1 min).
	Poll, ExpiryScan time.Duration
	Clock            func() time.Time // nil: time.Now
	retry            retry
}

// queueSize bounds the events waiting for delivery; past it the oldest
// wait and new ones are dropped with a warning.
const queueSize = 1024

// Notifier follows the committed state on the leader and sends its events.
type Notifier struct {
	cfg   Config
	state State
	hc    *http.Client
	queue chan api.WebhookEvent
}

// New returns a notifier of st's events; Run sends them.
func New(cfg Config, st State) *Notifier {
	if cfg.Poll <= 0 {
		cfg.Poll = 500 * time.Millisecond
	}
	if cfg.ExpiryScan <= 0 {
		cfg.ExpiryScan = time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.retry.attempts == 0 {
		cfg.retry = defaultRetry
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	return &Notifier{cfg: cfg, state: st, hc: &http.Client{}, queue: make(chan api.WebhookEvent, queueSize)}
}

// Enabled reports whether any webhook is configured.
func (n *Notifier) Enabled() bool {
	return n != nil && (len(n.cfg.Webhooks) > 0 || n.cfg.Mail.Enabled())
}

// Start sends, until ctx ends, the events of what is committed from the
// call on: a new leader starts at the end of the audit log, so nothing from
// before is replayed. The returned wait blocks until it has stopped.
func (n *Notifier) Start(ctx context.Context) (wait func()) {
	if !n.Enabled() {
		return func() {}
	}
	cursor := n.state.LastAuditSeq()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); n.send(ctx) }()
	go func() { defer wg.Done(); n.follow(ctx, cursor) }()
	return wg.Wait
}

// follow turns the audit entries after cursor, and approvals expiring,
// into events.
func (n *Notifier) follow(ctx context.Context, cursor uint64) {
	lastScan := n.cfg.Clock()
	poll := time.NewTicker(n.cfg.Poll)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		}
		for _, e := range n.state.AuditSince(cursor) {
			cursor = e.Seq
			n.enqueue(eventsOf(n.state, e))
		}
		if now := n.cfg.Clock(); now.Sub(lastScan) >= n.cfg.ExpiryScan {
			n.enqueue(expiredSince(n.state, lastScan, now))
			lastScan = now
		}
	}
}

func (n *Notifier) enqueue(events []api.WebhookEvent) {
	for _, ev := range events {
		select {
		case n.queue <- ev:
		default:
			n.cfg.Logger.Warn("webhook queue full: event dropped", "event", ev.ID, "type", ev.Type)
		}
	}
}

// send delivers each event to every webhook, one event at a time, so a
// receiver sees them in order.
func (n *Notifier) send(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-n.queue:
			for _, w := range n.cfg.Webhooks {
				if err := deliver(ctx, n.hc, w, ev, n.cfg.retry, n.cfg.Logger); err != nil && ctx.Err() == nil {
					n.cfg.Logger.Warn("webhook delivery failed", "error", err)
				}
			}
			if n.cfg.Mail.Enabled() {
				if err := n.cfg.Mail.send(ctx, ev, n.cfg.retry); err != nil && ctx.Err() == nil {
					n.cfg.Logger.Warn("mail delivery failed", "error", err)
				}
			}
		}
	}
}
