package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/postgres"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

const waitTimeout = 20 * time.Second

func TestScrub(t *testing.T) {
	t.Parallel()
	got := dialect.Scrub("pw=abc, long=abcdef, empty ok", "abc", "", "abcdef")
	if want := "pw=***, long=***, empty ok"; got != want {
		t.Errorf("Scrub = %q, want %q", got, want)
	}
	inner := fmt.Errorf("%w: dial postgres://u:hunter2@h/db: %w", dialect.ErrUnreachable, context.DeadlineExceeded)
	err := dialect.ScrubError(fmt.Errorf("probe: %w", inner), "hunter2")
	if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "u:***@h") {
		t.Errorf("ScrubError text = %q", err)
	}
	if !errors.Is(err, dialect.ErrUnreachable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ScrubError lost the error's kind: %v", err)
	}
	if errors.Is(err, dialect.ErrInvalidDSN) {
		t.Errorf("ScrubError matches a sentinel err did not")
	}
	var leaky *leakyError
	if errors.As(dialect.ScrubError(&leakyError{"hunter2"}, "hunter2"), &leaky) {
		t.Errorf("errors.As reaches the unscrubbed original through ScrubError")
	}
	if dialect.ScrubError(nil, "x") != nil {
		t.Errorf("ScrubError(nil) != nil")
	}
}

// leakyError is a driver-like error that keeps a secret in a field.
type leakyError struct{ dsn string }

func (e *leakyError) Error() string { return "cannot use " + e.dsn }

func TestProbePrimary(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p := testbed.StartPostgres(t, testbed.PostgresOptions{})
	c := open(t, p.DSN("app"))

	st := probe(t, c)
	if st.Engine != domain.PostgreSQL || st.Role != domain.DetectedPrimary || !st.Reachable || st.Error != "" {
		t.Errorf("engine/role/reachable/error = %s/%s/%v/%q, want PostgreSQL/primary/true/empty", st.Engine, st.Role, st.Reachable, st.Error)
	}
	if st.InstanceID != "" {
		t.Errorf("InstanceID = %q, Probe must leave it to the caller", st.InstanceID)
	}
	var version string
	queryRow(t, p.DSN("app"), "SHOW server_version", &version)
	if st.ServerVersion == "" || st.ServerVersion != version {
		t.Errorf("ServerVersion = %q, want %q", st.ServerVersion, version)
	}
	if _, err := strconv.ParseUint(st.SystemIdentifier, 10, 64); err != nil {
		t.Errorf("SystemIdentifier = %q, want a number", st.SystemIdentifier)
	}
	if len(st.Links) != 0 || st.ReplicationLagSeconds != 0 {
		t.Errorf("a lone primary reports links %+v, lag %v", st.Links, st.ReplicationLagSeconds)
	}
	if time.Since(st.CheckedAt) > time.Minute {
		t.Errorf("CheckedAt = %v, not now", st.CheckedAt)
	}
	assertNoSecret(t, st, p.Password())
	t.Run("ActiveConnections", func(t *testing.T) { testActiveConnections(ctx, t, p, c) })
}

// testActiveConnections checks that the application's sessions are counted
// and the agent's are not.
func testActiveConnections(ctx context.Context, t *testing.T, p *testbed.Postgres, c *postgres.Conn) {
	waitProbe(t, c, "no client connections", func(st domain.InstanceStatus) bool { return st.ActiveConnections == 0 })

	// The agent's own sessions: three more of its pool, and one opened elsewhere under its name.
	for range 3 {
		held, err := c.Pool().Acquire(ctx)
		if err != nil {
			t.Fatalf("acquire: %v", err)
		}
		defer held.Release()
		if err := held.Ping(ctx); err != nil {
			t.Fatalf("ping: %v", err)
		}
	}
	connect(t, p.DSN("app"), postgres.ApplicationName)
	if n := probe(t, c).ActiveConnections; n != 0 {
		t.Errorf("ActiveConnections = %d with only agent sessions open, want 0", n)
	}

	client := connect(t, p.DSN("postgres"), "orders-service")
	if n := probe(t, c).ActiveConnections; n != 1 {
		t.Errorf("ActiveConnections = %d with one application session, want 1", n)
	}
	if err := client.Close(ctx); err != nil {
		t.Fatalf("close client: %v", err)
	}
	waitProbe(t, c, "the closed session to go", func(st domain.InstanceStatus) bool { return st.ActiveConnections == 0 })
}

