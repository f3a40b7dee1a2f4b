package mysql_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/dialect/mysql"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// readmeAccountSQL is the README's MariaDB statements that set up the
// agent's account, with password.
func readmeAccountSQL(t *testing.T, password string) []string {
	t.Helper()
	b, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, _ := strings.Cut(string(b), "### The database role")
	for _, m := range regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(after, -1) {
		if !strings.HasPrefix(m[1], "-- MariaDB") {
			continue
		}
		var stmts []string
		for _, line := range strings.Split(m[1], "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "--") {
				stmts = append(stmts, strings.ReplaceAll(strings.TrimSuffix(line, ";"), "CHANGE-ME", password))
			}
		}
		return stmts
	}
	t.Fatal("README has no sql block starting \"-- MariaDB\" under \"### The database role\"")
	return nil
}

// TestPreflight asks a real primary and its replica, as accounts with more
// or fewer privileges, what HotSwap's guards rely on; the README's account
// passes every check and runs a step.
func TestPreflight(t *testing.T) {
	m := testbed.StartMariaDB(t, testbed.MariaDBOptions{})
	r := m.StartReplica(t)
	admin := open(t, m.DSN(testbed.MariaDBDatabase))
	stmts := append(readmeAccountSQL(t, "readme-pw-1"),
		"CREATE USER 'bare'@'%' IDENTIFIED BY 'bare-pw-1'", "GRANT ALL PRIVILEGES ON `app`.* TO 'bare'@'%'",
		"CREATE USER 'blind'@'%' IDENTIFIED BY 'blind-pw-1'", "GRANT REPLICA MONITOR, BINLOG MONITOR ON *.* TO 'blind'@'%'",
		"GRANT SELECT ON performance_schema.* TO 'blind'@'%'", "GRANT ALL PRIVILEGES ON `hotswap`.* TO 'blind'@'%'",
		"GRANT ALL PRIVILEGES ON `app`.* TO 'blind'@'%'",
		// roled holds only its application schema itself; every privilege
		// HotSwap needs comes from its default role.
		"CREATE ROLE hotswap_agent_role",
		"GRANT PROCESS, REPLICA MONITOR, BINLOG MONITOR ON *.* TO hotswap_agent_role",
		"GRANT SELECT ON performance_schema.* TO hotswap_agent_role",
		"GRANT ALL PRIVILEGES ON `hotswap`.* TO hotswap_agent_role",
		"CREATE USER 'roled'@'%' IDENTIFIED BY 'roled-pw-1'", "GRANT ALL PRIVILEGES ON `app`.* TO 'roled'@'%'",
		"GRANT hotswap_agent_role TO 'roled'@'%'", "SET DEFAULT ROLE hotswap_agent_role FOR 'roled'@'%'")
	for _, s := range stmts {
		if _, err := admin.DB().ExecContext(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := r.WaitCaughtUp(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	account := func(s *testbed.MariaDB, user, pw string) string {
		return fmt.Sprintf("%s:%s@tcp(127.0.0.1:%d)/%s", user, pw, s.Port(), testbed.MariaDBDatabase)
	}
	const denied = "'bare'@'%'"
	cases := []struct {
		name, dsn  string
		wantFailed []string
		wantFix    map[string]string
	}{
		{"all privileges", m.DSN(testbed.MariaDBDatabase), nil, nil},
		{"README account", account(m, "hotswap_agent", "readme-pw-1"), nil, nil},
		{"README account on the replica", account(r, "hotswap_agent", "readme-pw-1"), nil, nil},
		{"privileges from a default role", account(m, "roled", "roled-pw-1"), nil, nil},
		{"without PROCESS", account(m, "blind", "blind-pw-1"),
			[]string{domain.PreflightSessions, domain.PreflightReplication},
			map[string]string{domain.PreflightSessions: "GRANT PROCESS ON *.* TO 'blind'@'%'"}},
		{"bare account", account(m, "bare", "bare-pw-1"),
			[]string{domain.PreflightSessions, domain.PreflightLatency, domain.PreflightHistory, domain.PreflightReplication},
			map[string]string{domain.PreflightSessions: "GRANT PROCESS ON *.* TO " + denied,
				domain.PreflightLatency:     "GRANT SELECT ON performance_schema.* TO " + denied,
				domain.PreflightHistory:     "GRANT ALL PRIVILEGES ON `hotswap`.* TO " + denied,
				domain.PreflightReplication: "GRANT REPLICA MONITOR, BINLOG MONITOR ON *.* TO " + denied}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := preflight(t, tc.dsn)
			st, err := open(t, tc.dsn).Probe(t.Context())
			if err != nil || !st.Reachable {
				t.Errorf("probe: %+v, %v; want the instance reachable whatever its account may read", st, err)
			}
			if mayReadReplicas := tc.name != "bare account"; mayReadReplicas != (st.Role != domain.DetectedUnknown) {
				t.Errorf("probe role = %s; want it known exactly when the account may read the replica status", st.Role)
			}
			checkPreflight(t, got, tc.wantFailed, tc.wantFix)
			if text := describeAll(got); strings.Contains(text, "pw-1") || strings.Contains(text, m.Password()) {
				t.Errorf("preflight shows a password: %s", text)
			}
		})
	}
	t.Run("README account runs a step", func(t *testing.T) {
		c := open(t, account(m, "hotswap_agent", "readme-pw-1"))
		if out, _ := run(t, c, step("readme-1", "CREATE TABLE readme (id int PRIMARY KEY); ALTER TABLE readme ADD COLUMN c int")); out.Error != nil {
			t.Fatalf("step as the README's account: %v", out.Error)
		}
	})
	t.Run("instrument and digests off", func(t *testing.T) { testInstrumentsOff(t, admin, m.DSN(testbed.MariaDBDatabase)) })
}

// testInstrumentsOff turns the metadata-lock instrument and the digest
// consumer off: the guard still sees sessions but says it is coarse, and
// the latency check fails with the fix.
func testInstrumentsOff(t *testing.T, admin *mysql.Conn, dsn string) {
	set := func(on string) {
		for _, s := range []string{
			"UPDATE performance_schema.setup_instruments SET ENABLED = '" + on + "' WHERE NAME = 'wait/lock/metadata/sql/mdl'",
			"UPDATE performance_schema.setup_consumers SET ENABLED = '" + on + "' WHERE NAME = 'statements_digest'",
		} {
			if _, err := admin.DB().ExecContext(context.WithoutCancel(t.Context()), s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
	set("NO")
	defer set("YES")
	got := preflight(t, dsn)
	checkPreflight(t, got, []string{domain.PreflightLatency}, map[string]string{domain.PreflightLatency: "statements_digest"})
	if c, _ := got.Check(domain.PreflightSessions); !strings.Contains(c.Detail, "metadata-lock instrument is off") {
		t.Errorf("sessions detail = %q, want it to say the instrument is off", c.Detail)
	}
}

// TestPreflightWithoutPerformanceSchema runs on a server started without
// performance_schema: the latency check fails and says how to turn it on.
func TestPreflightWithoutPerformanceSchema(t *testing.T) {
	m := testbed.StartMariaDB(t, testbed.MariaDBOptions{Settings: map[string]string{"performance-schema": "OFF"}})
	got := preflight(t, m.DSN(testbed.MariaDBDatabase))
	checkPreflight(t, got, []string{domain.PreflightLatency}, map[string]string{domain.PreflightLatency: "performance_schema=ON"})
	if c, _ := got.Check(domain.PreflightSessions); !c.OK || !strings.Contains(c.Detail, "instrument is off") {
		t.Errorf("sessions = %+v, want OK with the instrument off", c)
	}
}

// preflight opens dsn and runs the preflight.
func preflight(t *testing.T, dsn string) domain.Preflight {
	t.Helper()
	c := open(t, dsn)
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
