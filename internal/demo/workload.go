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
	seconds map[int64]*sample // by the unix second transactions ended in
	failed  int
}

// sample is one second of the application's life.
type sample struct {
	At    time.Time
	TPS   int
	Worst time.Duration
}

func newWorkload(pool *pgxpool.Pool, clients int) *workload {
	return &workload{pool: pool, clients: clients, seconds: map[int64]*sample{}}
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
				w.record(time.Since(start), err != nil && ctx.Err() == nil)
			}
		}(c)
	}
	wg.Wait()
}

// record counts a transaction in the second it ended; its latency counts
// towards that second's worst.
func (w *workload) record(took time.Duration, failed bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if failed {
		w.failed++
		return
	}
	sec := time.Now().Unix()
	s, ok := w.seconds[sec]
	if !ok {
		s = &sample{At: time.Unix(sec, 0)}
		w.seconds[sec] = s
	}
	s.TPS++
	s.Worst = max(s.Worst, took)
}

// last returns the last complete second.
func (w *workload) last() sample {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s, ok := w.seconds[time.Now().Unix()-1]; ok {
		return *s
	}
	return sample{At: time.Unix(time.Now().Unix()-1, 0)}
}

// between returns the seconds from from to to (a second with no
// transaction counts, with 0 tps), and the failures so far.
func (w *workload) between(from, to time.Time) ([]sample, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []sample
	for sec := from.Unix(); sec <= to.Unix(); sec++ {
		s := sample{At: time.Unix(sec, 0)}
		if got, ok := w.seconds[sec]; ok {
			s = *got
		}
		out = append(out, s)
	}
	return out, w.failed
}
