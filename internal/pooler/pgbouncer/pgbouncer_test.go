package pgbouncer_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/pooler/pgbouncer"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// bed is blue and green behind one PgBouncer, pointing at blue at first.
type bed struct {
	blue, green *testbed.Postgres
	bouncer     *testbed.PgBouncer
}

// target is where the bouncer's entry points when it routes to p.
func target(p *testbed.Postgres) pgbouncer.Target {
	return pgbouncer.Target{Host: "127.0.0.1", Port: p.Port(), DBName: testbed.PostgresDatabase}
}

// newBed starts blue and green, each with a table saying who it is, and a
// PgBouncer in front of blue.
func newBed(t *testing.T) *bed {
	t.Helper()
	b := &bed{blue: testbed.StartPostgres(t, testbed.PostgresOptions{}), green: testbed.StartPostgres(t, testbed.PostgresOptions{})}
	for name, p := range map[string]*testbed.Postgres{"blue": b.blue, "green": b.green} {
		conn := connect(t, p.DSN(testbed.PostgresDatabase))
		_, err := conn.Exec(t.Context(), fmt.Sprintf("CREATE TABLE whoami (name text); INSERT INTO whoami VALUES ('%s')", name))
		if err != nil {
			t.Fatalf("create whoami on %s: %v", name, err)
		}
		_ = conn.Close(t.Context())
	}
	// Blue and green share credentials, as a standby and its primary do:
	// PgBouncer logs in to either with the one password of its auth_file.
	conn := connect(t, b.green.DSN(testbed.PostgresDatabase))
	if _, err := conn.Exec(t.Context(), fmt.Sprintf("ALTER ROLE %s PASSWORD '%s'", testbed.PostgresUser, b.blue.Password())); err != nil {
		t.Fatalf("give green blue's password: %v", err)
	}
	_ = conn.Close(t.Context())
	b.bouncer = testbed.StartPgBouncer(t, testbed.PgBouncerOptions{Database: "app", Target: b.blue})
	return b
}

// connect opens a simple-protocol session (the admin console and
// transaction pooling both need it).
func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("parse dsn: %v", err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return conn
}

// manager returns a manager of the bed's bouncer.
func (b *bed) manager(pause time.Duration) *pgbouncer.Manager {
	return pgbouncer.New(pgbouncer.Config{
		AdminDSN: b.bouncer.AdminDSN(), ConfigFile: b.bouncer.ConfigPath(), Database: "app", PauseTimeout: pause,
	})
}

const (
	// clientErrorBackoff is how long a client waits after a failed query.
	clientErrorBackoff = 20 * time.Millisecond
	// restoreTimeout bounds the wait for the pool to serve again after a
	// failed switch (several server_login_retry periods).
	restoreTimeout = 15 * time.Second
)

// answer is one client query through the bouncer.
type answer struct {
	start time.Time
	name  string
	err   error
}

// clients is a loop of goroutines querying whoami through the bouncer.
type clients struct {
	stop    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	answers [][]answer // per goroutine, in order
}

// answeredAfter reports whether every client got an answer to a query
// started after at.
func (c *clients) answeredAfter(at time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, as := range c.answers {
		if len(as) == 0 || !as[len(as)-1].start.After(at) {
			return false
		}
	}
	return true
}

// waitAnsweredAfter polls until every client got an answer to a query
// started after at, or restoreTimeout passed (checkAllFrom then reports
// the clients left without one).
func (c *clients) waitAnsweredAfter(at time.Time) {
	deadline := time.Now().Add(restoreTimeout)
	for !c.answeredAfter(at) && time.Now().Before(deadline) {
		time.Sleep(clientErrorBackoff)
	}
}

// startClients starts n goroutines, each on its own session, querying
// whoami continuously until stopped.
func startClients(t *testing.T, dsn string, n int) *clients {
	t.Helper()
	c := &clients{stop: make(chan struct{}), answers: make([][]answer, n)}
	for i := range n {
		conn := connect(t, dsn)
		c.wg.Go(func() {
			defer conn.Close(context.Background())
			c.loop(conn, i)
		})
	}
	return c
}

