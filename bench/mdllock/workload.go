package main

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"sync"
	"time"
)

// query is one application statement as its client saw it.
type query struct {
	end     time.Time
	latency time.Duration
	failed  bool
}

// workload is the application: clients alternating a point read and a
// point update on items, each statement timed by its client.
type workload struct {
	mu      sync.Mutex
	queries []query
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// startWorkload starts n clients on db until stop is called.
func startWorkload(ctx context.Context, db *sql.DB, n int) *workload {
	ctx, cancel := context.WithCancel(ctx)
	w := &workload{cancel: cancel}
	for range n {
		w.wg.Go(func() { w.client(ctx, db) })
	}
	return w
}

// client runs statements until ctx ends, with a short think time.
func (w *workload) client(ctx context.Context, db *sql.DB) {
	for i := 0; ctx.Err() == nil; i++ {
		id := 1 + rand.IntN(rows)
		stmt := "SELECT pad FROM items WHERE id = ?"
		if i%2 == 1 {
			stmt = "UPDATE items SET k = k + 1 WHERE id = ?"
		}
		start := time.Now()
		_, err := db.ExecContext(ctx, stmt, id)
		if ctx.Err() != nil {
			return
		}
		w.record(query{end: time.Now(), latency: time.Since(start), failed: err != nil})
		time.Sleep(2 * time.Millisecond)
	}
}

// record keeps one statement's outcome.
func (w *workload) record(q query) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.queries = append(w.queries, q)
}

// stop ends the clients and returns every statement they ran.
func (w *workload) stop() []query {
	w.cancel()
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.queries
}

// blocker opens a transaction that reads items, so it holds the table's
// shared metadata lock until release commits it.
func blocker(ctx context.Context, db *sql.DB) (release func() time.Time, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err == nil {
		_, err = tx.ExecContext(ctx, "SELECT count(*) FROM items WHERE id < 10")
	}
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return func() time.Time {
		_ = tx.Commit()
		at := time.Now()
		_ = conn.Close()
		return at
	}, nil
}
