// Package testbed starts real database servers for tests, the demo and
// benchmarks: on loopback, on free ports, in temporary folders, and stopped
// by their own PIDs, never by name. It works as root (servers that refuse to
// run as root run as their own OS user), and it fails loudly when a server
// cannot start: a test that needs a server never passes by skipping it.
package testbed

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Names the PostgreSQL test bed creates.
const (
	// PostgresSuperuser is the bootstrap superuser initdb creates.
	PostgresSuperuser = "postgres"
	// PostgresUser is the role the DSNs log in as: a superuser with
	// REPLICATION and a random password.
	PostgresUser = "dba"
	// PostgresDatabase is the database owned by PostgresUser.
	PostgresDatabase = "app"
)

const (
	defaultStartTimeout = 60 * time.Second
	stopTimeout         = 20 * time.Second
	pollInterval        = 50 * time.Millisecond
	logTailBytes        = 4096
	portAttempts        = 3
	logFileName         = "postgres.log"
	dataDirName         = "data"
)

// PostgresOptions tunes a PostgreSQL server of the test bed. The zero value
// is ready to use.
type PostgresOptions struct {
	// BinDir holds initdb, postgres and pg_basebackup. Empty means
	// $HOTSWAP_PG_BINDIR, else the highest /usr/lib/postgresql/*/bin, else
	// `pg_config --bindir`.
	BinDir string
	// Settings are extra postgresql.conf settings; they win over the test
	// bed's own.
	Settings map[string]string
	// StartTimeout bounds startup and readiness; 0 means 60 s.
	StartTimeout time.Duration
}

// Postgres is one PostgreSQL server of the test bed. Its methods are safe for
// concurrent use.
type Postgres struct {
	dir      string
	bin      string
	port     int
	password string
	opts     PostgresOptions
	cred     *syscall.Credential // nil: run as the current user

	daemon // the postmaster's process: PID, Stop, Kill, Restart
}

// StartPostgres starts a primary for the test and stops it, and removes its
// folder, when the test ends. It fails the test when the server cannot start.
func StartPostgres(tb testing.TB, opts PostgresOptions) *Postgres {
	tb.Helper()
	p, err := NewPostgres(tb.Context(), "", opts)
	if err != nil {
		tb.Fatalf("testbed: start postgres: %v", err)
	}
	registerCleanup(tb, p.Stop, p.dir)
	return p
}

// StartStandby starts a physical streaming standby of p for the test, and
// returns once it streams. It is stopped and removed when the test ends, before
// p is. It fails the test when the standby cannot start.
func (p *Postgres) StartStandby(tb testing.TB) *Postgres {
	tb.Helper()
	s, err := p.NewStandby(tb.Context(), "")
	if err != nil {
		tb.Fatalf("testbed: start standby of postgres on port %d: %v", p.port, err)
	}
	registerCleanup(tb, s.Stop, s.dir)
	return s
}

// registerCleanup stops a server and removes its folder when tb ends.
func registerCleanup(tb testing.TB, stop func() error, dir string) {
	tb.Cleanup(func() {
		if err := stop(); err != nil {
			tb.Errorf("testbed: %v", err)
		}
		if err := os.RemoveAll(dir); err != nil {
			tb.Errorf("testbed: remove %s: %v", dir, err)
		}
	})
}

// NewPostgres creates a cluster in dir (a new folder under os.TempDir() when
// dir is empty) and starts it on a free loopback port, with the role
// PostgresUser and its database PostgresDatabase. When running as root the
// server runs as the OS user "postgres", which must be able to reach dir.
// The caller stops it with Stop; the folder is left in place.
func NewPostgres(ctx context.Context, dir string, opts PostgresOptions) (*Postgres, error) {
	p, created, err := prepare(dir, opts)
	if err != nil {
		return nil, err
	}
	if err := p.create(ctx); err != nil {
		_ = p.Stop()
		if created {
			_ = os.RemoveAll(p.dir)
		}
		return nil, err
	}
	return p, nil
}