func TestProbeStandby(t *testing.T) {
	t.Parallel()
	primary := testbed.StartPostgres(t, testbed.PostgresOptions{})
	standby := primary.StartStandby(t)
	pc, sc := open(t, primary.DSN("app")), open(t, standby.DSN("app"))

	ps, ss := probe(t, pc), probe(t, sc)
	if ss.Role != domain.DetectedStandby || ps.Role != domain.DetectedPrimary {
		t.Errorf("roles: standby probe says %s, primary probe says %s", ss.Role, ps.Role)
	}
	if ss.SystemIdentifier == "" || ss.SystemIdentifier != ps.SystemIdentifier {
		t.Errorf("system identifiers: standby %q, primary %q, want equal", ss.SystemIdentifier, ps.SystemIdentifier)
	}
	up := onlyLink(t, "standby", ss.Links, "upstream", "physical")
	if want := "127.0.0.1:" + strconv.Itoa(primary.Port()); up.Peer != want || up.State != "streaming" {
		t.Errorf("standby upstream link = %+v, want peer %s, state streaming", up, want)
	}
	if !strings.HasPrefix(up.Name, "hotswap_standby_") {
		t.Errorf("standby upstream slot = %q, want the slot pg_basebackup created", up.Name)
	}
	waitProbe(t, pc, "a streaming downstream link", func(st domain.InstanceStatus) bool {
		return len(st.Links) == 1 && st.Links[0].State == "streaming"
	})
	down := onlyLink(t, "primary", probe(t, pc).Links, "downstream", "physical")
	if down.Name != up.Name || !strings.HasSuffix(down.Peer, "@127.0.0.1") {
		t.Errorf("primary downstream link = %+v, want slot %s, peer app@127.0.0.1", down, up.Name)
	}
	assertNoSecret(t, ss, standby.Password())
	t.Run("ReplicationLag", func(t *testing.T) { testStandbyLag(t, primary, standby, sc) })
	t.Run("NoSlot", func(t *testing.T) { testStandbyWithoutSlot(t, standby, pc) })
}

// testStandbyWithoutSlot makes the standby stream without its slot and
// checks the primary still reports a physical link.
func testStandbyWithoutSlot(t *testing.T, standby *testbed.Postgres, pc *postgres.Conn) {
	execSQL(t, standby.DSN("app"), "ALTER SYSTEM SET primary_slot_name = ''", "SELECT pg_reload_conf()")
	st := waitProbe(t, pc, "a sender without a slot", func(st domain.InstanceStatus) bool {
		return len(st.Links) == 1 && st.Links[0].Name == "" && st.Links[0].State == "streaming"
	})
	if l := st.Links[0]; l.Direction != "downstream" || l.Kind != "physical" {
		t.Errorf("slotless sender link = %+v, want downstream physical", l)
	}
}

// testStandbyLag pauses replay on the standby and checks the lag grows, then
// resumes it and checks the lag returns to 0.
func testStandbyLag(t *testing.T, primary, standby *testbed.Postgres, sc *postgres.Conn) {
	execSQL(t, primary.DSN("app"), "CREATE TABLE lag_check (id int)", "INSERT INTO lag_check VALUES (1)")
	waitFor(t, "the standby to replay lag_check", func() bool {
		var n int
		return tryQueryRow(standby.DSN("app"), "SELECT count(*) FROM lag_check", &n) == nil && n == 1
	})
	if lag := probe(t, sc).ReplicationLagSeconds; lag != 0 {
		t.Errorf("caught-up standby lag = %v, want 0", lag)
	}
	execSQL(t, standby.DSN("app"), "SELECT pg_wal_replay_pause()")
	execSQL(t, primary.DSN("app"), "INSERT INTO lag_check VALUES (2)")
	st := waitProbe(t, sc, "lag to grow while replay is paused", func(st domain.InstanceStatus) bool {
		return st.ReplicationLagSeconds >= 0.5
	})
	if up := onlyLink(t, "standby", st.Links, "upstream", "physical"); up.LagSeconds != st.ReplicationLagSeconds {
		t.Errorf("upstream link lag %v != instance lag %v", up.LagSeconds, st.ReplicationLagSeconds)
	}
	execSQL(t, standby.DSN("app"), "SELECT pg_wal_replay_resume()")
	waitProbe(t, sc, "lag back to 0 after replay resumed", func(st domain.InstanceStatus) bool {
		return st.ReplicationLagSeconds == 0
	})
}

