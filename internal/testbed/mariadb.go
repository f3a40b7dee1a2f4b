package testbed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Names the MariaDB test bed creates.
const (
	// MariaDBUser is the account the DSNs log in as, from any loopback
	// address: every privilege, with a random password.
	MariaDBUser = "hotswap"
	// MariaDBDatabase is the database the test bed creates.
	MariaDBDatabase = "app"
)

const (
	mariadbLogName    = "mariadb.log"
	mariadbSocketName = "mysqld.sock"
)

// nextServerID numbers the servers of the test process, so that a primary
// and its replicas never share a server_id.
var nextServerID atomic.Uint32

// MariaDBOptions tunes a MariaDB server of the test bed. The zero value is
// ready to use.
type MariaDBOptions struct {
	// Settings are extra server options (name without the leading "--"),
	// given after the test bed's own so they win.
	Settings map[string]string
	// StartTimeout bounds installation, startup and readiness; 0 means 60 s.
	StartTimeout time.Duration
}

// MariaDB is one MariaDB server of the test bed: a primary with binary
// logging and GTIDs, or a replica of one. Its methods are safe for
// concurrent use.
type MariaDB struct {
	dir      string
	port     int
	serverID uint32
	password string
	opts     MariaDBOptions
	replica  bool

	daemon // mariadbd's process: PID, Stop, Kill, Restart
}

// StartMariaDB starts a primary for the test and stops it, and removes its
// folder, when the test ends. It fails the test when the server cannot
// start.
func StartMariaDB(tb testing.TB, opts MariaDBOptions) *MariaDB {
	tb.Helper()
	m, err := NewMariaDB(tb.Context(), "", opts)
	if err != nil {
		tb.Fatalf("testbed: start mariadb: %v", err)
	}
	registerCleanup(tb, m.Stop, m.dir)
	return m
}

// StartReplica starts a GTID replica of m for the test and returns once it
// has caught up with m. It is stopped and removed when the test ends,
// before m is. It fails the test when the replica cannot start.
func (m *MariaDB) StartReplica(tb testing.TB) *MariaDB {
	tb.Helper()
	r, err := m.NewReplica(tb.Context(), "")
	if err != nil {
		tb.Fatalf("testbed: start replica of mariadb on port %d: %v", m.port, err)
	}
	registerCleanup(tb, r.Stop, r.dir)
	return r
}

// NewMariaDB installs a server in dir (a new folder under os.TempDir()
// when empty), starts it on a free loopback port with binary logging and
// GTIDs, and creates MariaDBUser and MariaDBDatabase. As root the server
// runs as root (--user=root). The caller stops it with Stop; the folder is
// left in place.
func NewMariaDB(ctx context.Context, dir string, opts MariaDBOptions) (*MariaDB, error) {
	m, created, err := prepareMariaDB(dir, opts)
	if err != nil {
		return nil, err
	}
	if m.password, err = randomHex(16); err != nil {
		return nil, err
	}
	if err := m.create(ctx, m.createUserAndDatabase); err != nil {
		m.discard(created)
		return nil, err
	}
	return m, nil
}

// NewReplica installs and starts a new server in dir (a new folder when
// empty) that replicates from m with GTIDs (MASTER_USE_GTID=slave_pos),
// read_only, and returns once it has replayed everything m has logged, the
// test bed's user and database included. The caller stops it with Stop.
func (m *MariaDB) NewReplica(ctx context.Context, dir string) (*MariaDB, error) {
	r, created, err := prepareMariaDB(dir, m.opts)
	if err != nil {
		return nil, err
	}
	r.password, r.replica = m.password, true
	if err := r.create(ctx, func(ctx context.Context) error { return r.follow(ctx, m) }); err != nil {
		r.discard(created)
		return nil, err
	}
	return r, nil
}

// prepareMariaDB makes the server's folder and numbers the server.
func prepareMariaDB(dir string, opts MariaDBOptions) (*MariaDB, bool, error) {
	for _, tool := range []string{"mariadbd", "mariadb-install-db"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, false, fmt.Errorf("testbed: %s not found: install mariadb-server (scripts/install-deps.sh): %w", tool, err)
		}
	}
	created := dir == ""
	var err error
	if created {
		dir, err = os.MkdirTemp("", "hotswap-mariadb-")
	} else {
		err = os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return nil, false, fmt.Errorf("testbed: server folder: %w", err)
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = defaultStartTimeout
	}
	m := &MariaDB{dir: dir, opts: opts, serverID: nextServerID.Add(1),
		daemon: daemon{name: "mariadbd", shutdown: syscall.SIGTERM, grace: stopTimeout}}
	m.daemon.start = m.start
	return m, created, nil
}

// create installs the system tables, starts the server and runs setUp.
func (m *MariaDB) create(ctx context.Context, setUp func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, m.opts.StartTimeout)
	defer cancel()
	if err := m.install(ctx); err != nil {
		return err
	}
	if err := m.startOnFreePort(ctx); err != nil {
		return err
	}
	return setUp(ctx)
}

