package testbed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PgBouncer files and timings.
const (
	pgbouncerIni          = "pgbouncer.ini"
	pgbouncerUserlist     = "userlist.txt"
	pgbouncerLog          = "pgbouncer.log"
	pgbouncerStartTimeout = 30 * time.Second
	pgbouncerStopTimeout  = 5 * time.Second
	// PgBouncerAdminDatabase is the name of PgBouncer's admin console.
	PgBouncerAdminDatabase = "pgbouncer"
)

// pgbouncerDatabaseName is what the test bed accepts as a [databases] entry
// name: no quoting needed in the ini or on the admin console.
var pgbouncerDatabaseName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// PgBouncerOptions tunes a PgBouncer of the test bed.
type PgBouncerOptions struct {
	// Database is the [databases] entry clients connect to; empty means
	// PostgresDatabase. Lower-case letters, digits and underscores.
	Database string
	// Target is the backend the entry points at (its database
	// PostgresDatabase, as PostgresUser). Required.
	Target *Postgres
	// PoolMode is session, transaction or statement; empty means transaction.
	PoolMode string
	// StartTimeout bounds startup and readiness; 0 means 30 s.
	StartTimeout time.Duration
}

// PgBouncer is one PgBouncer of the test bed, in front of one PostgreSQL
// server. Clients and the admin console log in as PostgresUser with the
// target's password (auth_type md5, an auth_file); PostgresUser is an
// admin_users member. Its methods are safe for concurrent use.
type PgBouncer struct {
	dir      string
	bin      string
	port     int
	password string
	opts     PgBouncerOptions
	cred     *syscall.Credential // nil: run as the current user

	daemon         // pgbouncer's process: PID, Stop, Kill, Restart
	logStart int64 // size of the log when the process was launched; daemon.mu guards it
}

// StartPgBouncer starts a PgBouncer for the test and stops it, and removes
// its folder, when the test ends. It fails the test when PgBouncer cannot
// start.
func StartPgBouncer(tb testing.TB, opts PgBouncerOptions) *PgBouncer {
	tb.Helper()
	b, err := NewPgBouncer(tb.Context(), "", opts)
	if err != nil {
		tb.Fatalf("testbed: start pgbouncer: %v", err)
	}
	tb.Cleanup(func() {
		if err := b.Stop(); err != nil {
			tb.Errorf("testbed: %v", err)
		}
		if err := os.RemoveAll(b.dir); err != nil {
			tb.Errorf("testbed: remove %s: %v", b.dir, err)
		}
	})
	return b
}

// NewPgBouncer writes pgbouncer.ini and userlist.txt in dir (a new folder
// under os.TempDir() when dir is empty), starts pgbouncer in the foreground
// on a free loopback port, its Unix socket in dir and its output in
// pgbouncer.log there, and returns once a client can query the target
// through it. When running as root PgBouncer runs as the OS user "postgres",
// which owns the folder and the files; root (the agent in tests) can still
// rewrite the ini. The caller stops it with Stop; the folder is left in place.
func NewPgBouncer(ctx context.Context, dir string, opts PgBouncerOptions) (*PgBouncer, error) {
	b, created, err := preparePgBouncer(dir, opts)
	if err != nil {
		return nil, err
	}
	if err := b.startOnFreePort(ctx); err != nil {
		_ = b.Stop()
		if created {
			_ = os.RemoveAll(b.dir)
		}
		return nil, err
	}
	return b, nil
}

// preparePgBouncer checks opts, finds the binary and the OS user, and makes
// the folder.
func preparePgBouncer(dir string, opts PgBouncerOptions) (*PgBouncer, bool, error) {
	opts, err := pgbouncerDefaults(opts)
	if err != nil {
		return nil, false, err
	}
	bin, err := findPgBouncer()
	if err != nil {
		return nil, false, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, false, err
	}
	dir, created, err := makeDir(dir, cred)
	if err != nil {
		return nil, false, err
	}
	b := &PgBouncer{dir: dir, bin: bin, password: opts.Target.Password(), opts: opts, cred: cred,
		daemon: daemon{name: "pgbouncer", shutdown: syscall.SIGTERM, grace: pgbouncerStopTimeout, killOK: true}}
	b.daemon.start = b.start
	return b, created, nil
}

