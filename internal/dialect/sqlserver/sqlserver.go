// Package sqlserver implements dialect.Conn for Microsoft SQL Server 2019
// and 2022 (and Azure SQL, whose engine is the same), on
// github.com/microsoft/go-mssqldb. It asks the server itself for its
// version and edition, its Always On availability group role (primary or
// secondary, sys.dm_hadr_*), whether the database is read-only, and its
// replicas' lag; it applies steps with SET LOCK_TIMEOUT and retries error
// 1222, in one transaction wherever SQL Server allows the DDL in one; it
// samples sys.dm_exec_query_stats, sys.dm_os_wait_stats and
// sys.dm_exec_requests. It never returns a connection string or password.
//
// The package is built and unit-tested against a database/sql driver
// double that returns go-mssqldb's own error type; it has not yet run
// against a real server (see the README).
package sqlserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	mssql "github.com/microsoft/go-mssqldb"
	"github.com/microsoft/go-mssqldb/msdsn"

	"github.com/hotswap-db/hotswap/internal/dialect"
)

// ProgramName is the application name of every session the agent opens
// (sys.dm_exec_sessions.program_name), so its own sessions can be told
// apart from the application's and left out of the figures.
const ProgramName = "hotswap-agent"

// agentTag opens every batch the agent sends, its own queries and the
// script's batches alike: sys.dm_exec_query_stats is not kept per session,
// so the sampler leaves out the statements whose text holds it.
const agentTag = "/* " + ProgramName + " */ "

const (
	maxConns       = 6
	connectTimeout = 10 * time.Second
)

// Conn is an agent-side connection pool to one database of a SQL Server
// instance. It implements dialect.Conn and is safe for concurrent use.
type Conn struct {
	db      *sql.DB
	secrets []string
	target  string       // host:port/database, safe to show
	hist    historyState // the executor's history tables (history.go)
}

// Open parses dsn (any form go-mssqldb reads: sqlserver://user:password@host:port?database=db,
// ADO or ODBC) and returns a pool of at most 6 connections whose sessions
// carry the application name "hotswap-agent". Open does not connect.
// Errors never hold the password; a DSN that cannot be parsed wraps
// dialect.ErrInvalidDSN.
func Open(_ context.Context, dsn string) (*Conn, error) {
	cfg, err := msdsn.Parse(dsn)
	if err != nil {
		err = fmt.Errorf("%w: open sqlserver: %w", dialect.ErrInvalidDSN, err)
		return nil, dialect.ScrubError(err, dsnPasswords(dsn)...)
	}
	cfg.AppName = ProgramName
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = connectTimeout
	}
	target := cfg.Host + ":" + strconv.FormatUint(cfg.Port, 10) + "/" + cfg.Database
	c := newConn(sql.OpenDB(mssql.NewConnectorConfig(cfg)), target, append(escapedForms(cfg.Password), dsnPasswords(dsn)...))
	return c, nil
}

// newConn wraps a pool; the tests give it a driver double's.
func newConn(db *sql.DB, target string, secrets []string) *Conn {
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &Conn{db: db, secrets: secrets, target: target}
}

// Target returns host:port/database of the instance, which is safe to log.
func (c *Conn) Target() string { return c.target }

// Close releases every connection of the pool.
func (c *Conn) Close() { _ = c.db.Close() }

// scrub removes the pool's password, in every form it may take in a DSN,
// from err's text.
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

// queryer runs queries: a pool, a session or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// execer is a session that runs commands and queries.
type execer interface {
	queryer
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// serverError returns the server's error in err's chain, if any.
func serverError(err error) (mssql.Error, bool) {
	var me mssql.Error
	if errors.As(err, &me) {
		return me, true
	}
	var pme *mssql.Error
	if errors.As(err, &pme) && pme != nil {
		return *pme, true
	}
	return mssql.Error{}, false
}

// Server error numbers the package tells apart.
const (
	errLockTimeout    = 1222 // Lock request time out period exceeded.
	errDeadlockVictim = 1205 // Transaction was deadlocked ... and has been chosen as the deadlock victim.
	errPermission229  = 229  // The %ls permission was denied on the object
	errPermission262  = 262  // %ls permission denied in database
	errPermission297  = 297  // The user does not have permission to perform this action.
	errPermission300  = 300  // %ls permission was denied on object
)

// denied returns the server's message when err is a permission denial.
func denied(err error) (string, bool) {
	me, ok := serverError(err)
	if !ok {
		return "", false
	}
	switch me.Number {
	case errPermission229, errPermission262, errPermission297, errPermission300:
		return me.Message, true
	}
	return "", false
}

// escapedForms returns a password as it is and as it looks inside a URL.
func escapedForms(password string) []string {
	if password == "" {
		return nil
	}
	return []string{password, url.QueryEscape(password), url.PathEscape(password)}
}

// dsnPasswords finds, best effort, the password written in a DSN the
// driver could not parse: a URL's user info, or an ADO/ODBC
// password=/pwd= pair.
func dsnPasswords(dsn string) []string {
	var out []string
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			out = append(out, pw)
		}
	}
	for _, part := range strings.Split(dsn, ";") {
		k, v, ok := strings.Cut(part, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if ok && (k == "password" || k == "pwd") && strings.TrimSpace(v) != "" {
			out = append(out, strings.Trim(strings.TrimSpace(v), "{}"), strings.TrimSpace(v))
		}
	}
	if at := strings.LastIndex(dsn, "@"); at > 0 {
		if _, pw, ok := strings.Cut(strings.TrimPrefix(dsn[:at], "sqlserver://"), ":"); ok && pw != "" {
			out = append(out, pw)
		}
	}
	return out
}