// loop queries until stopped, recording each answer.
func (c *clients) loop(conn *pgx.Conn, i int) {
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		a := answer{start: time.Now()}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		a.err = conn.QueryRow(ctx, "SELECT name FROM whoami").Scan(&a.name)
		cancel()
		c.mu.Lock()
		c.answers[i] = append(c.answers[i], a)
		c.mu.Unlock()
		if a.err != nil {
			// An application backs off after an error; a tight loop would
			// only repeat PgBouncer's refusal thousands of times.
			time.Sleep(clientErrorBackoff)
		}
	}
}

// finish stops the loop and returns what each goroutine saw.
func (c *clients) finish() [][]answer {
	close(c.stop)
	c.wg.Wait()
	return c.answers
}

// checkFlip asserts no errors, answers from `from` then from `to` in each
// goroutine and never back, and only `to` for queries started after cut.
func checkFlip(t *testing.T, answers [][]answer, from, to string, cut time.Time) {
	t.Helper()
	for i, as := range answers {
		seenTo, before, after := false, 0, 0
		for _, a := range as {
			switch {
			case a.err != nil:
				t.Errorf("client %d: error: %v", i, a.err)
			case a.name == to:
				seenTo = true
				after++
			case a.name == from && seenTo:
				t.Errorf("client %d: answered by %s again after %s", i, from, to)
			case a.name == from && !a.start.Before(cut):
				t.Errorf("client %d: query started after the switch answered by %s", i, from)
			case a.name == from:
				before++
			default:
				t.Errorf("client %d: unexpected answer %q", i, a.name)
			}
		}
		if before == 0 || after == 0 {
			t.Errorf("client %d: %d answers from %s, %d from %s: want some of each", i, before, from, after, to)
		}
		t.Logf("client %d: %d queries, %d from %s then %d from %s", i, len(as), before, from, after, to)
	}
}

// switchUnderLoad runs clients, switches to `to` and checks the flip.
func (b *bed) switchUnderLoad(t *testing.T, m *pgbouncer.Manager, to *testbed.Postgres, fromName, toName string) {
	t.Helper()
	c := startClients(t, b.bouncer.DSN(), 4)
	time.Sleep(300 * time.Millisecond)
	var events []string
	start := time.Now()
	err := m.Switch(t.Context(), target(to), func(level, msg string) { events = append(events, level+": "+msg) })
	cut := time.Now()
	time.Sleep(300 * time.Millisecond)
	answers := c.finish()
	t.Logf("switch to %s took %s; events:\n%s", toName, cut.Sub(start), strings.Join(events, "\n"))
	if err != nil {
		t.Fatalf("switch to %s: %v", toName, err)
	}
	checkFlip(t, answers, fromName, toName, cut)
	checkCurrent(t, m, target(to))
	checkPaused(t, b.bouncer, false)
}

// checkCurrent asserts what Current reads from the ini.
func checkCurrent(t *testing.T, m *pgbouncer.Manager, want pgbouncer.Target) {
	t.Helper()
	got, err := m.Current(t.Context())
	if err != nil || got != want {
		t.Errorf("Current() = %v, %v; want %v", got, err, want)
	}
}

