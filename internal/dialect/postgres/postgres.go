// Package postgres implements dialect.Conn for PostgreSQL 13 and later. It
// asks the server itself for its role, identity, connections and replication
// links, and never reads or returns a connection string or password.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/servershare"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// ApplicationName is the application_name of every session the agent opens,
// so its own sessions can be told apart from the application's in
// pg_stat_activity and left out of the figures.
const ApplicationName = "hotswap-agent"

const (
	maxConns       = 4
	connectTimeout = 10 * time.Second
	// sqlstateInsufficientPrivilege is "permission denied".
	sqlstateInsufficientPrivilege = "42501"
)

// Conn is an agent-side connection pool to one PostgreSQL instance. It
// implements dialect.Conn and is safe for concurrent use.
type Conn struct {
	pool     *pgxpool.Pool
	password string
	secrets  []string
	target   string       // host:port/database, safe to show
	hist     historyState // the executor's history tables (history.go)
	// shared holds the answers to server-wide questions, shared with the
	// Conns to the server's other databases (nil: none); server names the
	// server and the role asking, whose privileges shape the answers.
	shared *servershare.Cache
	server string
	// tails runs what finished steps still do on their sessions (tail.go).
	tails tails
}

// probeMaxAge is how long, from when it was asked, the answer of one
// database's Probe to the server-wide questions serves the probes of the
// server's other databases: the agent probes them all at once on every
// heartbeat (every 2 seconds by default), and on a loaded server asking
// takes a good part of a second, so this is one answer per heartbeat.
const probeMaxAge = 1500 * time.Millisecond

// probeStaleMax is how old a shared answer may be when asking the server
// again fails or runs out of time while the database's own session was
// taken: on a loaded server one slow answer must not report every database
// of the server unreachable at once (the planner would skip them all).
const probeStaleMax = 10 * time.Second

// Open parses dsn (a URL or key=value connection string) and returns a pool
// of at most 4 connections whose sessions carry application_name
// "hotswap-agent", whatever the DSN says. Open does not connect: an instance
// that is down when the agent starts can still be probed (and reported
// unreachable) until it comes back. Errors never hold the password; a DSN
// that cannot be parsed wraps dialect.ErrInvalidDSN.
func Open(ctx context.Context, dsn string) (*Conn, error) {
	return OpenShared(ctx, dsn, nil)
}

// OpenShared is Open for a Conn that shares, through shared, the answers
// to server-wide questions with the Conns to the other databases of the
// same server (host and port) opened with the same role and the same cache:
// Probe's questions (all about the server) and the sessions, locks and
// replication figures of Sample. A nil shared shares nothing.
func OpenShared(ctx context.Context, dsn string, shared *servershare.Cache) (*Conn, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		err = fmt.Errorf("%w: open postgres: %s", dialect.ErrInvalidDSN, parseErrorDetail(err))
		return nil, dialect.ScrubError(err, dsnPasswords(dsn)...)
	}
	cfg.MaxConns = maxConns
	cfg.MinConns = 0
	cfg.ConnConfig.RuntimeParams["application_name"] = ApplicationName
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	c := &Conn{
		password: cfg.ConnConfig.Password,
		secrets:  append(escapedForms(cfg.ConnConfig.Password), dsnPasswords(dsn)...),
		target:   connTarget(cfg.ConnConfig),
		shared:   shared,
		server:   serverKey(cfg.ConnConfig),
	}
	c.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, c.scrub(fmt.Errorf("open postgres %s: %w", c.target, err))
	}
	return c, nil
}

// Password returns the password the pool logs in with (from the DSN, PGPASSWORD
// or a passfile), so callers can scrub it from any text they build.
func (c *Conn) Password() string { return c.password }

// Target returns host:port/database of the instance, which is safe to log.
func (c *Conn) Target() string { return c.target }

// Pool returns the underlying pool, for the agent's other work on the same
// instance (executing steps, sampling counters). Its sessions carry
// ApplicationName too.
func (c *Conn) Pool() *pgxpool.Pool { return c.pool }