// discard stops a server whose creation failed, and removes its folder
// when the test bed made it.
func (m *MariaDB) discard(created bool) {
	_ = m.Stop()
	if created {
		_ = os.RemoveAll(m.dir)
	}
}

// install gives the server its system tables: a copy of the test bed's
// template data directory, made once per server version (installTemplate).
func (m *MariaDB) install(ctx context.Context) error {
	tmpl, err := installTemplate(ctx)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	cmd := exec.Command("cp", "-a", tmpl, m.dataDir())
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := runCmd(ctx, cmd); err != nil {
		return fmt.Errorf("copy the template data directory: %w\n%s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

// templateMu serialises the creation of the template data directory
// within one process; across processes the rename below does.
var templateMu sync.Mutex

// installTemplate returns a data directory made by mariadb-install-db, in
// os.TempDir() and named after the server's version, creating it when
// missing: root logs in with no password over the Unix socket only.
// Installing takes seconds; copying takes milliseconds.
func installTemplate(ctx context.Context) (string, error) {
	templateMu.Lock()
	defer templateMu.Unlock()
	version, err := exec.Command("mariadbd", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("testbed: mariadbd --version: %w", err)
	}
	sum := sha256.Sum256(version)
	dir := filepath.Join(os.TempDir(), "hotswap-mariadb-template-"+hex.EncodeToString(sum[:6]))
	if _, err := os.Stat(filepath.Join(dir, "mysql")); err == nil {
		return dir, nil
	}
	work, err := os.MkdirTemp("", "hotswap-mariadb-install-")
	if err != nil {
		return "", fmt.Errorf("testbed: template folder: %w", err)
	}
	defer os.RemoveAll(work)
	data := filepath.Join(work, dataDirName)
	if err := runInstallDB(ctx, work, data); err != nil {
		return "", err
	}
	if err := os.Rename(data, dir); err != nil && !errors.Is(err, os.ErrExist) {
		if _, serr := os.Stat(filepath.Join(dir, "mysql")); serr != nil {
			return "", fmt.Errorf("testbed: template data directory: %w", err)
		}
	}
	return dir, nil
}

// runInstallDB runs mariadb-install-db into data.
func runInstallDB(ctx context.Context, work, data string) error {
	args := []string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal",
		"--skip-test-db", "--skip-name-resolve"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	cmd := exec.Command("mariadb-install-db", args...)
	cmd.Dir = work
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := runCmd(ctx, cmd); err != nil {
		return fmt.Errorf("mariadb-install-db: %w\n%s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

// args are the server's command line: the test bed's options, then the
// caller's.
func (m *MariaDB) args() []string {
	args := []string{
		"--no-defaults",
		"--datadir=" + m.dataDir(),
		"--port=" + strconv.Itoa(m.port),
		"--bind-address=127.0.0.1",
		"--socket=" + m.SocketPath(),
		"--pid-file=" + filepath.Join(m.dir, "mariadb.pid"),
		"--server-id=" + strconv.FormatUint(uint64(m.serverID), 10),
		"--log-bin=" + filepath.Join(m.dir, "binlog"),
		"--log-slave-updates",
		"--binlog-format=ROW",
		"--skip-name-resolve",
		"--max-connections=300",
		"--performance-schema=ON",
		"--performance-schema-instrument=wait/lock/metadata/sql/mdl=ON",
		"--performance-schema-consumer-events-statements-current=ON",
		"--innodb-buffer-pool-size=64M",
		"--innodb-log-file-size=32M",
		"--innodb-flush-log-at-trx-commit=0",
		"--sync-binlog=0",
		"--skip-innodb-doublewrite",
	}
	if m.replica {
		args = append(args, "--read-only=ON")
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	for _, k := range sortedKeys(m.opts.Settings) {
		args = append(args, "--"+k+"="+m.opts.Settings[k])
	}
	return args
}

// startOnFreePort picks a free port and starts the server on it, picking
// another when someone else took the port in between.
func (m *MariaDB) startOnFreePort(ctx context.Context) error {
	var err error
	for range portAttempts {
		if m.port, err = FreePort(); err != nil {
			return err
		}
		err = m.start(ctx)
		if err == nil || !errors.Is(err, errPortTaken) {
			return err
		}
	}
	return err
}

// start launches mariadbd and waits until it accepts sessions.
func (m *MariaDB) start(ctx context.Context) error {
	logf, err := os.OpenFile(m.LogPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open server log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command("mariadbd", m.args()...)
	cmd.Dir = m.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	proc, err := startProcess(cmd)
	if err != nil {
		return fmt.Errorf("start mariadbd: %w", err)
	}
	m.running(proc)
	return m.waitReady(ctx, proc, m.port, m.opts.StartTimeout, m.ping, m.logTail)
}

// ping opens an admin session and runs a trivial query.
func (m *MariaDB) ping(ctx context.Context) error {
	db, err := m.Admin()
	if err != nil {
		return err
	}
	defer db.Close()
	return db.PingContext(ctx)
}

// Admin opens a pool of root sessions over the server's Unix socket, for
// the test bed and for tests that need what MariaDBUser may not do. The
// caller closes it.
func (m *MariaDB) Admin() (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Net = "unix"
	cfg.Addr = m.SocketPath()
	cfg.Timeout = 5 * time.Second
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("testbed: admin connector: %w", err)
	}
	return sql.OpenDB(connector), nil
}

// execAdmin runs stmts as root, in order.
func (m *MariaDB) execAdmin(ctx context.Context, stmts ...string) error {
	db, err := m.Admin()
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect to mariadb on port %d as root: %w", m.port, err)
	}
	defer conn.Close()
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			// Only the command's first words: CREATE USER holds the password.
			return fmt.Errorf("set up mariadb on port %d: %s: %w", m.port, firstTwoWords(s), err)
		}
	}
	return nil
}

// firstTwoWords names a statement without its arguments.
func firstTwoWords(s string) string {
	f := strings.Fields(s)
	return strings.Join(f[:min(2, len(f))], " ")
}

// createUserAndDatabase creates MariaDBUser (for 127.0.0.1 and localhost)
// and MariaDBDatabase. They reach replicas through the binary log.
func (m *MariaDB) createUserAndDatabase(ctx context.Context) error {
	var stmts []string
	for _, host := range []string{"127.0.0.1", "localhost"} {
		stmts = append(stmts,
			fmt.Sprintf("CREATE USER '%s'@'%s' IDENTIFIED BY '%s'", MariaDBUser, host, m.password),
			fmt.Sprintf("GRANT ALL PRIVILEGES ON *.* TO '%s'@'%s' WITH GRANT OPTION", MariaDBUser, host))
	}
	stmts = append(stmts, "CREATE DATABASE "+MariaDBDatabase)
	return m.execAdmin(ctx, stmts...)
}

// follow makes m a replica of primary from the start of its binary log and
// waits until it has caught up.
func (m *MariaDB) follow(ctx context.Context, primary *MariaDB) error {
	change := fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='%s', "+
		"MASTER_PASSWORD='%s', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1", primary.port, MariaDBUser, m.password)
	if err := m.execAdmin(ctx, "SET GLOBAL gtid_slave_pos = ''", change, "START SLAVE"); err != nil {
		return err
	}
	return m.WaitCaughtUp(ctx, primary)
}

// WaitCaughtUp polls replica m until it has applied every transaction
// primary has logged so far, or ctx ends.
func (m *MariaDB) WaitCaughtUp(ctx context.Context, primary *MariaDB) error {
	pdb, err := primary.Admin()
	if err != nil {
		return err
	}
	defer pdb.Close()
	var target string
	if err := pdb.QueryRowContext(ctx, "SELECT @@gtid_binlog_pos").Scan(&target); err != nil {
		return fmt.Errorf("testbed: gtid position of mariadb on port %d: %w", primary.port, err)
	}
	rdb, err := m.Admin()
	if err != nil {
		return err
	}
	defer rdb.Close()
	var reached int
	err = rdb.QueryRowContext(ctx, "SELECT MASTER_GTID_WAIT(?, ?)", target, waitSeconds(ctx)).Scan(&reached)
	switch {
	case err != nil:
		return fmt.Errorf("testbed: replica on port %d waiting for %s: %w", m.port, target, err)
	case reached != 0:
		return fmt.Errorf("testbed: replica on port %d did not reach gtid %s%s", m.port, target, m.logTail())
	}
	return nil
}

// waitSeconds is the time left before ctx's deadline, in seconds (60 when
// it has none).
func waitSeconds(ctx context.Context) float64 {
	d, ok := ctx.Deadline()
	if !ok {
		return 60
	}
	return max(time.Until(d).Seconds(), 0.1)
}

// DSN returns the go-sql-driver/mysql DSN that logs in to database as
// MariaDBUser over TCP.
func (m *MariaDB) DSN(database string) string {
	return fmt.Sprintf("%s:%s@tcp(127.0.0.1:%d)/%s", MariaDBUser, m.password, m.port, database)
}

// Password returns MariaDBUser's password.
func (m *MariaDB) Password() string { return m.password }

// Port returns the TCP port the server listens on, on 127.0.0.1.
func (m *MariaDB) Port() int { return m.port }

// Dir returns the server's folder: data directory "data", log file
// "mariadb.log", binary logs and the Unix socket.
func (m *MariaDB) Dir() string { return m.dir }

// SocketPath returns the server's Unix socket.
func (m *MariaDB) SocketPath() string { return filepath.Join(m.dir, mariadbSocketName) }

// LogPath returns the file the server logs to.
func (m *MariaDB) LogPath() string { return filepath.Join(m.dir, mariadbLogName) }

// dataDir is the server's data directory.
func (m *MariaDB) dataDir() string { return filepath.Join(m.dir, dataDirName) }

// logTail returns the end of the server's log, ready to append to an error.
func (m *MariaDB) logTail() string {
	f, err := os.Open(m.LogPath())
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > logTailBytes {
		_, _ = f.Seek(-logTailBytes, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return "\n--- tail of " + m.LogPath() + " ---\n" + string(b)
}
