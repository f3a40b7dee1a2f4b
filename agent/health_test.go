package agent

import (
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// TestProbeAllAsksEachServerOnce probes three databases of one PostgreSQL
// and one of another: the server-wide questions run once per server, in
// one of its databases, and every database is reported as itself; a
// database that does not exist is reported unreachable all the same.
func TestProbeAllAsksEachServerOnce(t *testing.T) {
	t.Parallel()
	one := testbed.StartPostgres(t, testbed.PostgresOptions{})
	other := testbed.StartPostgres(t, testbed.PostgresOptions{})
	tenants := []string{"tenant_a", "tenant_b", "tenant_c"}
	admin := connectTo(t, one.DSN(testbed.PostgresDatabase))
	for _, db := range tenants {
		if _, err := admin.Exec(t.Context(), "CREATE DATABASE "+db); err != nil {
			t.Fatal(err)
		}
	}
	cfg := agentconfig.Config{ProbeTimeout: time.Minute}
	for _, db := range append(tenants, "no_such_database") {
		cfg.Instances = append(cfg.Instances, agentconfig.InstanceConfig{ID: db, Engine: domain.PostgreSQL, DSN: one.DSN(db)})
	}
	cfg.Instances = append(cfg.Instances, agentconfig.InstanceConfig{ID: "elsewhere", Engine: domain.PostgreSQL,
		DSN: other.DSN(testbed.PostgresDatabase)})
	a := New(cfg, hclog.NewNullLogger())
	t.Cleanup(a.closeConns)

	got := map[string]bool{}
	for _, st := range a.probeAll(t.Context()) {
		got[st.GetInstanceId()] = st.GetReachable()
	}
	want := map[string]bool{"tenant_a": true, "tenant_b": true, "tenant_c": true, "no_such_database": false, "elsewhere": true}
	for id, reachable := range want {
		if got[id] != reachable {
			t.Errorf("%s: reachable %v, want %v", id, got[id], reachable)
		}
	}
	// Once, or twice on a machine so slow that a probe's connect took
	// longer than the answer's maximum age; once per database means the
	// answer was not shared.
	if n := serverQuestions(t, admin, "tenant_%"); n < 1 || n >= int64(len(tenants)) {
		t.Errorf("the tenants' server ran the server-wide questions %d times for %d databases, want 1", n, len(tenants))
	}
	if n := serverQuestions(t, connectTo(t, other.DSN(testbed.PostgresDatabase)), "%"); n != 1 {
		t.Errorf("the other server ran them %d times, want 1", n)
	}
}

// serverQuestions counts the runs of the probe's replication question in
// the databases like pattern (pg_stat_statements).
func serverQuestions(t *testing.T, conn *pgx.Conn, pattern string) int64 {
	t.Helper()
	var n int64
	err := conn.QueryRow(t.Context(), `SELECT coalesce(sum(s.calls), 0)::int8 FROM pg_stat_statements s
		JOIN pg_database d ON d.oid = s.dbid
		WHERE d.datname LIKE $1 AND s.query LIKE '%FROM pg_stat_replication r%'`, pattern).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func connectTo(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(t.Context()) })
	return conn
}