// Close releases every connection of the pool, once the tails of finished
// steps are done (each is bounded by cleanupTimeout).
func (c *Conn) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	_ = c.tails.wait(ctx)
	c.pool.Close()
}

// Probe asks the instance who it is, following the dialect.Conn contract.
// ActiveConnections counts client backends in pg_stat_activity, whatever
// their state, except sessions named ApplicationName. The role should have
// pg_monitor (or be superuser) for complete figures; without the right to
// call pg_control_system() the system identifier is left empty.
func (c *Conn) Probe(ctx context.Context) (domain.InstanceStatus, error) {
	st := domain.InstanceStatus{Engine: domain.PostgreSQL, Role: domain.DetectedUnknown, CheckedAt: time.Now().UTC()}
	if err := c.probe(ctx, &st); err != nil {
		err = c.scrub(fmt.Errorf("probe %s: %w", c.target, err))
		return domain.InstanceStatus{
			Engine: domain.PostgreSQL, Role: domain.DetectedUnknown,
			CheckedAt: st.CheckedAt, Error: err.Error(),
		}, err
	}
	st.Reachable = true
	return st, nil
}

// probe takes a session of the database, which says the database is
// reachable, and runs every query of Probe on one session: they are all
// about the server, so with a shared cache their answer, when another
// database of the server gave one less than probeMaxAge ago (or is giving
// one now), is taken instead. The session goes back to the pool before
// the wait, free for a step that starts meanwhile.
func (c *Conn) probe(ctx context.Context, st *domain.InstanceStatus) error {
	if c.shared != nil {
		conn, err := c.pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("%w: %w", dialect.ErrUnreachable, err)
		}
		conn.Release()
	}
	server, err := servershare.Get(ctx, c.shared, c.server, "probe", probeMaxAge, c.askServer)
	if err != nil {
		last, ok := servershare.Last[domain.InstanceStatus](c.shared, c.server, "probe", probeStaleMax)
		if !ok {
			return err
		}
		server = last // this database answered; the server's figures are a few seconds old
	}
	copyServerStatus(st, server)
	return nil
}

// askServer runs every query of Probe on one pooled session.
func (c *Conn) askServer(ctx context.Context) (domain.InstanceStatus, error) {
	var st domain.InstanceStatus
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		return st, fmt.Errorf("%w: %w", dialect.ErrUnreachable, err)
	}
	defer conn.Release()
	if err := queryAll(ctx, conn, &st); err != nil {
		if conn.Conn().IsClosed() {
			return st, fmt.Errorf("%w: %w", dialect.ErrUnreachable, err)
		}
		return st, err
	}
	return st, nil
}

// copyServerStatus fills st with the server-wide figures of server, its
// links copied: the answer may be shared with other databases.
func copyServerStatus(st *domain.InstanceStatus, server domain.InstanceStatus) {
	st.ServerVersion, st.Role, st.SystemIdentifier = server.ServerVersion, server.Role, server.SystemIdentifier
	st.ActiveConnections, st.ReplicationLagSeconds = server.ActiveConnections, server.ReplicationLagSeconds
	st.Links = slices.Clone(server.Links)
}

// querier is what the probe queries need of a session.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// queryAll fills st from q, standby-only figures only on a standby.
func queryAll(ctx context.Context, q querier, st *domain.InstanceStatus) error {
	steps := []func(context.Context, querier, *domain.InstanceStatus) error{
		queryIdentity, querySystemIdentifier, queryActiveConnections,
		queryDownstreamLinks, queryLogicalUpstreamLinks,
	}
	for _, step := range steps {
		if err := step(ctx, q, st); err != nil {
			return err
		}
	}
	if st.Role != domain.DetectedStandby {
		return nil
	}
	if err := queryPhysicalUpstreamLinks(ctx, q, st); err != nil {
		return err
	}
	return queryStandbyLag(ctx, q, st)
}

// queryIdentity reads the server version and whether the server is in
// recovery, that is a standby.
func queryIdentity(ctx context.Context, q querier, st *domain.InstanceStatus) error {
	var inRecovery bool
	err := q.QueryRow(ctx, `SELECT current_setting('server_version'), pg_is_in_recovery()`).
		Scan(&st.ServerVersion, &inRecovery)
	if err != nil {
		return fmt.Errorf("server version and recovery state: %w", err)
	}
	st.Role = domain.DetectedPrimary
	if inRecovery {
		st.Role = domain.DetectedStandby
	}
	return nil
}