// pgbouncerDefaults validates opts and fills in the defaults.
func pgbouncerDefaults(opts PgBouncerOptions) (PgBouncerOptions, error) {
	if opts.Target == nil {
		return opts, errors.New("testbed: pgbouncer needs a target postgres")
	}
	if opts.Database == "" {
		opts.Database = PostgresDatabase
	}
	if !pgbouncerDatabaseName.MatchString(opts.Database) || opts.Database == PgBouncerAdminDatabase {
		return opts, fmt.Errorf("testbed: pgbouncer database name %q: use lower-case letters, digits and underscores, not %q", opts.Database, PgBouncerAdminDatabase)
	}
	switch opts.PoolMode {
	case "":
		opts.PoolMode = "transaction"
	case "session", "transaction", "statement":
	default:
		return opts, fmt.Errorf("testbed: pgbouncer pool mode %q: want session, transaction or statement", opts.PoolMode)
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = pgbouncerStartTimeout
	}
	return opts, nil
}

// findPgBouncer locates the pgbouncer binary: $HOTSWAP_PGBOUNCER, $PATH,
// then /usr/sbin (Debian's package puts it there, off a user's $PATH).
func findPgBouncer() (string, error) {
	if p := os.Getenv("HOTSWAP_PGBOUNCER"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/pgbouncer", "/usr/local/sbin/pgbouncer", "/usr/local/bin/pgbouncer"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("testbed: no pgbouncer binary: install PgBouncer or set HOTSWAP_PGBOUNCER")
}

// Port returns the TCP port PgBouncer listens on, on 127.0.0.1.
func (b *PgBouncer) Port() int { return b.port }

// DSN returns the URL to log in, through PgBouncer, to the Database entry
// as PostgresUser. In transaction pool mode use pgx's simple protocol (or
// exec mode): the pooled server sessions do not keep prepared statements.
func (b *PgBouncer) DSN() string { return b.dsn(b.opts.Database) }

// AdminDSN returns the URL of PgBouncer's admin console, as PostgresUser
// (an admin_users member). The console speaks the simple query protocol only.
func (b *PgBouncer) AdminDSN() string { return b.dsn(PgBouncerAdminDatabase) }

// dsn returns the URL to log in to database through PgBouncer.
func (b *PgBouncer) dsn(database string) string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", PostgresUser, b.password, b.port, database)
}

// ConfigPath returns the pgbouncer.ini PgBouncer reads on RELOAD.
func (b *PgBouncer) ConfigPath() string { return filepath.Join(b.dir, pgbouncerIni) }

// Dir returns PgBouncer's folder: pgbouncer.ini, userlist.txt, the log and
// the Unix socket.
func (b *PgBouncer) Dir() string { return b.dir }

// LogPath returns the file PgBouncer logs to.
func (b *PgBouncer) LogPath() string { return filepath.Join(b.dir, pgbouncerLog) }

// startOnFreePort picks a free port, writes the config for it and starts
// PgBouncer, picking another port when someone took it in between.
func (b *PgBouncer) startOnFreePort(ctx context.Context) error {
	if err := writeOwnedFile(filepath.Join(b.dir, pgbouncerUserlist), b.userlist(), b.cred); err != nil {
		return err
	}
	var err error
	for range portAttempts {
		if b.port, err = FreePort(); err != nil {
			return err
		}
		if err = writeOwnedFile(b.ConfigPath(), b.ini(), b.cred); err != nil {
			return err
		}
		err = b.start(ctx)
		if err == nil || !errors.Is(err, errPortTaken) {
			return err
		}
	}
	return err
}

