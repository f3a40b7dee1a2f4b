// Package oracle implements dialect.Conn for Oracle Database 19c and
// 23ai, on github.com/sijms/go-ora/v2 (a pure-Go driver: no Instant
// Client). It asks the server itself for its role (v$database's
// DATABASE_ROLE: PRIMARY, PHYSICAL STANDBY, ...) and open mode, its
// version, its Data Guard destinations and apply lag, and never returns a
// connection string or password.
//
// DDL commits by itself in Oracle, before and after the statement, so
// every script runs stepwise: statement by statement, each recorded in
// HOTSWAP.STEP_PROGRESS as it completes (history.go). The package is
// built and unit-tested against a database/sql driver double that returns
// go-ora's own error type; it has not yet been run against a real server
// (see the README).
package oracle

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	go_ora "github.com/sijms/go-ora/v2"
	"github.com/sijms/go-ora/v2/network"

	"github.com/hotswap-db/hotswap/internal/dialect"
)

// ProgramName is the program (v$session.PROGRAM) and module
// (v$session.MODULE, v$sqlarea.MODULE) of every session the agent opens,
// so its own sessions and statements can be told apart from the
// application's and left out of the figures.
const ProgramName = "hotswap-agent"

const (
	maxConns = 6
	// setModuleSQL names the module of a new session.
	setModuleSQL = "BEGIN DBMS_APPLICATION_INFO.SET_MODULE(module_name => 'hotswap-agent', action_name => NULL); END;"
)

// Conn is an agent-side connection pool to one Oracle instance. It
// implements dialect.Conn and is safe for concurrent use.
type Conn struct {
	db      *sql.DB
	secrets []string
	target  string // host:port/service, safe to show
	hist    historyState
}

// Open parses dsn (go-ora's URL form, oracle://user:password@host:port/service)
// and returns a pool of at most 6 connections whose sessions carry the
// program and module "hotswap-agent". Open does not connect. Errors never
// hold the password; a DSN that cannot be parsed wraps dialect.ErrInvalidDSN.
func Open(_ context.Context, dsn string) (*Conn, error) {
	secrets := dsnPasswords(dsn)
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, dialect.ScrubError(fmt.Errorf("%w: open oracle: %w", dialect.ErrInvalidDSN, err), secrets...)
	}
	q := u.Query()
	q.Set("PROGRAM", ProgramName)
	u.RawQuery = q.Encode()
	cfg, err := go_ora.ParseConfig(u.String())
	if err != nil {
		return nil, dialect.ScrubError(fmt.Errorf("%w: open oracle: %w", dialect.ErrInvalidDSN, err), secrets...)
	}
	if cfg.Password != "" {
		secrets = append(secrets, escapedForms(cfg.Password)...)
	}
	target := u.Host + "/" + strings.Trim(u.Path, "/")
	db := sql.OpenDB(moduleConnector{Connector: go_ora.NewConnector(u.String())})
	return newConn(db, target, secrets), nil
}

// newConn wraps a pool.
func newConn(db *sql.DB, target string, secrets []string) *Conn {
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &Conn{db: db, secrets: secrets, target: target}
}

// moduleConnector names the module of each new session, so the
// statements the agent runs are marked in v$sqlarea.
type moduleConnector struct{ driver.Connector }

// Connect opens a session and sets its module.
func (m moduleConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := m.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if ex, ok := conn.(driver.ExecerContext); ok {
		if _, err := ex.ExecContext(ctx, setModuleSQL, nil); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("set the session's module: %w", err)
		}
	}
	return conn, nil
}

// Target returns host:port/service of the instance, which is safe to log.
func (c *Conn) Target() string { return c.target }

// Close releases every connection of the pool.
func (c *Conn) Close() { _ = c.db.Close() }

// scrub removes the password from err's text.
func (c *Conn) scrub(err error) error { return dialect.ScrubError(err, c.secrets...) }

// scrubText removes the password from text that leaves the agent.
func (c *Conn) scrubText(s string) string { return dialect.Scrub(s, c.secrets...) }

// session takes a dedicated session from the pool; a failure to connect
// wraps dialect.ErrUnreachable.
func (c *Conn) session(ctx context.Context) (*sql.Conn, error) {
	conn, err := c.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", dialect.ErrUnreachable, err)
	}
	if err := conn.PingContext(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("%w: %w", dialect.ErrUnreachable, err)
	}
	return conn, nil
}

// queryer runs queries: a pool or one session.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// execer runs commands and queries.
type execer interface {
	queryer
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// oraCode returns the ORA- number of the server error in err's chain.
func oraCode(err error) (int, bool) {
	var oe *network.OracleError
	if errors.As(err, &oe) {
		return oe.ErrCode, true
	}
	return 0, false
}

// Server error numbers the package tells apart.
const (
	oraUniqueViolated   = 1     // ORA-00001: a row already there
	oraResourceBusy     = 54    // ORA-00054: resource busy and acquire with NOWAIT specified or timeout expired
	oraNoSuchTable      = 942   // ORA-00942: table or view does not exist (also: no privilege to see it)
	oraNameUsed         = 955   // ORA-00955: name is already used by an existing object
	oraInsufficientPriv = 1031  // ORA-01031: insufficient privileges
	oraNoSuchUser       = 1918  // ORA-01918: user does not exist
	oraFeatureDisabled  = 439   // ORA-00439: feature not enabled (Online Index Build on Standard Edition)
	oraLibraryLockWait  = 4021  // ORA-04021: timeout occurred while waiting to lock object
	oraBusyTimeout      = 30006 // ORA-30006: resource busy; acquire with WAIT timeout expired
)

// denied reports whether err says the account may not read what it asked
// for: Oracle hides a view the account may not select from behind
// ORA-00942.
func denied(err error) bool {
	code, ok := oraCode(err)
	return ok && (code == oraNoSuchTable || code == oraInsufficientPriv)
}

// codeText is an ORA- number as the outcome's code, "ORA-00054".
func codeText(code int) string { return fmt.Sprintf("ORA-%05d", code) }

// escapedForms returns a password as it is and as it looks inside a URL.
func escapedForms(password string) []string {
	if password == "" {
		return nil
	}
	return []string{password, url.QueryEscape(password), url.PathEscape(password)}
}

// dsnPasswords finds, best effort, the password written in a DSN that may
// not parse: between the first ':' after the scheme and the last '@'.
func dsnPasswords(dsn string) []string {
	rest := dsn
	if _, after, ok := strings.Cut(dsn, "://"); ok {
		rest = after
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return nil
	}
	if _, pw, ok := strings.Cut(rest[:at], ":"); ok && pw != "" {
		out := []string{pw}
		if un, err := url.PathUnescape(pw); err == nil && un != pw {
			out = append(out, un)
		}
		return out
	}
	return nil
}