// querySystemIdentifier reads the cluster's system identifier, shared by a
// primary and its physical standbys. Lacking the privilege is not an error.
func querySystemIdentifier(ctx context.Context, q querier, st *domain.InstanceStatus) error {
	err := q.QueryRow(ctx, `SELECT system_identifier::text FROM pg_control_system()`).Scan(&st.SystemIdentifier)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == sqlstateInsufficientPrivilege {
		return nil
	}
	if err != nil {
		return fmt.Errorf("system identifier: %w", err)
	}
	return nil
}

// queryActiveConnections counts client sessions other than the agent's own.
func queryActiveConnections(ctx context.Context, q querier, st *domain.InstanceStatus) error {
	const sql = `SELECT count(*) FROM pg_stat_activity
		WHERE backend_type = 'client backend' AND application_name IS DISTINCT FROM $1`
	var n int64
	if err := q.QueryRow(ctx, sql, ApplicationName).Scan(&n); err != nil {
		return fmt.Errorf("active connections: %w", err)
	}
	st.ActiveConnections = int(n)
	return nil
}

// queryDownstreamLinks lists the WAL senders: physical standbys and logical
// subscribers fed by this instance. A sender with no slot is physical.
func queryDownstreamLinks(ctx context.Context, q querier, st *domain.InstanceStatus) error {
	const sql = `SELECT coalesce(r.application_name, ''), coalesce(host(r.client_addr), ''),
			coalesce(r.state, ''), coalesce(s.slot_type, 'physical'), coalesce(s.slot_name::text, ''),
			coalesce(extract(epoch FROM r.replay_lag)::float8, 0)
		FROM pg_stat_replication r
		LEFT JOIN pg_replication_slots s ON s.active_pid = r.pid
		ORDER BY r.pid`
	rows, err := q.Query(ctx, sql)
	if err != nil {
		return fmt.Errorf("downstream links: %w", err)
	}
	links, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.ReplicationLink, error) {
		var app, addr string
		l := domain.ReplicationLink{Direction: "downstream"}
		err := row.Scan(&app, &addr, &l.State, &l.Kind, &l.Name, &l.LagSeconds)
		l.Peer = downstreamPeer(app, addr)
		return l, err
	})
	if err != nil {
		return fmt.Errorf("downstream links: %w", err)
	}
	st.Links = append(st.Links, links...)
	return nil
}

// downstreamPeer names a WAL sender's client: application_name@address, or
// whichever of the two is known.
func downstreamPeer(app, addr string) string {
	switch {
	case app != "" && addr != "":
		return app + "@" + addr
	case app != "":
		return app
	case addr != "":
		return addr
	}
	return "local"
}

// queryLogicalUpstreamLinks lists the subscriptions this instance pulls from.
// It reads pg_subscription (so disabled subscriptions show too) but never its
// subconninfo column, which holds the publisher's password.
func queryLogicalUpstreamLinks(ctx context.Context, q querier, st *domain.InstanceStatus) error {
	const sql = `SELECT s.subname::text, CASE
			WHEN NOT s.subenabled THEN 'disabled'
			WHEN EXISTS (SELECT 1 FROM pg_stat_subscription w
				WHERE w.subid = s.oid AND w.relid IS NULL AND w.pid IS NOT NULL) THEN 'streaming'
			ELSE 'stopped' END
		FROM pg_subscription s ORDER BY s.subname`
	rows, err := q.Query(ctx, sql)
	if err != nil {
		return fmt.Errorf("logical upstream links: %w", err)
	}
	links, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.ReplicationLink, error) {
		l := domain.ReplicationLink{Direction: "upstream", Kind: "logical"}
		err := row.Scan(&l.Name, &l.State)
		l.Peer = l.Name
		return l, err
	})
	if err != nil {
		return fmt.Errorf("logical upstream links: %w", err)
	}
	st.Links = append(st.Links, links...)
	return nil
}

