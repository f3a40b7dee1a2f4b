package guard_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/dialect/postgres"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/guard"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

const waitTimeout = 60 * time.Second

// TestLatencyRuleOnPostgres runs the latency rule on a real server's
// samples: an application of index lookups makes the baseline; a new slow
// statement that pushes the average far over 1.5x is no rollback (the
// lookups are as fast as before); dropping the index the lookups need is,
// and the decision names the lookup with its latency before and after.
func TestLatencyRuleOnPostgres(t *testing.T) {
	p := testbed.StartPostgres(t, testbed.PostgresOptions{})
	dsn := p.DSN("app")
	execSQL(t, dsn, "CREATE TABLE items (id int, k int, pad text)",
		"INSERT INTO items SELECT g, g, repeat('x', 50) FROM generate_series(1, 100000) g",
		"CREATE INDEX items_k ON items (k)", "ANALYZE items")
	c, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	s := c.NewSampler()
	t.Cleanup(s.Close)

	idle := guard.Compute(sampleFor(t, s, 4, nil))
	if idle.LatencyNotArmed == "" {
		t.Errorf("idle window armed the latency rule: %+v", idle)
	}
	load(t, dsn, 2, "SELECT id FROM items WHERE k = $1", func(i int) []any { return []any{i%100000 + 1} })
	base := guard.Compute(sampleFor(t, s, 12, nil))
	lookup := queryID(t, dsn, "SELECT id FROM items WHERE k = $1")
	if base.LatencyNotArmed != "" || len(base.Statements) == 0 || base.Statements[0].ID != lookup {
		t.Fatalf("baseline = %+v, want armed with the lookup %s first", base, lookup)
	}
	t.Logf("baseline: %+v", base.Statements[0])
	r := guard.NewRollback(domain.Thresholds{}, base)

	stopSlow := load(t, dsn, 2, "SELECT pg_sleep(0.2), 'report'", nil)
	averageOver := 0
	sampleFor(t, s, 8, func(smp domain.Sample) bool {
		if smp.AvgLatencyMs > 2*base.AvgLatencyMs {
			averageOver++
		}
		if d, ok := r.Observe(smp); ok {
			t.Fatalf("a new slow statement decided a rollback: %s", d.Reason())
		}
		return false
	})
	stopSlow()
	if averageOver < 2 {
		t.Fatalf("only %d samples had the average over 2x the baseline: the case does not test the mix", averageOver)
	}

	execSQL(t, dsn, "DROP INDEX items_k")
	dropped := time.Now()
	var d domain.Decision
	sampleFor(t, s, 0, func(smp domain.Sample) bool {
		var ok bool
		d, ok = r.Observe(smp)
		return ok
	})
	t.Logf("decided %s after DROP INDEX: %s", time.Since(dropped).Round(time.Millisecond), d.Reason())
	if d.Counter != domain.CounterLatency || len(d.Statements) == 0 || d.Statements[0].ID != lookup ||
		d.Statements[0].AfterMs < 1.5*d.Statements[0].BeforeMs {
		t.Fatalf("decision %+v, want latency naming the lookup %s, slower by over 1.5x", d, lookup)
	}
}

// sampleFor samples every 250 ms: n samples with an interval, or with
// n = 0 until each returns true (failing after waitTimeout).
func sampleFor(t *testing.T, s interface {
	Sample(context.Context) (domain.Sample, error)
}, n int, each func(domain.Sample) bool) []domain.Sample {
	t.Helper()
	var out []domain.Sample
	deadline := time.Now().Add(waitTimeout)
	for taken := 0; n == 0 || taken < n; {
		if time.Now().After(deadline) {
			t.Fatalf("no end to sampling after %s", waitTimeout)
		}
		time.Sleep(250 * time.Millisecond)
		smp, err := s.Sample(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, smp)
		if smp.IntervalMs > 0 {
			taken++
		}
		if each != nil && each(smp) {
			break
		}
	}
	return out
}

// load runs query on clients sessions in loops until stopped or the test
// ends.
func load(t *testing.T, dsn string, clients int, query string, args func(int) []any) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for c := range clients {
		conn := connect(t, dsn)
		wg.Go(func() {
			for i := c; ctx.Err() == nil; i += clients {
				var a []any
				if args != nil {
					a = args(i)
				}
				_, _ = conn.Exec(ctx, query, a...)
			}
		})
	}
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func execSQL(t *testing.T, dsn string, stmts ...string) {
	t.Helper()
	conn := connect(t, dsn)
	for _, s := range stmts {
		if _, err := conn.Exec(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// queryID is the pg_stat_statements id of the statement with text query.
func queryID(t *testing.T, dsn, query string) string {
	t.Helper()
	var id int64
	if err := connect(t, dsn).QueryRow(t.Context(), "SELECT queryid FROM pg_stat_statements WHERE query = $1 LIMIT 1", query).Scan(&id); err != nil {
		t.Fatalf("queryid of %q: %v", query, err)
	}
	return strconv.FormatInt(id, 10)
}