// NewStandby creates a physical streaming standby of p in dir (a new folder
// when empty) with pg_basebackup -R and a replication slot, starts it, and
// returns once its WAL receiver streams. The caller stops it with Stop.
func (p *Postgres) NewStandby(ctx context.Context, dir string) (*Postgres, error) {
	s, created, err := prepare(dir, p.opts)
	if err != nil {
		return nil, err
	}
	s.password = p.password
	if err := s.createStandby(ctx, p); err != nil {
		_ = s.Stop()
		if created {
			_ = os.RemoveAll(s.dir)
		}
		return nil, err
	}
	return s, nil
}

// prepare finds the binaries and the OS user, and makes the server's folder.
func prepare(dir string, opts PostgresOptions) (p *Postgres, created bool, err error) {
	bin, err := findBinDir(opts.BinDir)
	if err != nil {
		return nil, false, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, false, err
	}
	dir, created, err = makeDir(dir, cred)
	if err != nil {
		return nil, false, err
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = defaultStartTimeout
	}
	p = &Postgres{dir: dir, bin: bin, opts: opts, cred: cred,
		daemon: daemon{name: "postgres", shutdown: syscall.SIGINT, grace: stopTimeout}}
	p.daemon.start = p.start
	return p, created, nil
}

// create runs initdb, starts the server and creates the role and database.
func (p *Postgres) create(ctx context.Context) error {
	var err error
	if p.password, err = randomHex(16); err != nil {
		return err
	}
	if err := p.initdb(ctx); err != nil {
		return err
	}
	if err := p.writeConfig(); err != nil {
		return err
	}
	if err := p.startOnFreePort(ctx); err != nil {
		return err
	}
	return p.createRoleAndDatabase(ctx)
}

// createStandby clones primary with pg_basebackup and starts the copy.
func (s *Postgres) createStandby(ctx context.Context, primary *Postgres) error {
	slot, err := randomHex(4)
	if err != nil {
		return err
	}
	slot = "hotswap_standby_" + slot
	args := []string{
		"-h", "127.0.0.1", "-p", strconv.Itoa(primary.port), "-U", PostgresUser,
		"-D", s.dataDir(), "-R", "-X", "stream", "-C", "-S", slot, "--checkpoint=fast", "--no-sync",
	}
	if err := s.run(ctx, "pg_basebackup", args, "PGPASSWORD="+s.password); err != nil {
		return err
	}
	if err := s.writeConfig(); err != nil {
		return err
	}
	if err := s.startOnFreePort(ctx); err != nil {
		return err
	}
	return s.waitStreaming(ctx)
}

// DSN returns the URL to log in to database as PostgresUser over TCP.
func (p *Postgres) DSN(database string) string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", PostgresUser, p.password, p.port, database)
}

// RoleDSN returns the URL to log in to database as role with password over
// TCP, for tests of a role other than the test bed's superuser.
func (p *Postgres) RoleDSN(role, password, database string) string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", role, password, p.port, database)
}

// Password returns PostgresUser's password.
func (p *Postgres) Password() string { return p.password }

// Port returns the TCP port the server listens on, on 127.0.0.1.
func (p *Postgres) Port() int { return p.port }

// Dir returns the server's folder: data directory "data", log file
// "postgres.log" and the Unix socket.
func (p *Postgres) Dir() string { return p.dir }

// LogPath returns the file the server logs to.
func (p *Postgres) LogPath() string { return filepath.Join(p.dir, logFileName) }

// dataDir is the cluster's data directory.
func (p *Postgres) dataDir() string { return filepath.Join(p.dir, dataDirName) }

// initdb creates the cluster: superuser PostgresSuperuser with a random
// password, trust on the Unix socket, SCRAM over TCP.
func (p *Postgres) initdb(ctx context.Context) error {
	superPassword, err := randomHex(16)
	if err != nil {
		return err
	}
	pwfile := filepath.Join(p.dir, "pwfile")
	if err := writeOwnedFile(pwfile, superPassword+"\n", p.cred); err != nil {
		return err
	}
	defer os.Remove(pwfile)
	args := []string{
		"-D", p.dataDir(), "-U", PostgresSuperuser, "--pwfile=" + pwfile,
		"--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
	}
	return p.run(ctx, "initdb", args)
}

