package postgres_test

import (
	"errors"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/postgres"
	"github.com/hotswap-db/hotswap/internal/dialect/servershare"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// frozen is a clock that never moves: a shared answer never ages.
func frozen() time.Time { return time.Unix(1_700_000_000, 0) }

// TestProbeSharedServer probes two databases of one server through one
// cache: the second takes the first one's answer to the server-wide
// questions (none of them runs in its database) but still opens a session
// of its own, so a database that cannot be reached is reported as such.
func TestProbeSharedServer(t *testing.T) {
	t.Parallel()
	p := testbed.StartPostgres(t, testbed.PostgresOptions{})
	execSQL(t, p.DSN("app"), "CREATE DATABASE tenant_a", "CREATE DATABASE tenant_b")
	cache := servershare.NewWithClock(frozen)
	a, b := openShared(t, p.DSN("tenant_a"), cache), openShared(t, p.DSN("tenant_b"), cache)
	alone := probe(t, open(t, p.DSN("app")))
	got := []domain.InstanceStatus{probe(t, a), probe(t, b)}
	for i, st := range got {
		if !st.Reachable || st.Role != domain.DetectedPrimary || st.ServerVersion != alone.ServerVersion ||
			st.SystemIdentifier != alone.SystemIdentifier {
			t.Errorf("probe %d: reachable/role/version/id = %v/%s/%s/%s, want true/primary/%s/%s", i, st.Reachable, st.Role,
				st.ServerVersion, st.SystemIdentifier, alone.ServerVersion, alone.SystemIdentifier)
		}
	}
	if n := statementCalls(t, p, "tenant_a", "%pg_stat_replication%"); n != 1 {
		t.Errorf("tenant_a ran the server-wide questions %d times, want 1", n)
	}
	if n := statementCalls(t, p, "tenant_b", "%pg_stat_replication%"); n != 0 {
		t.Errorf("tenant_b ran the server-wide questions %d times, want 0: the answer is shared", n)
	}
	gone := openShared(t, p.DSN("no_such_database"), cache)
	st, err := gone.Probe(t.Context())
	if !errors.Is(err, dialect.ErrUnreachable) || st.Reachable || st.Role != domain.DetectedUnknown {
		t.Errorf("a missing database with a fresh server answer: reachable %v, role %s, err %v; want unreachable",
			st.Reachable, st.Role, err)
	}
}

// TestProbeSharedServerAnswerAges checks that a shared answer is asked
// again once it is older than its maximum age: a new session shows.
func TestProbeSharedServerAnswerAges(t *testing.T) {
	t.Parallel()
	p := testbed.StartPostgres(t, testbed.PostgresOptions{})
	c := openShared(t, p.DSN("app"), servershare.New())
	before := probe(t, c)
	// Two new sessions: a net gain shows even if a session counted in
	// before (the test bed's own, closing) has gone meanwhile.
	connect(t, p.DSN("app"), "orders-service")
	connect(t, p.DSN("app"), "orders-service")
	waitProbe(t, c, "the new sessions to show", func(st domain.InstanceStatus) bool {
		return st.ActiveConnections > before.ActiveConnections
	})
}

// TestSamplerSharesServerFigures checks that a second database's sample
// taken while the first one's server-wide reading is fresh uses it: its
// own query leaves pg_stat_activity alone, and its figures are the
// server's. A sampler never uses one reading twice: each round reads anew.
func TestSamplerSharesServerFigures(t *testing.T) {
	t.Parallel()
	p := testbed.StartPostgres(t, testbed.PostgresOptions{})
	execSQL(t, p.DSN("app"), "CREATE DATABASE tenant_a", "CREATE DATABASE tenant_b")
	connect(t, p.DSN("tenant_a"), samplerApp)
	connect(t, p.DSN("tenant_b"), samplerApp)
	cache := servershare.NewWithClock(frozen)
	sa := newSampler(t, openShared(t, p.DSN("tenant_a"), cache))
	sb := newSampler(t, openShared(t, p.DSN("tenant_b"), cache))
	for range 2 {
		a, b := takeSample(t, sa), takeSample(t, sb)
		if a.ActiveConnections != 2 || b.ActiveConnections != 2 {
			t.Errorf("connections of tenant_a/tenant_b = %d/%d, want the server's 2 in both", a.ActiveConnections, b.ActiveConnections)
		}
	}
	if n := statementCalls(t, p, "tenant_a", "%pg_blocking_pids%"); n != 2 {
		t.Errorf("tenant_a read the server-wide figures %d times in two rounds, want 2", n)
	}
	if n := statementCalls(t, p, "tenant_b", "%pg_blocking_pids%"); n != 0 {
		t.Errorf("tenant_b read the server-wide figures %d times, want 0: the reading is shared", n)
	}
}

// statementCalls counts the calls of the statements like pattern that ran
// in database db (pg_stat_statements, created in the test bed's database).
func statementCalls(t *testing.T, p *testbed.Postgres, db, pattern string) int64 {
	t.Helper()
	var n int64
	queryRow(t, p.DSN("app"), `SELECT coalesce(sum(s.calls), 0)::int8 FROM pg_stat_statements s
		JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '`+db+`' AND s.query LIKE '`+pattern+`'`, &n)
	return n
}

// openShared opens a Conn sharing cache, closed at the end of the test.
func openShared(t *testing.T, dsn string, cache *servershare.Cache) *postgres.Conn {
	t.Helper()
	c, err := postgres.OpenShared(t.Context(), dsn, cache)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}