func TestProbeLogical(t *testing.T) {
	t.Parallel()
	pub := testbed.StartPostgres(t, testbed.PostgresOptions{})
	sub := testbed.StartPostgres(t, testbed.PostgresOptions{})
	execSQL(t, pub.DSN("app"),
		"CREATE TABLE items (id int PRIMARY KEY)", "INSERT INTO items VALUES (1)",
		"CREATE PUBLICATION hotswap_pub FOR TABLE items")
	execSQL(t, sub.DSN("app"), "CREATE TABLE items (id int PRIMARY KEY)", fmt.Sprintf(
		"CREATE SUBSCRIPTION hotswap_sub CONNECTION 'host=127.0.0.1 port=%d user=%s password=%s dbname=app' PUBLICATION hotswap_pub",
		pub.Port(), testbed.PostgresUser, pub.Password()))
	pc, sc := open(t, pub.DSN("app")), open(t, sub.DSN("app"))

	ss := waitProbe(t, sc, "the subscription to stream", func(st domain.InstanceStatus) bool {
		return len(st.Links) == 1 && st.Links[0].State == "streaming"
	})
	up := onlyLink(t, "subscriber", ss.Links, "upstream", "logical")
	if up.Peer != "hotswap_sub" || up.Name != "hotswap_sub" {
		t.Errorf("subscriber upstream link = %+v, want peer and name hotswap_sub", up)
	}
	if ss.Role != domain.DetectedPrimary {
		t.Errorf("subscriber role = %s, want primary", ss.Role)
	}
	assertNoSecret(t, ss, pub.Password())
	assertNoSecret(t, ss, sub.Password())

	ps := waitProbe(t, pc, "the publisher's sender for hotswap_sub", func(st domain.InstanceStatus) bool {
		return len(st.Links) == 1 && st.Links[0].Name == "hotswap_sub" && st.Links[0].State == "streaming"
	})
	down := onlyLink(t, "publisher", ps.Links, "downstream", "logical")
	if down.Peer != "hotswap_sub@127.0.0.1" {
		t.Errorf("publisher downstream peer = %q, want hotswap_sub@127.0.0.1", down.Peer)
	}

	if err := pub.Stop(); err != nil {
		t.Fatalf("stop publisher: %v", err)
	}
	waitProbe(t, sc, "the subscription to stop with its publisher", func(st domain.InstanceStatus) bool {
		return len(st.Links) == 1 && st.Links[0].State == "stopped"
	})
	execSQL(t, sub.DSN("app"), "ALTER SUBSCRIPTION hotswap_sub DISABLE")
	waitProbe(t, sc, "the subscription to show disabled", func(st domain.InstanceStatus) bool {
		return len(st.Links) == 1 && st.Links[0].State == "disabled"
	})
}

func TestProbeUnreachable(t *testing.T) {
	t.Parallel()
	port, err := testbed.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	const password = "Unreachable-s3cret/pw"
	dsn := fmt.Sprintf("postgres://hotswap:%s@127.0.0.1:%d/app?sslmode=disable&connect_timeout=2",
		strings.ReplaceAll(password, "/", "%2F"), port)
	c := open(t, dsn)
	if c.Password() != password {
		t.Errorf("Password() = %q, want %q", c.Password(), password)
	}
	assertProbeFails(t, c, password, "Unreachable-s3cret%2Fpw")
}