// writeConfig appends the test bed's settings, then the caller's, to
// postgresql.conf. Port and socket folder are given on the command line.
func (p *Postgres) writeConfig() error {
	settings := [][2]string{
		{"listen_addresses", "127.0.0.1"},
		{"wal_level", "logical"},
		{"max_wal_senders", "10"},
		{"max_replication_slots", "10"},
		{"hot_standby", "on"},
		{"shared_preload_libraries", "pg_stat_statements"},
		{"fsync", "off"},
		{"password_encryption", "scram-sha-256"},
	}
	for _, k := range sortedKeys(p.opts.Settings) {
		settings = append(settings, [2]string{k, p.opts.Settings[k]})
	}
	var b strings.Builder
	b.WriteString("\n# added by the hotswap test bed\n")
	for _, kv := range settings {
		fmt.Fprintf(&b, "%s = '%s'\n", kv[0], strings.ReplaceAll(kv[1], "'", "''"))
	}
	path := filepath.Join(p.dataDir(), "postgresql.conf")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	_, err = f.WriteString(b.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write config %s: %w", path, err)
	}
	return nil
}

// sortedKeys returns m's keys in order, so the config is deterministic.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// startOnFreePort picks a free port and starts the server on it, picking
// another when someone else took the port in between.
func (p *Postgres) startOnFreePort(ctx context.Context) error {
	var err error
	for range portAttempts {
		if p.port, err = FreePort(); err != nil {
			return err
		}
		err = p.start(ctx)
		if err == nil || !errors.Is(err, errPortTaken) {
			return err
		}
	}
	return err
}

// errPortTaken marks a start that failed because the port was in use.
var errPortTaken = errors.New("port already in use")

// start launches the postmaster on p.port and waits until it accepts
// sessions.
func (p *Postgres) start(ctx context.Context) error {
	proc, err := p.launch()
	if err != nil {
		return err
	}
	p.running(proc)
	return p.waitReady(ctx, proc, p.port, p.opts.StartTimeout, p.ping, p.logTail)
}

// launch starts the postmaster, its output appended to the log file, killed
// if the test process dies.
func (p *Postgres) launch() (*process, error) {
	logf, err := os.OpenFile(p.LogPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open server log: %w", err)
	}
	defer logf.Close()
	args := []string{"-D", p.dataDir(), "-p", strconv.Itoa(p.port), "-k", p.dir}
	cmd := p.command(filepath.Join(p.bin, "postgres"), args)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	proc, err := startProcess(cmd)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	return proc, nil
}

// ping opens an admin session and runs a trivial query.
func (p *Postgres) ping(ctx context.Context) error {
	conn, err := p.adminConn(ctx, "postgres")
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "SELECT 1")
	return err
}

// adminConn opens a session as PostgresSuperuser over the Unix socket.
func (p *Postgres) adminConn(ctx context.Context, database string) (*pgx.Conn, error) {
	dsn := fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable connect_timeout=5 application_name=hotswap-testbed",
		p.dir, p.port, PostgresSuperuser, database)
	return pgx.Connect(ctx, dsn)
}

// createRoleAndDatabase creates PostgresUser, PostgresDatabase, and
// pg_stat_statements in it.
func (p *Postgres) createRoleAndDatabase(ctx context.Context) error {
	stmts := []string{
		fmt.Sprintf("CREATE ROLE %s LOGIN SUPERUSER REPLICATION PASSWORD '%s'", PostgresUser, p.password),
		fmt.Sprintf("CREATE DATABASE %s OWNER %s", PostgresDatabase, PostgresUser),
	}
	if err := p.execAdmin(ctx, "postgres", stmts); err != nil {
		return err
	}
	return p.execAdmin(ctx, PostgresDatabase, []string{"CREATE EXTENSION IF NOT EXISTS pg_stat_statements"})
}

// execAdmin runs stmts in database as PostgresSuperuser.
func (p *Postgres) execAdmin(ctx context.Context, database string, stmts []string) error {
	conn, err := p.adminConn(ctx, database)
	if err != nil {
		return fmt.Errorf("connect to %s as %s: %w", database, PostgresSuperuser, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			// Only the command's name: CREATE ROLE holds the password.
			cmd := strings.Join(strings.Fields(s)[:2], " ")
			return fmt.Errorf("set up postgres on port %d: %s: %w", p.port, cmd, err)
		}
	}
	return nil
}

