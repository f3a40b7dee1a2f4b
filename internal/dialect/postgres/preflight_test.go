package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/dialect/postgres"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// TestPreflight asks real servers, as roles with more or fewer rights,
// what HotSwap's guards rely on.
func TestPreflight(t *testing.T) {
	p := testbed.StartPostgres(t, testbed.PostgresOptions{})
	admin := connectTo(t, p.DSN(testbed.PostgresDatabase))
	for _, s := range []string{
		"CREATE ROLE bare LOGIN PASSWORD 'bare-pw-1'",
		"CREATE ROLE monitored LOGIN PASSWORD 'mon-pw-1' IN ROLE pg_monitor",
		"GRANT CREATE ON DATABASE " + testbed.PostgresDatabase + " TO monitored",
		"CREATE ROLE hotswap LOGIN PASSWORD 'named-pw-1' IN ROLE pg_monitor",
		"GRANT CREATE ON DATABASE " + testbed.PostgresDatabase + " TO hotswap",
		"REVOKE CREATE ON DATABASE " + testbed.PostgresDatabase + " FROM PUBLIC",
	} {
		if _, err := admin.Exec(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	cases := []struct {
		name, dsn  string
		wantFailed []string
		wantFix    map[string]string
	}{
		{"superuser", p.DSN(testbed.PostgresDatabase), nil, nil},
		{"pg_monitor with CREATE", p.RoleDSN("monitored", "mon-pw-1", testbed.PostgresDatabase), nil, nil},
		{"role named like the history schema", p.RoleDSN("hotswap", "named-pw-1", testbed.PostgresDatabase),
			[]string{domain.PreflightHistory}, map[string]string{domain.PreflightHistory: "ALTER ROLE hotswap SET search_path = public"}},
		{"bare role", p.RoleDSN("bare", "bare-pw-1", testbed.PostgresDatabase),
			[]string{domain.PreflightSessions, domain.PreflightHistory, domain.PreflightReplication},
			map[string]string{domain.PreflightSessions: "GRANT pg_monitor TO bare",
				domain.PreflightHistory: "GRANT CREATE ON DATABASE " + testbed.PostgresDatabase + " TO bare"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := preflight(t, tc.dsn)
			checkPreflight(t, got, tc.wantFailed, tc.wantFix)
			if strings.Contains(got.Summary()+describeAll(got), "pw-1") || strings.Contains(describeAll(got), p.Password()) {
				t.Errorf("preflight shows a password: %s", describeAll(got))
			}
		})
	}
	t.Run("extension not created", func(t *testing.T) {
		if _, err := admin.Exec(t.Context(), "CREATE DATABASE nostats"); err != nil {
			t.Fatal(err)
		}
		got := preflight(t, p.DSN("nostats"))
		checkPreflight(t, got, []string{domain.PreflightLatency}, map[string]string{domain.PreflightLatency: "CREATE EXTENSION pg_stat_statements"})
	})
}

// TestPreflightWithoutStatements runs on a server that does not preload
// pg_stat_statements: the latency check fails and says so.
func TestPreflightWithoutStatements(t *testing.T) {
	p := testbed.StartPostgres(t, testbed.PostgresOptions{Settings: map[string]string{"shared_preload_libraries": ""}})
	got := preflight(t, p.DSN(testbed.PostgresDatabase))
	checkPreflight(t, got, []string{domain.PreflightLatency}, map[string]string{domain.PreflightLatency: "shared_preload_libraries"})
	if c, _ := got.Check(domain.PreflightLatency); !strings.Contains(c.Detail, "not in shared_preload_libraries") {
		t.Errorf("latency detail = %q, want it to name shared_preload_libraries", c.Detail)
	}
}

// TestPrepareHistory creates the bookkeeping ahead of the first step, once,
// and a role that may not create it gets an error that names no password.
func TestPrepareHistory(t *testing.T) {
	p := testbed.StartPostgres(t, testbed.PostgresOptions{})
	execSQL(t, p.DSN(testbed.PostgresDatabase), "CREATE ROLE bare LOGIN PASSWORD 'bare-pw-1'",
		"REVOKE CREATE ON DATABASE "+testbed.PostgresDatabase+" FROM PUBLIC",
		"CREATE ROLE hotswap LOGIN PASSWORD 'named-pw-1'", "GRANT CREATE ON DATABASE "+testbed.PostgresDatabase+" TO hotswap")
	prepare := func(dsn string) (bool, error) { return open(t, dsn).PrepareHistory(t.Context()) }
	if created, err := prepare(p.RoleDSN("bare", "bare-pw-1", testbed.PostgresDatabase)); created || err == nil ||
		strings.Contains(err.Error(), "bare-pw-1") {
		t.Fatalf("PrepareHistory without CREATE = %v, %v; want an error without the password", created, err)
	}
	// A role named hotswap would find its migrations' new tables in the
	// history schema: nothing is created for it.
	if created, err := prepare(p.RoleDSN("hotswap", "named-pw-1", testbed.PostgresDatabase)); created || err != nil {
		t.Fatalf("PrepareHistory as role hotswap = %v, %v; want nothing done", created, err)
	}
	for i, want := range []bool{true, false} {
		if created, err := prepare(p.DSN(testbed.PostgresDatabase)); err != nil || created != want {
			t.Fatalf("PrepareHistory call %d = %v, %v; want created %v", i+1, created, err, want)
		}
	}
	var n int
	queryRow(t, p.DSN(testbed.PostgresDatabase), `SELECT count(*) FROM pg_tables WHERE schemaname = 'hotswap'`, &n)
	if n != 3 {
		t.Fatalf("bookkeeping tables = %d; want 3", n)
	}
	if got := preflight(t, p.DSN(testbed.PostgresDatabase)); !strings.Contains(describeAll(got), "hotswap.schema_history exists") {
		t.Errorf("preflight after PrepareHistory:\n%s", describeAll(got))
	}
}

// preflight opens dsn and runs the preflight.
func preflight(t *testing.T, dsn string) domain.Preflight {
	t.Helper()
	c, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := c.Preflight(context.WithoutCancel(t.Context()))
	if err != nil {
		t.Fatalf("Preflight: %v", err)
	}
	return got
}

// checkPreflight compares the failed checks with want, and the fixes given.
func checkPreflight(t *testing.T, got domain.Preflight, wantFailed []string, wantFix map[string]string) {
	t.Helper()
	if len(got.Checks) != len(domain.PreflightChecks) {
		t.Errorf("got %d checks, want %d: %+v", len(got.Checks), len(domain.PreflightChecks), got.Checks)
	}
	var failed []string
	for _, c := range got.Failures() {
		failed = append(failed, c.Name)
	}
	if strings.Join(failed, ",") != strings.Join(wantFailed, ",") {
		t.Errorf("failed checks = %v, want %v:\n%s", failed, wantFailed, describeAll(got))
	}
	for name, fix := range wantFix {
		if c, _ := got.Check(name); !strings.Contains(c.Fix, fix) {
			t.Errorf("%s fix = %q, want it to contain %q", name, c.Fix, fix)
		}
	}
}

// describeAll writes every check, for failure messages.
func describeAll(p domain.Preflight) string {
	var b strings.Builder
	for _, c := range p.Checks {
		b.WriteString(c.Describe() + "\n")
	}
	return b.String()
}