// queryPhysicalUpstreamLinks reads the WAL receiver of a standby. It never
// reads the conninfo column.
func queryPhysicalUpstreamLinks(ctx context.Context, q querier, st *domain.InstanceStatus) error {
	const sql = `SELECT coalesce(status, ''), coalesce(sender_host, ''), coalesce(sender_port, 0),
			coalesce(slot_name, '')
		FROM pg_stat_wal_receiver`
	rows, err := q.Query(ctx, sql)
	if err != nil {
		return fmt.Errorf("physical upstream links: %w", err)
	}
	links, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (domain.ReplicationLink, error) {
		var host string
		var port int32
		l := domain.ReplicationLink{Direction: "upstream", Kind: "physical"}
		err := row.Scan(&l.State, &host, &port, &l.Name)
		if host != "" {
			l.Peer = net.JoinHostPort(host, strconv.Itoa(int(port)))
		}
		return l, err
	})
	if err != nil {
		return fmt.Errorf("physical upstream links: %w", err)
	}
	st.Links = append(st.Links, links...)
	return nil
}

// queryStandbyLag computes a standby's replay lag: 0 when it has replayed all
// it received, else the seconds since the commit time of the last transaction
// it replayed (0 when it has replayed none since it started). The lag is also
// set on the standby's physical upstream links.
func queryStandbyLag(ctx context.Context, q querier, st *domain.InstanceStatus) error {
	const sql = `SELECT CASE
		WHEN coalesce(pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn(), false) THEN 0
		ELSE coalesce(greatest(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8, 0), 0)
		END`
	if err := q.QueryRow(ctx, sql).Scan(&st.ReplicationLagSeconds); err != nil {
		return fmt.Errorf("replication lag: %w", err)
	}
	for i, l := range st.Links {
		if l.Direction == "upstream" && l.Kind == "physical" {
			st.Links[i].LagSeconds = st.ReplicationLagSeconds
		}
	}
	return nil
}

// scrub removes the pool's password, in every form it may take in a DSN,
// from err's text.
func (c *Conn) scrub(err error) error { return dialect.ScrubError(err, c.secrets...) }

// connTarget describes where cfg connects, without the user or the password.
func connTarget(cfg *pgx.ConnConfig) string {
	return net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))) + "/" + cfg.Database
}

// serverKey names the server cfg connects to and the role it logs in as,
// which the answers to server-wide questions depend on.
func serverKey(cfg *pgx.ConnConfig) string {
	return cfg.User + "@" + net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
}

// escapedForms returns a password as it is and as it looks inside a URL.
func escapedForms(password string) []string {
	if password == "" {
		return nil
	}
	return []string{password, url.QueryEscape(password), url.PathEscape(password)}
}

var (
	urlPassword = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://[^:/@]*:([^@]*)@`)
	kvPassword  = regexp.MustCompile(`password\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S+))`)
)

// parseErrorDetail returns why the driver refused a DSN without the DSN
// itself, which the driver quotes with a best-effort redaction only.
func parseErrorDetail(err error) string {
	msg := err.Error()
	var pce *pgconn.ParseConfigError
	if !errors.As(err, &pce) {
		return msg
	}
	if i := strings.LastIndex(msg, "`: "); i >= 0 {
		return msg[i+len("`: "):]
	}
	return "cannot parse"
}

// dsnPasswords finds, best effort, the passwords written in a DSN, even one
// the driver could not parse, so they can be scrubbed from its error.
func dsnPasswords(dsn string) []string {
	var found []string
	if m := urlPassword.FindStringSubmatch(dsn); m != nil {
		found = append(found, m[1])
		if dec, err := url.PathUnescape(m[1]); err == nil {
			found = append(found, dec)
		}
	}
	for _, m := range kvPassword.FindAllStringSubmatch(dsn, -1) {
		found = append(found, m[1], m[2])
		// In a URL's query string the value ends at the next parameter.
		if before, _, ok := strings.Cut(m[2], "&"); ok {
			found = append(found, before)
		}
	}
	return found
}