// waitStreaming polls a standby until its WAL receiver streams.
func (p *Postgres) waitStreaming(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.opts.StartTimeout)
	defer cancel()
	conn, err := p.adminConn(ctx, "postgres")
	if err != nil {
		return fmt.Errorf("connect to standby on port %d: %w", p.port, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for {
		var status string
		err := conn.QueryRow(ctx, "SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), 'none')").Scan(&status)
		if err == nil && status == "streaming" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("standby on port %d not streaming (status %q, error %v): %w%s", p.port, status, err, ctx.Err(), p.logTail())
		case <-time.After(pollInterval):
		}
	}
}

// run runs one of the server's tools as the server's OS user and returns
// its output in the error when it fails.
func (p *Postgres) run(ctx context.Context, tool string, args []string, env ...string) error {
	cmd := p.command(filepath.Join(p.bin, tool), args, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := runCmd(ctx, cmd); err != nil {
		return fmt.Errorf("%s: %w\n%s", tool, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// runCmd runs cmd, killing it if ctx ends first.
func runCmd(ctx context.Context, cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		return ctx.Err()
	}
}

// command builds a command that runs in p's folder as the server's OS user,
// with the caller's PG* variables removed so they cannot redirect it.
func (p *Postgres) command(path string, args []string, env ...string) *exec.Cmd {
	cmd := exec.Command(path, args...)
	cmd.Dir = p.dir
	cmd.Env = append(cleanEnv(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	return cmd
}

// cleanEnv is the current environment without PG* variables.
func cleanEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "PG") })
}

// logTail returns the end of the server's log, ready to append to an error.
func (p *Postgres) logTail() string {
	f, err := os.Open(p.LogPath())
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > logTailBytes {
		_, _ = f.Seek(-logTailBytes, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return "\n--- tail of " + p.LogPath() + " ---\n" + string(b)
}

// findBinDir locates the PostgreSQL server binaries.
func findBinDir(explicit string) (string, error) {
	candidates := []string{explicit, os.Getenv("HOTSWAP_PG_BINDIR")}
	candidates = append(candidates, globBinDirs()...)
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	for _, dir := range candidates {
		if dir != "" && isBinDir(dir) {
			return dir, nil
		}
	}
	return "", errors.New("testbed: no PostgreSQL server binaries (initdb, postgres): install them or set HOTSWAP_PG_BINDIR")
}

// globBinDirs lists /usr/lib/postgresql/*/bin, highest major version first.
func globBinDirs() []string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(d string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int {
		va, vb := version(a), version(b)
		switch {
		case va > vb:
			return -1
		case va < vb:
			return 1
		}
		return 0
	})
	return dirs
}

// isBinDir reports whether dir holds initdb and postgres.
func isBinDir(dir string) bool {
	for _, tool := range []string{"initdb", "postgres"} {
		if fi, err := os.Stat(filepath.Join(dir, tool)); err != nil || fi.IsDir() {
			return false
		}
	}
	return true
}

// serverCredential returns the OS user servers run as: "postgres" when the
// test runs as root (PostgreSQL refuses root), else nil for the current user.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("testbed: running as root needs the OS user postgres to run PostgreSQL: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("testbed: uid of postgres: %w", err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("testbed: gid of postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// makeDir creates the server's folder, mode 0700 and owned by cred's user.
func makeDir(dir string, cred *syscall.Credential) (string, bool, error) {
	created := dir == ""
	var err error
	if created {
		dir, err = os.MkdirTemp("", "hotswap-pg-")
	} else {
		err = os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return "", false, fmt.Errorf("testbed: server folder: %w", err)
	}
	if err := chown(dir, cred); err != nil {
		return "", false, err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", false, fmt.Errorf("testbed: server folder: %w", err)
	}
	return dir, created, nil
}

// writeOwnedFile writes content to a new file owned by cred's user.
func writeOwnedFile(path, content string, cred *syscall.Credential) error {
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return fmt.Errorf("testbed: write %s: %w", path, err)
	}
	return chown(path, cred)
}

// chown gives path to cred's user; nothing to do without cred.
func chown(path string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	if err := os.Chown(path, int(cred.Uid), int(cred.Gid)); err != nil {
		return fmt.Errorf("testbed: chown %s: %w", path, err)
	}
	return nil
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("testbed: random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// BinDir is the folder of the server's programs (psql and pgbench among them).
func (p *Postgres) BinDir() string { return p.bin }
