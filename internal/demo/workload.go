package demo

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// workload is the application: clients running short transactions on the
// table being migrated, each second's throughput and worst latency kept.
type workload struct {
	pool    *pgxpool.Pool
	clients int

	mu      sync.Mutex
	second  int64 // unix second being counted
	count   int
	worst   time.Duration
	history []sample
	failed  int
}

// sample is one second of the application's life.
type sample struct {
	At    time.Time
	TPS   int
	Worst time.Duration
}

func newWorkload(pool *pgxpool.Pool, clients int) *workload {
	return &workload{pool: pool, clients: clients}
}

// run drives the clients until ctx ends.
func (w *workload) run(ctx context.Context) {
	var wg sync.WaitGroup
	for c := 0; c < w.clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := c; ctx.Err() == nil; i += w.clients {
				start := time.Now()
				_, err := w.pool.Exec(ctx, "UPDATE demo_accounts SET balance = balance + 1 WHERE id = $1", i%10000+1)
				w.record(start, time.Since(start), err != nil && ctx.Err() == nil)
			}
		}(c)
	}
	wg.Wait()
}

func (w *workload) record(start time.Time, took time.Duration, failed bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	sec := start.Unix()
	if sec != w.second {
		if w.second != 0 {
			w.history = append(w.history, sample{At: time.Unix(w.second, 0), TPS: w.count, Worst: w.worst})
		}
		w.second, w.count, w.worst = sec, 0, 0
	}
	if failed {
		w.failed++
		return
	}
	w.count++
	w.worst = max(w.worst, took)
}

// last returns the last complete second.
func (w *workload) last() sample {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.history) == 0 {
		return sample{}
	}
	return w.history[len(w.history)-1]
}

// summary returns the samples between from and to, and the failures.
func (w *workload) between(from, to time.Time) ([]sample, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []sample
	for _, s := range w.history {
		if !s.At.Before(from.Truncate(time.Second)) && s.At.Before(to) {
			out = append(out, s)
		}
	}
	return out, w.failed
}