// checkPaused asserts SHOW DATABASES' paused flag of "app".
func checkPaused(t *testing.T, b *testbed.PgBouncer, want bool) {
	t.Helper()
	admin := connect(t, b.AdminDSN())
	defer admin.Close(context.Background())
	rows, err := admin.Query(t.Context(), "SHOW DATABASES")
	if err != nil {
		t.Fatalf("SHOW DATABASES: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		row := map[string]string{}
		for i, fd := range rows.FieldDescriptions() {
			row[fd.Name] = string(rows.RawValues()[i])
		}
		if row["name"] == "app" && (row["paused"] == "1") != want {
			t.Errorf("app paused = %s, want %v", row["paused"], want)
		}
	}
}

// addUnrelatedLines appends comments and another entry to the ini, which
// a switch must leave byte for byte.
func addUnrelatedLines(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	extra := "\n; an operator's comment\n[databases]\n  other  =  host=127.0.0.1 port=1 dbname='x y' pool_size=3\r\n"
	if _, err := f.WriteString(extra); err != nil {
		t.Fatal(err)
	}
}

// checkOnlyEntryChanged asserts that only the line of "app" differs and
// that the file kept its mode and owner.
func checkOnlyEntryChanged(t *testing.T, before []byte, beforeInfo os.FileInfo, path string) {
	t.Helper()
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bl, al := strings.Split(string(before), "\n"), strings.Split(string(after), "\n")
	if len(bl) != len(al) {
		t.Fatalf("ini has %d lines, had %d", len(al), len(bl))
	}
	for i := range bl {
		if bl[i] != al[i] && !strings.HasPrefix(bl[i], "app = ") {
			t.Errorf("ini line %d changed: %q -> %q", i+1, bl[i], al[i])
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	bs, as := beforeInfo.Sys().(*syscall.Stat_t), fi.Sys().(*syscall.Stat_t)
	if fi.Mode() != beforeInfo.Mode() || bs.Uid != as.Uid || bs.Gid != as.Gid {
		t.Errorf("ini mode/owner %v %d:%d, was %v %d:%d", fi.Mode(), as.Uid, as.Gid, beforeInfo.Mode(), bs.Uid, bs.Gid)
	}
}

func TestSwitch(t *testing.T) {
	b := newBed(t)
	m := b.manager(5 * time.Second)
	checkCurrent(t, m, target(b.blue))
	addUnrelatedLines(t, b.bouncer.ConfigPath())
	before, _ := os.ReadFile(b.bouncer.ConfigPath())
	beforeInfo, err := os.Stat(b.bouncer.ConfigPath())
	if err != nil {
		t.Fatal(err)
	}

	t.Run("BlueToGreen", func(t *testing.T) {
		b.switchUnderLoad(t, m, b.green, "blue", "green")
		checkOnlyEntryChanged(t, before, beforeInfo, b.bouncer.ConfigPath())
	})
	t.Run("GreenBackToBlue", func(t *testing.T) {
		b.switchUnderLoad(t, m, b.blue, "green", "blue")
		after, _ := os.ReadFile(b.bouncer.ConfigPath())
		if string(after) != string(before) {
			t.Errorf("ini after switching back differs from the original:\n%s\nwant:\n%s", after, before)
		}
	})
	t.Run("WaitsForInFlightTransaction", func(t *testing.T) { testWaitsForTransaction(t, b) })
	t.Run("PauseTimeoutResumes", func(t *testing.T) { testPauseTimeout(t, b) })
	t.Run("FailedCheckRestores", func(t *testing.T) { testFailedCheckRestores(t, b, before) })
	t.Run("BadInputChangesNothing", func(t *testing.T) { testBadInput(t, b, before) })
}

// testWaitsForTransaction switches while a transaction on blue is open
// for less than the pause timeout: PAUSE waits for its commit, and only
// then does the entry move to green. It switches back to blue at the end.
func testWaitsForTransaction(t *testing.T, b *bed) {
	m := b.manager(5 * time.Second)
	holder := connect(t, b.bouncer.DSN())
	defer holder.Close(context.Background())
	tx, err := holder.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	const hold = 500 * time.Millisecond
	done := make(chan string, 1)
	go func() {
		time.Sleep(hold)
		var name string
		err := tx.QueryRow(context.Background(), "SELECT name FROM whoami").Scan(&name)
		if err == nil {
			err = tx.Commit(context.Background())
		}
		done <- fmt.Sprintf("%s %v", name, err)
	}()
	start := time.Now()
	if err := m.Switch(t.Context(), target(b.green), nil); err != nil {
		t.Fatalf("switch with a short transaction open: %v", err)
	}
	took := time.Since(start)
	if got := <-done; got != "blue <nil>" {
		t.Errorf("open transaction answered %q, want blue and a commit", got)
	}
	t.Logf("switch waited %s for a transaction held %s", took, hold)
	if took < hold-50*time.Millisecond {
		t.Errorf("switch took %s: it did not wait for the open transaction", took)
	}
	if err := m.Switch(t.Context(), target(b.blue), nil); err != nil {
		t.Fatalf("switch back to blue: %v", err)
	}
}

// testPauseTimeout holds a transaction open past the pause timeout: the
// switch fails, the bouncer is resumed, clients keep working on blue.
func testPauseTimeout(t *testing.T, b *bed) {
	m := b.manager(time.Second)
	holder := connect(t, b.bouncer.DSN())
	defer holder.Close(context.Background())
	tx, err := holder.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "SELECT name FROM whoami"); err != nil {
		t.Fatal(err)
	}
	c := startClients(t, b.bouncer.DSN(), 4)
	time.Sleep(200 * time.Millisecond)
	var events []string
	start := time.Now()
	err = m.Switch(t.Context(), target(b.green), func(level, msg string) { events = append(events, level+": "+msg) })
	took := time.Since(start)
	c.waitAnsweredAfter(start.Add(took)) // the clients PAUSE held get through once resumed
	answers := c.finish()
	t.Logf("switch failed after %s: %v; events:\n%s", took, err, strings.Join(events, "\n"))
	if len(events) == 0 || events[len(events)-1] != "info: resumed app" {
		t.Errorf("last event is not the RESUME: %q", events)
	}
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || took > 3*time.Second {
		t.Fatalf("switch with a long transaction open = %v after %s; want a pause timeout after about 1s", err, took)
	}
	if strings.Contains(err.Error(), b.blue.Password()) {
		t.Errorf("error holds the admin password: %v", err)
	}
	checkAllFrom(t, answers, "blue", start.Add(took))
	checkCurrent(t, m, target(b.blue))
	checkPaused(t, b.bouncer, false)
	if err := tx.Commit(t.Context()); err != nil {
		t.Errorf("commit the long transaction: %v", err)
	}
}

// checkAllFrom asserts every answer came from name without error, and
// that each client got answers after `after`.
func checkAllFrom(t *testing.T, answers [][]answer, name string, after time.Time) {
	t.Helper()
	for i, as := range answers {
		late, wrong := 0, 0
		for _, a := range as {
			if a.err != nil || a.name != name {
				if wrong == 0 {
					t.Errorf("client %d: answer %q, error %v; want %s", i, a.name, a.err, name)
				}
				wrong++
			}
			if a.start.After(after) {
				late++
			}
		}
		if wrong > 1 {
			t.Errorf("client %d: %d of %d answers wrong or failed", i, wrong, len(as))
		}
		if late == 0 {
			t.Errorf("client %d: no answer after the failed switch", i)
		}
		t.Logf("client %d: %d queries, %d after the failed switch", i, len(as), late)
	}
}

// testBadInput: a wrong admin password, an unknown entry and a bad target
// fail before PAUSE, leave the ini alone and keep the password out.
func testBadInput(t *testing.T, b *bed, ini []byte) {
	wrong := strings.Replace(b.bouncer.AdminDSN(), b.blue.Password(), "not-the-password-42", 1)
	unparsable := fmt.Sprintf("postgres://%s:not-the-password-42@127.0.0.1:notaport/pgbouncer", testbed.PostgresUser)
	cases := map[string]*pgbouncer.Manager{
		"unparsable dsn": pgbouncer.New(pgbouncer.Config{AdminDSN: unparsable, ConfigFile: b.bouncer.ConfigPath(), Database: "app"}),
		"wrong password": pgbouncer.New(pgbouncer.Config{AdminDSN: wrong, ConfigFile: b.bouncer.ConfigPath(), Database: "app"}),
		"unknown entry":  pgbouncer.New(pgbouncer.Config{AdminDSN: b.bouncer.AdminDSN(), ConfigFile: b.bouncer.ConfigPath(), Database: "nosuch"}),
	}
	for name, m := range cases {
		err := m.Switch(t.Context(), target(b.green), nil)
		if err == nil {
			t.Errorf("%s: switch succeeded", name)
			continue
		}
		if strings.Contains(err.Error(), "not-the-password-42") || strings.Contains(err.Error(), b.blue.Password()) {
			t.Errorf("%s: error holds a password: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
	if err := b.manager(0).Switch(t.Context(), pgbouncer.Target{Host: "h\n[pgbouncer]", Port: 1, DBName: "x"}, nil); err == nil {
		t.Error("switch to a target with a newline succeeded")
	}
	if after, _ := os.ReadFile(b.bouncer.ConfigPath()); string(after) != string(ini) {
		t.Errorf("bad input changed the ini:\n%s", after)
	}
	checkPaused(t, b.bouncer, false)
}

// testFailedCheckRestores gives the manager a copy of the ini that
// PgBouncer does not read: after PAUSE, rewrite and RELOAD, SHOW DATABASES
// still routes to blue, so the switch fails, puts the copy back as it was
// and resumes.
func testFailedCheckRestores(t *testing.T, b *bed, ini []byte) {
	copyPath := t.TempDir() + "/pgbouncer.ini"
	if err := os.WriteFile(copyPath, ini, 0o640); err != nil {
		t.Fatal(err)
	}
	m := pgbouncer.New(pgbouncer.Config{AdminDSN: b.bouncer.AdminDSN(), ConfigFile: copyPath, Database: "app"})
	var events []string
	err := m.Switch(t.Context(), target(b.green), func(level, msg string) { events = append(events, level+": "+msg) })
	t.Logf("switch with the wrong ini: %v; events:\n%s", err, strings.Join(events, "\n"))
	if err == nil || !strings.Contains(err.Error(), "SHOW DATABASES routes app to") {
		t.Fatalf("switch with the wrong ini = %v, want a failed check", err)
	}
	if got, _ := os.ReadFile(copyPath); string(got) != string(ini) {
		t.Errorf("the ini copy was not restored:\n%s", got)
	}
	if fi, err := os.Stat(copyPath); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("the ini copy lost its mode: %v", err)
	}
	checkPaused(t, b.bouncer, false)
	waitRoutedTo(t, b.bouncer.DSN(), "blue")
	c := startClients(t, b.bouncer.DSN(), 1)
	time.Sleep(50 * time.Millisecond)
	checkAllFrom(t, c.finish(), "blue", time.Time{})
}

// waitRoutedTo polls a query through the bouncer until it is answered by
// name. A refusal on the way is tolerated: on a loaded machine a server
// login may time out, and PgBouncer then refuses clients for
// server_login_retry; what matters is that the pool serves name again. An
// answer from another server fails the test at once.
func waitRoutedTo(t *testing.T, dsn, name string) {
	t.Helper()
	deadline := time.Now().Add(restoreTimeout)
	for {
		got, err := whoami(t.Context(), dsn)
		switch {
		case err == nil && got == name:
			return
		case err == nil:
			t.Fatalf("the bouncer routes to %s, want %s", got, name)
		case time.Now().After(deadline):
			t.Fatalf("the bouncer did not serve %s within %s: last error %v", name, restoreTimeout, err)
		}
		time.Sleep(clientErrorBackoff)
	}
}

// whoami asks, on a session of its own (PgBouncer may close a refused
// one), which server answers through dsn.
func whoami(ctx context.Context, dsn string) (string, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "", err
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	var name string
	return name, conn.QueryRow(ctx, "SELECT name FROM whoami").Scan(&name)
}

func TestCurrentReadsIni(t *testing.T) {
	ini := "[pgbouncer]\nlisten_port = 6432\n; app = host=wrong\n[Databases]\r\n" +
		"other = host=o port=1\r\n  \"my db\" =host=db1 port=6000 dbname='a ''b'''\r\n" +
		"bare = host=h\n[databases]\nlater = port=7000 dbname=x\ndup = host=a\ndup = host=b\nbadport = port=x\n"
	path := t.TempDir() + "/pgbouncer.ini"
	if err := os.WriteFile(path, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	want := map[string]pgbouncer.Target{
		"my db": {Host: "db1", Port: 6000, DBName: "a 'b'"},
		"bare":  {Host: "h", Port: 5432, DBName: "bare"},
		"later": {Port: 7000, DBName: "x"},
	}
	for db, w := range want {
		got, err := pgbouncer.New(pgbouncer.Config{ConfigFile: path, Database: db}).Current(t.Context())
		if err != nil || got != w {
			t.Errorf("Current(%q) = %v, %v; want %v", db, got, err, w)
		}
	}
	for _, db := range []string{"dup", "badport", "listen_port", "app", "nosuch"} {
		if got, err := pgbouncer.New(pgbouncer.Config{ConfigFile: path, Database: db}).Current(t.Context()); err == nil {
			t.Errorf("Current(%q) = %v, want an error", db, got)
		}
	}
}
