package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// notAgentSQL is a condition on a process list ID column, true for the
// sessions that are not the agent's: neither the current session nor one
// whose program_name is ProgramName. Without performance_schema the
// attribute table is empty, and only the current session is left out.
const notAgentSQL = `%[1]s <> CONNECTION_ID() AND %[1]s NOT IN (
	SELECT a.PROCESSLIST_ID FROM performance_schema.session_connect_attrs a
	WHERE a.ATTR_NAME = 'program_name' AND a.ATTR_VALUE = 'hotswap-agent')`

// notAgent is notAgentSQL on column col.
func notAgent(col string) string { return fmt.Sprintf(notAgentSQL, col) }

// notSelf leaves out only the current session, for an account that may
// not read performance_schema.
func notSelf(col string) string { return col + " <> CONNECTION_ID()" }

// queryNotAgent runs the statement build writes with notAgent and, when
// the account may not read performance_schema, again with notSelf.
func queryNotAgent(ctx context.Context, q queryer, build func(exclude func(string) string) string, args ...any) (*sql.Rows, error) {
	rows, err := q.QueryContext(ctx, build(notAgent), args...)
	if me, ok := serverError(err); ok && me.Number == errTableAccessDenied {
		return q.QueryContext(ctx, build(notSelf), args...)
	}
	return rows, err
}

// scanOne scans the single row of rows into dest and closes rows.
func scanOne(rows *sql.Rows, err error, dest ...any) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

// serverVars are the server's identity and replication settings.
type serverVars struct {
	version, uuid, gtidPos string
	serverID, domainID     int64
	readOnly, mariadb      bool
}

// read fills v from the server's variables.
func (v *serverVars) read(ctx context.Context, q queryer) error {
	if err := q.QueryRowContext(ctx, `SELECT VERSION(), @@server_id, @@read_only`).Scan(&v.version, &v.serverID, &v.readOnly); err != nil {
		return fmt.Errorf("server version: %w", err)
	}
	v.mariadb = strings.Contains(strings.ToLower(v.version), "mariadb")
	if v.mariadb {
		err := q.QueryRowContext(ctx, `SELECT @@gtid_domain_id, @@gtid_current_pos`).Scan(&v.domainID, &v.gtidPos)
		if err != nil {
			return fmt.Errorf("gtid position: %w", err)
		}
		return nil
	}
	if err := q.QueryRowContext(ctx, `SELECT @@server_uuid, @@global.gtid_executed`).Scan(&v.uuid, &v.gtidPos); err != nil {
		return fmt.Errorf("gtid position: %w", err)
	}
	return nil
}

// identifier names the server: server_uuid on MySQL; gtid domain and
// server_id on MariaDB.
func (v *serverVars) identifier() string {
	if v.uuid != "" {
		return v.uuid
	}
	return fmt.Sprintf("domain-%d/server-%d", v.domainID, v.serverID)
}

// queryer is what the probe queries need of a session.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// upstream is one replication channel of a replica.
type upstream struct {
	name, host, port, gtid string
	ioRunning, sqlRunning  string
	lag                    float64
	lagKnown               bool
}

// link is the channel as a replication link.
func (u upstream) link() domain.ReplicationLink {
	state := "streaming"
	if u.ioRunning != "Yes" || u.sqlRunning != "Yes" {
		state = fmt.Sprintf("io %s, sql %s", strings.ToLower(u.ioRunning), strings.ToLower(u.sqlRunning))
	}
	return domain.ReplicationLink{Direction: "upstream", Kind: "binlog", Peer: net.JoinHostPort(u.host, u.port),
		State: state, Name: u.gtid, LagSeconds: u.lag}
}

// readReplicaStatus reads every replication channel of the server: SHOW
// ALL SLAVES STATUS on MariaDB, SHOW REPLICA STATUS on MySQL. Columns are
// read by name, under either the old (Master) or the new (Source) names;
// the password column does not exist in either.
func readReplicaStatus(ctx context.Context, q queryer, mariadb bool) ([]upstream, error) {
	stmt := "SHOW REPLICA STATUS"
	if mariadb {
		stmt = "SHOW ALL SLAVES STATUS"
	}
	rows, err := readByName(ctx, q, stmt)
	if err != nil {
		return nil, fmt.Errorf("replica status: %w", err)
	}
	var out []upstream
	for _, r := range rows {
		u := upstream{
			name: r.get("Connection_name", "Channel_Name"), host: r.get("Master_Host", "Source_Host"),
			port: r.get("Master_Port", "Source_Port"), gtid: r.get("Gtid_IO_Pos", "Executed_Gtid_Set"),
			ioRunning: r.get("Slave_IO_Running", "Replica_IO_Running"), sqlRunning: r.get("Slave_SQL_Running", "Replica_SQL_Running"),
		}
		if lag := r.get("Seconds_Behind_Master", "Seconds_Behind_Source"); lag != "" {
			u.lag, _ = strconv.ParseFloat(lag, 64)
			u.lagKnown = true
		}
		out = append(out, u)
	}
	return out, nil
}

// byName is one row of a SHOW statement, by column name; NULL is "".
type byName map[string]string

// get returns the first of names present.
func (r byName) get(names ...string) string {
	for _, n := range names {
		if v, ok := r[n]; ok {
			return v
		}
	}
	return ""
}

// readByName runs a SHOW statement and returns its rows by column name.
func readByName(ctx context.Context, q queryer, stmt string) ([]byName, error) {
	rows, err := q.QueryContext(ctx, stmt)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []byName
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		r := byName{}
		for i, c := range cols {
			if vals[i].Valid {
				r[c] = vals[i].String
			} else {
				r[c] = ""
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// readDownstream lists the replicas reading this server's binary log: the
// sessions running Binlog Dump. Their lag is known on the replica only.
func readDownstream(ctx context.Context, q queryer) ([]domain.ReplicationLink, error) {
	const stmt = `SELECT HOST, COMMAND FROM information_schema.PROCESSLIST
		WHERE COMMAND IN ('Binlog Dump', 'Binlog Dump GTID') ORDER BY ID`
	rows, err := q.QueryContext(ctx, stmt)
	if err != nil {
		return nil, fmt.Errorf("downstream replicas: %w", err)
	}
	defer rows.Close()
	var out []domain.ReplicationLink
	for rows.Next() {
		var host, command string
		if err := rows.Scan(&host, &command); err != nil {
			return nil, fmt.Errorf("downstream replicas: %w", err)
		}
		out = append(out, domain.ReplicationLink{Direction: "downstream", Kind: "binlog", Peer: host, State: "streaming"})
	}
	return out, rows.Err()
}

// clientSessionsSQL counts the client sessions, other than the agent's,
// of the process list: not the server's own threads, not replication.
func clientSessionsSQL(exclude func(string) string) string {
	return `SELECT count(*) FROM information_schema.PROCESSLIST p
	WHERE p.COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Binlog Dump GTID', 'Slave_IO', 'Slave_SQL', 'Slave_worker')
	AND p.USER NOT IN ('system user', 'event_scheduler') AND ` + exclude("p.ID")
}

// countClients counts the client sessions other than the agent's.
func countClients(ctx context.Context, q queryer) (int, error) {
	var n int
	rows, err := queryNotAgent(ctx, q, clientSessionsSQL)
	if err := scanOne(rows, err, &n); err != nil {
		return 0, fmt.Errorf("active connections: %w", err)
	}
	return n, nil
}
