package oracle

import (
	"context"
	"database/sql/driver"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// TestProbe reads the role from v$database: a primary with its Data
// Guard destinations, a standby with its apply lag.
func TestProbe(t *testing.T) {
	f := newFake(t)
	f.query = func(q string, args []driver.Value) (*fakeRows, error) {
		switch q {
		case clientsSQL:
			if args[0] != ProgramName {
				t.Errorf("clients counted without the agent's program: %v", args)
			}
			return rowsOf(row(int64(17))), nil
		case destinationsSQL:
			return rowsOf(row("ORCL_STBY", "VALID")), nil
		case applyLagSQL:
			return rowsOf(row("+00 00:01:07")), nil
		}
		return nil, nil
	}
	c := f.conn()
	st, err := c.Probe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Reachable || st.Role != domain.DetectedPrimary || st.ServerVersion != "19.0.0.0.0" || st.ActiveConnections != 17 ||
		st.SystemIdentifier != "1234567/ORCL" || len(st.Links) != 1 || st.Links[0].Peer != "ORCL_STBY" || st.Links[0].Direction != "downstream" {
		t.Errorf("primary = %+v", st)
	}
	f.role, f.openMode = "PHYSICAL STANDBY", "READ ONLY WITH APPLY"
	st, err = c.Probe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Role != domain.DetectedStandby || st.ReplicationLagSeconds != 67 || len(st.Links) != 0 {
		t.Errorf("standby = %+v, want standby with 67 s of lag", st)
	}
}

// TestProbeDeniedDataGuard keeps the role when the Data Guard views may
// not be read.
func TestProbeDeniedDataGuard(t *testing.T) {
	f := newFake(t)
	f.role = "PHYSICAL STANDBY"
	f.query = func(q string, _ []driver.Value) (*fakeRows, error) {
		switch q {
		case applyLagSQL:
			return nil, oraErr(942, "table or view does not exist")
		case clientsSQL:
			return rowsOf(row(int64(1))), nil
		}
		return nil, nil
	}
	st, err := f.conn().Probe(t.Context())
	if err != nil || st.Role != domain.DetectedStandby {
		t.Errorf("probe = %+v, %v; want a standby", st, err)
	}
}

// TestProbeFailure reports an unreachable instance without its password.
func TestProbeFailure(t *testing.T) {
	f := newFake(t)
	f.query = func(q string, _ []driver.Value) (*fakeRows, error) {
		switch q {
		case clientsSQL:
			return nil, errors.New("connection to oracle://app:s3cret@db lost")
		case destinationsSQL:
			return rowsOf(), nil
		}
		return nil, nil
	}
	st, err := f.conn().Probe(t.Context())
	if err == nil || st.Reachable || st.Role != domain.DetectedUnknown || strings.Contains(st.Error, "s3cret") || st.Error != err.Error() {
		t.Errorf("probe = %+v, %v; want a scrubbed failure", st, err)
	}
}

// TestParseInterval reads v$dataguard_stats' intervals.
func TestParseInterval(t *testing.T) {
	for in, want := range map[string]float64{"+00 00:00:00": 0, "+00 00:01:07": 67, "+01 02:03:04": 93784, "+00 00:00:01.500": 1.5} {
		if got, err := parseInterval(in); err != nil || got != want {
			t.Errorf("parseInterval(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseInterval("soon"); err == nil {
		t.Error("parseInterval accepted garbage")
	}
}

// TestPreflight names the views the account may not read and the grants.
func TestPreflight(t *testing.T) {
	f := newFake(t)
	f.query = func(q string, _ []driver.Value) (*fakeRows, error) {
		switch {
		case q == userSQL:
			return rowsOf(row("DEPLOY")), nil
		case strings.Contains(q, "v$lock "), strings.Contains(q, "v$dataguard_stats"):
			return nil, oraErr(942, "table or view does not exist")
		case strings.HasPrefix(q, "SELECT COUNT(*) FROM v$"):
			return rowsOf(row(int64(1))), nil
		case q == historyUserSQL:
			return rowsOf(row(int64(1))), nil
		case q == anyTablePrivsSQL:
			return rowsOf(row(int64(1))), nil
		case q == historyGrantsSQL:
			return rowsOf(row(int64(0))), nil
		}
		return nil, nil
	}
	p, err := f.conn().Preflight(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]domain.PreflightCheck{}
	for _, c := range p.Checks {
		got[c.Name] = c
	}
	if c := got[domain.PreflightSessions]; c.OK || !strings.Contains(c.Fix, "GRANT SELECT ON SYS.V_$LOCK TO DEPLOY") || !strings.Contains(c.Fix, "SELECT_CATALOG_ROLE") {
		t.Errorf("sessions = %+v", c)
	}
	if c := got[domain.PreflightLatency]; !c.OK {
		t.Errorf("latency = %+v, want OK", c)
	}
	if c := got[domain.PreflightHistory]; c.OK || !strings.Contains(c.Fix, "CREATE ANY TABLE") {
		t.Errorf("history = %+v, want the missing privileges", c)
	}
	if c := got[domain.PreflightReplication]; c.OK || !strings.Contains(c.Fix, "V_$DATAGUARD_STATS") {
		t.Errorf("replication = %+v", c)
	}
	if len(p.Checks) != len(domain.PreflightChecks) {
		t.Errorf("%d checks, want %d", len(p.Checks), len(domain.PreflightChecks))
	}
}

// TestVerifyStep waits on an Active Data Guard standby for the history
// row, and refuses a primary.
func TestVerifyStep(t *testing.T) {
	f := newFake(t)
	f.role, f.openMode = "PHYSICAL STANDBY", "READ ONLY WITH APPLY"
	looks := 0
	f.query = func(q string, args []driver.Value) (*fakeRows, error) {
		switch q {
		case applyLagSQL:
			return rowsOf(row("+00 00:00:02")), nil
		case historyRowSQL:
			looks++
			return rowsOf(row(int64(min(looks-1, 1)))), nil
		}
		return nil, nil
	}
	c := f.conn()
	out, err := c.VerifyStep(t.Context(), dialect.VerifyRequest{ExecutionID: "e1", StepID: "s1", Deadline: time.Now().Add(10 * time.Second), MaxLagSeconds: 5}, nil)
	if err != nil || out.Error != nil || looks < 2 {
		t.Errorf("verify = %+v, %v after %d looks; want arrival on the second look", out, err, looks)
	}
	f.role, f.openMode = "PRIMARY", "READ WRITE"
	if _, err := c.VerifyStep(t.Context(), dialect.VerifyRequest{ExecutionID: "e1", StepID: "s1"}, nil); !errors.Is(err, errNotStandby) {
		t.Errorf("verify on a primary: %v, want errNotStandby", err)
	}
}

// TestOpen keeps the password out of every error and names the agent's
// sessions.
func TestOpen(t *testing.T) {
	_, err := Open(t.Context(), "oracle://app:s3cr%40t@db.example/ORCL?x=%zz")
	if !errors.Is(err, dialect.ErrInvalidDSN) || strings.Contains(err.Error(), "s3cr") {
		t.Errorf("bad DSN: %v", err)
	}
	c, err := Open(t.Context(), "oracle://app:s3cr%40t@db.example:1521/ORCLPDB1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Target() != "db.example:1521/ORCLPDB1" || !strings.Contains(c.scrubText("x s3cr@t y s3cr%40t"), "x *** y ***") {
		t.Errorf("target %q, scrub %q", c.Target(), c.scrubText("x s3cr@t y s3cr%40t"))
	}
	if e, ok := dialect.Lookup(domain.Oracle); !ok || e.Type() != domain.Oracle {
		t.Error("Oracle is not registered")
	}
}

// TestModuleConnector names the module of each new session first.
func TestModuleConnector(t *testing.T) {
	var sent []string
	mc := moduleConnector{Connector: recordingConnector{sent: &sent}}
	conn, err := mc.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
	if len(sent) != 1 || sent[0] != setModuleSQL {
		t.Errorf("sent %q, want the module set first", sent)
	}
}

// recordingConnector opens sessions that record what they are sent.
type recordingConnector struct{ sent *[]string }

// Connect opens a session.
func (r recordingConnector) Connect(context.Context) (driver.Conn, error) {
	return recordingConn(r), nil
}

// Driver is not used.
func (r recordingConnector) Driver() driver.Driver { return fakeDriver{} }

// recordingConn records commands.
type recordingConn struct{ sent *[]string }

// Prepare is not used.
func (r recordingConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("no") }

// Close ends the session.
func (r recordingConn) Close() error { return nil }

// Begin is not used.
func (r recordingConn) Begin() (driver.Tx, error) { return nil, errors.New("no") }

// ExecContext records a command.
func (r recordingConn) ExecContext(_ context.Context, q string, _ []driver.NamedValue) (driver.Result, error) {
	*r.sent = append(*r.sent, q)
	return driver.RowsAffected(0), nil
}

// TestProbeWithoutCatalogViews learns the role from USERENV when the
// account may not read v$database, v$instance or v$session.
func TestProbeWithoutCatalogViews(t *testing.T) {
	f := newFake(t)
	f.denyDatabase = true
	f.query = func(q string, _ []driver.Value) (*fakeRows, error) {
		switch q {
		case roleSQL:
			return rowsOf(row("PRIMARY", "19.0.0.0.0", "ORCL")), nil
		case clientsSQL, destinationsSQL:
			return nil, oraErr(942, "table or view does not exist")
		}
		return nil, nil
	}
	st, err := f.conn().Probe(t.Context())
	if err != nil || !st.Reachable || st.Role != domain.DetectedPrimary || st.ServerVersion != "19.0.0.0.0" || st.SystemIdentifier != "ORCL" {
		t.Errorf("probe = %+v, %v; want a reachable primary", st, err)
	}
}
