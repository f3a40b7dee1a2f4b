// Package mysql implements dialect.Conn for MySQL 8 and MariaDB 10.6 and
// later, on go-sql-driver/mysql. It asks the server itself for its role
// (a replica is a server with a replication channel), its version and GTID
// position, its replicas and its lag, and never returns a connection
// string or password. It is tested against real MariaDB servers; what is
// MySQL-only follows MySQL's manual (see the README).
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// ProgramName is the program_name connection attribute of every session
// the agent opens, so its own sessions can be told apart from the
// application's (performance_schema.session_connect_attrs) and left out of
// the figures.
const ProgramName = "hotswap-agent"

const (
	maxConns       = 6
	connectTimeout = 10 * time.Second
)

// Conn is an agent-side connection pool to one MySQL or MariaDB instance.
// It implements dialect.Conn and is safe for concurrent use.
type Conn struct {
	db      *sql.DB
	secrets []string
	target  string       // host:port/database, safe to show
	schema  string       // the DSN's database
	hist    historyState // the executor's history tables (history.go)
}

// Open parses dsn (go-sql-driver/mysql's format,
// user:password@tcp(host:port)/database) and returns a pool of at most 6
// connections whose sessions carry the connection attribute program_name
// "hotswap-agent". Open does not connect. Errors never hold the password;
// a DSN that cannot be parsed wraps dialect.ErrInvalidDSN.
func Open(_ context.Context, dsn string) (*Conn, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		err = fmt.Errorf("%w: open mysql: %w", dialect.ErrInvalidDSN, err)
		return nil, dialect.ScrubError(err, dsnPasswords(dsn)...)
	}
	cfg.ConnectionAttributes = "program_name:" + ProgramName
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if cfg.Timeout == 0 {
		cfg.Timeout = connectTimeout
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, dialect.ScrubError(fmt.Errorf("%w: open mysql: %w", dialect.ErrInvalidDSN, err), cfg.Passwd)
	}
	c := &Conn{
		db:      sql.OpenDB(connector),
		secrets: append(escapedForms(cfg.Passwd), dsnPasswords(dsn)...),
		target:  cfg.Addr + "/" + cfg.DBName,
		schema:  cfg.DBName,
	}
	c.db.SetMaxOpenConns(maxConns)
	c.db.SetMaxIdleConns(maxConns)
	c.db.SetConnMaxIdleTime(5 * time.Minute)
	return c, nil
}

// Target returns host:port/database of the instance, which is safe to log.
func (c *Conn) Target() string { return c.target }

// DB returns the pool, for the agent's other work on the instance. Its
// sessions carry ProgramName.
func (c *Conn) DB() *sql.DB { return c.db }

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

// serverError returns the server's error in err's chain, if any.
func serverError(err error) (*mysql.MySQLError, bool) {
	var me *mysql.MySQLError
	ok := errors.As(err, &me)
	return me, ok
}

// escapedForms returns a password as it is and as it looks inside a URL.
func escapedForms(password string) []string {
	if password == "" {
		return nil
	}
	return []string{password, url.QueryEscape(password), url.PathEscape(password)}
}

// dsnPasswords finds, best effort, the password written in a DSN the
// driver could not parse: between the first ':' and the last '@' before
// the address.
func dsnPasswords(dsn string) []string {
	at := strings.LastIndex(dsn, "@")
	if at < 0 {
		return nil
	}
	userinfo := dsn[:at]
	if _, pw, ok := strings.Cut(userinfo, ":"); ok && pw != "" {
		return []string{pw}
	}
	return nil
}

// Probe asks the instance who it is, following the dialect.Conn contract.
// A server with a replication channel (SHOW ALL SLAVES STATUS on MariaDB,
// SHOW REPLICA STATUS on MySQL) is a standby; its lag is
// Seconds_Behind_Master. ActiveConnections counts the client sessions in
// the process list other than the agent's. SystemIdentifier is the
// server's server_uuid on MySQL, its gtid_domain_id and server_id on
// MariaDB (which has no UUID).
func (c *Conn) Probe(ctx context.Context) (domain.InstanceStatus, error) {
	st := domain.InstanceStatus{Engine: domain.MySQL, Role: domain.DetectedUnknown, CheckedAt: time.Now().UTC()}
	if err := c.probe(ctx, &st); err != nil {
		err = c.scrub(fmt.Errorf("probe %s: %w", c.target, err))
		return domain.InstanceStatus{Engine: domain.MySQL, Role: domain.DetectedUnknown,
			CheckedAt: st.CheckedAt, Error: err.Error()}, err
	}
	st.Reachable = true
	return st, nil
}

// probe runs every query of Probe on one session.
func (c *Conn) probe(ctx context.Context, st *domain.InstanceStatus) error {
	conn, err := c.session(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var v serverVars
	if err := v.read(ctx, conn); err != nil {
		return err
	}
	st.ServerVersion, st.SystemIdentifier = v.version, v.identifier()
	if err := probeReplication(ctx, conn, v.mariadb, st); err != nil {
		return err
	}
	st.ActiveConnections, err = countClients(ctx, conn)
	return err
}

// probeReplication reads the server's role and replication links. Without
// the privilege to read replication state (REPLICA MONITOR, REPLICATION
// CLIENT) the role stays unknown and the probe goes on: the instance is
// reachable, and the preflight's replication check says what to grant.
func probeReplication(ctx context.Context, conn queryer, mariadb bool, st *domain.InstanceStatus) error {
	ups, err := readReplicaStatus(ctx, conn, mariadb)
	if _, no := denied(err); no {
		return nil
	}
	if err != nil {
		return err
	}
	st.Role = domain.DetectedPrimary
	if len(ups) > 0 {
		st.Role = domain.DetectedStandby
	}
	for _, u := range ups {
		st.Links = append(st.Links, u.link())
		st.ReplicationLagSeconds = max(st.ReplicationLagSeconds, u.lag)
	}
	downs, err := readDownstream(ctx, conn)
	if _, no := denied(err); no {
		return nil
	}
	st.Links = append(st.Links, downs...)
	return err
}

// containsFold reports whether s contains sub, ignoring case.
func containsFold(s, sub string) bool { return strings.Contains(strings.ToLower(s), sub) }