// userlist is the auth_file: PostgresUser and its plain password, which
// PgBouncer also uses to log in to the target (SCRAM).
func (b *PgBouncer) userlist() string {
	return fmt.Sprintf("%q %q\n", PostgresUser, b.password)
}

// ini is pgbouncer.ini for the current port.
func (b *PgBouncer) ini() string {
	var s strings.Builder
	s.WriteString(";; written by the hotswap test bed\n[databases]\n")
	fmt.Fprintf(&s, "%s = host=127.0.0.1 port=%d dbname=%s\n\n", b.opts.Database, b.opts.Target.Port(), PostgresDatabase)
	settings := [][2]string{
		{"listen_addr", "127.0.0.1"},
		{"listen_port", strconv.Itoa(b.port)},
		{"unix_socket_dir", b.dir},
		{"auth_type", "md5"},
		{"auth_file", filepath.Join(b.dir, pgbouncerUserlist)},
		{"admin_users", PostgresUser},
		{"pool_mode", b.opts.PoolMode},
		{"ignore_startup_parameters", "extra_float_digits"},
		{"server_login_retry", "1"},
		{"server_connect_timeout", "5"},
		{"query_wait_timeout", "20"},
		{"max_client_conn", "200"},
		{"default_pool_size", "10"},
	}
	s.WriteString("[pgbouncer]\n")
	for _, kv := range settings {
		fmt.Fprintf(&s, "%s = %s\n", kv[0], kv[1])
	}
	return s.String()
}

// start launches PgBouncer and waits until a client can query through it.
func (b *PgBouncer) start(ctx context.Context) error {
	proc, err := b.launch()
	if err != nil {
		return err
	}
	return b.waitReady(ctx, proc, b.port, b.opts.StartTimeout, b.scrubbedPing, b.logTail)
}

// launch starts pgbouncer in the foreground as the server's OS user, its
// output appended to the log, killed if the test process dies.
func (b *PgBouncer) launch() (*process, error) {
	logf, err := os.OpenFile(b.LogPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("testbed: open pgbouncer log: %w", err)
	}
	defer logf.Close()
	fi, err := logf.Stat()
	if err != nil {
		return nil, fmt.Errorf("testbed: pgbouncer log: %w", err)
	}
	cmd := exec.Command(b.bin, b.ConfigPath())
	cmd.Dir = b.dir
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: b.cred, Pdeathsig: syscall.SIGKILL}
	proc, err := startProcess(cmd)
	if err != nil {
		return nil, fmt.Errorf("testbed: start pgbouncer: %w", err)
	}
	b.mu.Lock()
	b.proc, b.logStart = proc, fi.Size()
	b.mu.Unlock()
	return proc, nil
}

// scrubbedPing is ping with the password taken out of its error, which
// waitReady may report.
func (b *PgBouncer) scrubbedPing(ctx context.Context) error {
	if err := b.ping(ctx); err != nil {
		return errors.New(strings.ReplaceAll(err.Error(), b.password, "***"))
	}
	return nil
}

// ping queries the target through PgBouncer.
func (b *PgBouncer) ping(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(b.DSN() + "&connect_timeout=5")
	if err != nil {
		return fmt.Errorf("parse pgbouncer dsn: %w", err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "SELECT 1")
	return err
}

// logTail returns the end of what the current run logged, ready to append
// to an error.
func (b *PgBouncer) logTail() string {
	f, err := os.Open(b.LogPath())
	if err != nil {
		return ""
	}
	defer f.Close()
	b.mu.Lock()
	start := b.logStart
	b.mu.Unlock()
	if fi, err := f.Stat(); err == nil && fi.Size()-start > logTailBytes {
		start = fi.Size() - logTailBytes
	}
	_, _ = f.Seek(start, io.SeekStart)
	out, _ := io.ReadAll(f)
	return "\n--- tail of " + b.LogPath() + " ---\n" + string(out)
}