func TestProbeWrongPasswordAndCrash(t *testing.T) {
	t.Parallel()
	p := testbed.StartPostgres(t, testbed.PostgresOptions{})
	const wrong = "Wrong-pa55word"
	bad := open(t, fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/app?sslmode=disable", testbed.PostgresUser, wrong, p.Port()))
	assertProbeFails(t, bad, wrong)
	// The password is also the database name, so the server's and the
	// driver's messages both quote it: Probe must scrub it everywhere.
	named := open(t, fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", testbed.PostgresUser, p.Password(), p.Port(), p.Password()))
	assertProbeFails(t, named, p.Password())

	c := open(t, p.DSN("app"))
	probe(t, c)
	p.Kill()
	assertProbeFails(t, c, p.Password())
	if err := p.Restart(t.Context()); err != nil {
		t.Fatalf("restart: %v", err)
	}
	waitProbe(t, c, "the pool to reach the restarted server", func(st domain.InstanceStatus) bool {
		return st.Role == domain.DetectedPrimary
	})
}

func TestOpenInvalidDSN(t *testing.T) {
	t.Parallel()
	// The driver's own redaction leaves the last two passwords (or part of
	// them) in its message.
	for _, dsn := range []string{
		"postgres://hotswap:Inval1d-secret@127.0.0.1:notaport/app",
		"host=127.0.0.1 port=notaport password=Inval1d-secret",
		"host=127.0.0.1 port=notaport password='Inval1d-secret'",
		"host=127.0.0.1 password = Inval1d-secret port=notaport",
		`host=127.0.0.1 password='Inval1d\' secret' port=notaport`,
	} {
		c, err := postgres.Open(t.Context(), dsn)
		if err == nil {
			c.Close()
			t.Errorf("Open(%q) succeeded, want an error", dsn)
			continue
		}
		if strings.Contains(err.Error(), "Inval1d") || strings.Contains(err.Error(), "secret") {
			t.Errorf("Open error holds the password: %q", err)
		}
		if !errors.Is(err, dialect.ErrInvalidDSN) || !strings.Contains(err.Error(), "invalid port") {
			t.Errorf("Open error = %q, want ErrInvalidDSN saying why", err)
		}
	}
}

// assertProbeFails probes c, expecting an unreachable instance and no secret
// in the error or the status.
func assertProbeFails(t *testing.T, c *postgres.Conn, secrets ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	st, err := c.Probe(ctx)
	if err == nil {
		t.Fatalf("Probe succeeded, want an error")
	}
	if !errors.Is(err, dialect.ErrUnreachable) {
		t.Errorf("Probe error %q does not wrap ErrUnreachable", err)
	}
	if st.Reachable || st.Role != domain.DetectedUnknown || st.Error != err.Error() || st.Engine != domain.PostgreSQL {
		t.Errorf("failed probe status = %+v, want unreachable, unknown role, the error's text", st)
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Errorf("Probe error holds a secret: %q", err)
		}
		assertNoSecret(t, st, s)
	}
}

// assertNoSecret fails when st, as sent on the wire, contains secret.
func assertNoSecret(t *testing.T, st domain.InstanceStatus, secret string) {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) {
		t.Errorf("status holds a secret: %s", b)
	}
}

// onlyLink returns the single link of links, failing unless it has the given
// direction and kind.
func onlyLink(t *testing.T, who string, links []domain.ReplicationLink, direction, kind string) domain.ReplicationLink {
	t.Helper()
	if len(links) != 1 || links[0].Direction != direction || links[0].Kind != kind {
		t.Fatalf("%s links = %+v, want one %s %s link", who, links, direction, kind)
	}
	return links[0]
}

// open opens a Conn closed at the end of the test.
func open(t *testing.T, dsn string) *postgres.Conn {
	t.Helper()
	c, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// probe probes c, failing the test on error.
func probe(t *testing.T, c *postgres.Conn) domain.InstanceStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	st, err := c.Probe(ctx)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	return st
}

// waitProbe probes c until ok holds, failing the test after waitTimeout.
func waitProbe(t *testing.T, c *postgres.Conn, what string, ok func(domain.InstanceStatus) bool) domain.InstanceStatus {
	t.Helper()
	var st domain.InstanceStatus
	var err error
	waitFor(t, what, func() bool {
		st, err = c.Probe(t.Context())
		return err == nil && ok(st)
	})
	return st
}

// waitFor polls cond until it holds, failing the test after waitTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", waitTimeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// connect opens a session named app, closed at the end of the test.
func connect(t *testing.T, dsn, app string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = app
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatalf("connect as %s: %v", app, err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// execSQL runs stmts one by one, failing the test on error.
func execSQL(t *testing.T, dsn string, stmts ...string) {
	t.Helper()
	conn := connect(t, dsn, "hotswap-test")
	for _, s := range stmts {
		if _, err := conn.Exec(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	_ = conn.Close(t.Context())
}

// queryRow scans one row, failing the test on error.
func queryRow(t *testing.T, dsn, sql string, dest ...any) {
	t.Helper()
	if err := tryQueryRow(dsn, sql, dest...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// tryQueryRow scans one row with a short-lived pool.
func tryQueryRow(dsn, sql string, dest ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return err
	}
	defer pool.Close()
	return pool.QueryRow(ctx, sql).Scan(dest...)
}
