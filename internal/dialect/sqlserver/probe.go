package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// serverFactsSQL reads who the server and the database are.
const serverFactsSQL = agentTag + `SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)),
	CAST(SERVERPROPERTY('Edition') AS nvarchar(128)), CAST(SERVERPROPERTY('EngineEdition') AS int),
	CAST(SERVERPROPERTY('ServerName') AS nvarchar(256)), DB_NAME(),
	CAST(DATABASEPROPERTYEX(DB_NAME(), 'Updateability') AS nvarchar(128)),
	COALESCE(CAST(DATABASEPROPERTYEX(DB_NAME(), 'IsInStandBy') AS int), 0), @@SPID`

// serverFacts is what serverFactsSQL found.
type serverFacts struct {
	version, edition string
	engineEdition    int
	serverName, db   string
	readOnly         bool
	inStandby        bool
	spid             int64
}

// readServerFacts reads the server's and the database's properties.
func readServerFacts(ctx context.Context, q queryer) (serverFacts, error) {
	var f serverFacts
	var updateability string
	var standby int
	err := q.QueryRowContext(ctx, serverFactsSQL).Scan(&f.version, &f.edition, &f.engineEdition, &f.serverName,
		&f.db, &updateability, &standby, &f.spid)
	if err != nil {
		return f, fmt.Errorf("server properties: %w", err)
	}
	f.readOnly, f.inStandby = updateability == "READ_ONLY", standby == 1
	return f, nil
}

// Engine editions (SERVERPROPERTY('EngineEdition')) that build indexes
// online: 3 is Enterprise, Developer and Evaluation; 5 Azure SQL
// Database; 8 Azure SQL Managed Instance. Standard (2), Express (4) and
// the others build them offline only.
var onlineEditions = map[int]bool{3: true, 5: true, 8: true}

// online reports whether the edition builds and rebuilds indexes online.
func (f serverFacts) online() bool { return onlineEditions[f.engineEdition] }

// display is the version as Probe reports it.
func (f serverFacts) display() string {
	return fmt.Sprintf("Microsoft SQL Server %s %s", f.version, f.edition)
}

// agRoleSQL reads the local replica's role in the availability group of
// the current database, if it is in one.
const agRoleSQL = agentTag + `SELECT ars.role_desc, ag.name
	FROM sys.dm_hadr_availability_replica_states ars
	JOIN sys.availability_groups ag ON ag.group_id = ars.group_id
	JOIN sys.databases d ON d.replica_id = ars.replica_id
	WHERE ars.is_local = 1 AND d.database_id = DB_ID()`

// agState is the database's place in an availability group.
type agState struct {
	inGroup bool
	role    string // PRIMARY, SECONDARY, RESOLVING
	group   string
	known   bool // false: the account may not read it (no VIEW SERVER STATE)
}

// readAGState reads the local replica's role. Without the permission to
// read sys.dm_hadr_* the state is unknown, not an error.
func readAGState(ctx context.Context, q queryer) (agState, error) {
	var s agState
	err := q.QueryRowContext(ctx, agRoleSQL).Scan(&s.role, &s.group)
	switch _, no := denied(err); {
	case no:
		return agState{}, nil
	case err == sql.ErrNoRows:
		return agState{known: true}, nil
	case err != nil:
		return agState{}, fmt.Errorf("availability group role: %w", err)
	}
	s.inGroup, s.known = true, true
	return s, nil
}

// detectRole decides the role: an availability group's secondary, a log
// shipping standby (IsInStandBy) and a read-only database are standbys,
// where no DDL runs; a database of an AG's primary replica, or outside any
// AG and writable, is a primary. A replica RESOLVING its role, or an AG
// state the account may not read on a database that is writable, is
// unknown and primary respectively.
func detectRole(f serverFacts, ag agState) domain.DetectedRole {
	switch {
	case ag.inGroup && ag.role == "PRIMARY":
		return domain.DetectedPrimary
	case ag.inGroup && ag.role == "SECONDARY":
		return domain.DetectedStandby
	case ag.inGroup:
		return domain.DetectedUnknown
	case f.inStandby || f.readOnly:
		return domain.DetectedStandby
	}
	return domain.DetectedPrimary
}

// Probe asks the instance who it is, following the dialect.Conn contract.
// The role comes from sys.dm_hadr_availability_replica_states (see
// detectRole); links are the availability group's other replicas of this
// database (sys.dm_hadr_database_replica_states); lag is theirs on a
// primary (secondary_lag_seconds) and, on a secondary, an estimate from
// its redo queue (redo_queue_size / redo_rate). SystemIdentifier is the
// server's name (SERVERPROPERTY('ServerName')). ActiveConnections counts
// the user sessions other than the agent's.
func (c *Conn) Probe(ctx context.Context) (domain.InstanceStatus, error) {
	st := domain.InstanceStatus{Engine: domain.SQLServer, Role: domain.DetectedUnknown, CheckedAt: time.Now().UTC()}
	if err := c.probe(ctx, &st); err != nil {
		err = c.scrub(fmt.Errorf("probe %s: %w", c.target, err))
		return domain.InstanceStatus{Engine: domain.SQLServer, Role: domain.DetectedUnknown,
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
	f, err := readServerFacts(ctx, conn)
	if err != nil {
		return err
	}
	st.ServerVersion, st.SystemIdentifier = f.display(), f.serverName
	ag, err := readAGState(ctx, conn)
	if err != nil {
		return err
	}
	st.Role = detectRole(f, ag)
	if ag.inGroup {
		st.Links, err = readReplicaLinks(ctx, conn, ag)
		if err != nil {
			return err
		}
		st.ReplicationLagSeconds = worstLag(st.Links, st.Role)
	}
	st.ActiveConnections, err = countClients(ctx, conn)
	return err
}

// countClientsSQL counts the user sessions other than the agent's.
const countClientsSQL = agentTag + `SELECT count(*) FROM sys.dm_exec_sessions
	WHERE is_user_process = 1 AND program_name <> N'` + ProgramName + `' AND session_id <> @@SPID`

// countClients counts the application's sessions; without VIEW SERVER
// STATE only the agent's own session is visible, and the count is 0.
func countClients(ctx context.Context, q queryer) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, countClientsSQL).Scan(&n); err != nil {
		return 0, fmt.Errorf("count sessions: %w", err)
	}
	return n, nil
}
