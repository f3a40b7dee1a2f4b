package oracle

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// The probe's queries.
const (
	// databaseSQL reads the version, role, open mode and identity.
	databaseSQL = `SELECT i.version, d.database_role, d.open_mode, TO_CHAR(d.dbid), d.db_unique_name FROM v$instance i CROSS JOIN v$database d`
	// roleSQL reads the role and version without v$ privileges: USERENV
	// and PRODUCT_COMPONENT_VERSION are open to every account.
	roleSQL = `SELECT SYS_CONTEXT('USERENV', 'DATABASE_ROLE'), (SELECT MAX(version) FROM product_component_version
	WHERE product LIKE 'Oracle%'), SYS_CONTEXT('USERENV', 'DB_UNIQUE_NAME') FROM dual`
	// clientsSQL counts the user sessions other than the agent's.
	clientsSQL = `SELECT COUNT(*) FROM v$session WHERE type = 'USER' AND NVL(program, '-') <> :1`
	// applyLagSQL reads a standby's apply lag (no row on a primary).
	applyLagSQL = `SELECT value FROM v$dataguard_stats WHERE name = 'apply lag'`
	// destinationsSQL lists a primary's Data Guard destinations.
	destinationsSQL = `SELECT NVL(db_unique_name, destination), status FROM v$archive_dest WHERE target = 'STANDBY' AND status <> 'INACTIVE'`
)

// database is what v$database and v$instance say of the instance.
type database struct {
	version, role, openMode, dbid, uniqueName string
}

// standby reports whether the database is a standby of any kind.
func (d database) standby() bool { return d.role != "PRIMARY" }

// writable reports whether the database is open read write; a primary
// whose open mode could not be read is taken to be.
func (d database) writable() bool {
	return d.openMode == "READ WRITE" || (d.openMode == "" && d.role == "PRIMARY")
}

// readDatabase reads the instance's identity. An account that may not
// read v$database and v$instance still learns the role and version
// (roleSQL); the open mode and DBID are then unknown.
func readDatabase(ctx context.Context, q queryer) (database, error) {
	var d database
	err := q.QueryRowContext(ctx, databaseSQL).Scan(&d.version, &d.role, &d.openMode, &d.dbid, &d.uniqueName)
	if denied(err) {
		d = database{}
		err = q.QueryRowContext(ctx, roleSQL).Scan(&d.role, &d.version, &d.uniqueName)
	}
	if err != nil {
		return d, fmt.Errorf("read the database's role: %w", err)
	}
	return d, nil
}

// Probe asks the instance who it is, following the dialect.Conn contract.
// Its role is v$database's DATABASE_ROLE (PRIMARY is a primary, any
// standby role a standby); its identifier is the DBID and unique name;
// on a standby its lag is v$dataguard_stats' apply lag; on a primary its
// links are its Data Guard destinations (v$archive_dest). Without the
// right to read v$database the role comes from USERENV's DATABASE_ROLE;
// without the Data Guard views or v$session the probe goes on without
// lag, links or the session count: the preflight says what to grant.
func (c *Conn) Probe(ctx context.Context) (domain.InstanceStatus, error) {
	st := domain.InstanceStatus{Engine: domain.Oracle, Role: domain.DetectedUnknown, CheckedAt: time.Now().UTC()}
	if err := c.probe(ctx, &st); err != nil {
		err = c.scrub(fmt.Errorf("probe %s: %w", c.target, err))
		return domain.InstanceStatus{Engine: domain.Oracle, Role: domain.DetectedUnknown, CheckedAt: st.CheckedAt, Error: err.Error()}, err
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
	d, err := readDatabase(ctx, conn)
	if err != nil {
		return err
	}
	st.ServerVersion, st.SystemIdentifier = d.version, strings.TrimPrefix(d.dbid+"/"+d.uniqueName, "/")
	st.Role = domain.DetectedPrimary
	if d.standby() {
		st.Role = domain.DetectedStandby
		lag, err := readApplyLag(ctx, conn)
		if err != nil && !denied(err) {
			return err
		}
		st.ReplicationLagSeconds = lag
	} else if err := readDestinations(ctx, conn, st); err != nil && !denied(err) {
		return err
	}
	err = conn.QueryRowContext(ctx, clientsSQL, ProgramName).Scan(&st.ActiveConnections)
	if denied(err) {
		return nil // no SELECT on v$session: the count is unknown, left at 0 (the preflight says why)
	}
	return err
}

// readApplyLag reads a standby's apply lag in seconds; none (a primary,
// or no figure yet) is 0.
func readApplyLag(ctx context.Context, q queryer) (float64, error) {
	var v sql.NullString
	err := q.QueryRowContext(ctx, applyLagSQL).Scan(&v)
	if err == sql.ErrNoRows || (err == nil && !v.Valid) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read apply lag: %w", err)
	}
	return parseInterval(v.String)
}

// readDestinations adds a primary's Data Guard destinations as links.
func readDestinations(ctx context.Context, q queryer, st *domain.InstanceStatus) error {
	rows, err := q.QueryContext(ctx, destinationsSQL)
	if err != nil {
		return fmt.Errorf("read v$archive_dest: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var peer, status string
		if err := rows.Scan(&peer, &status); err != nil {
			return fmt.Errorf("read v$archive_dest: %w", err)
		}
		st.Links = append(st.Links, domain.ReplicationLink{Direction: "downstream", Kind: "physical", Peer: peer, State: strings.ToLower(status)})
	}
	return rows.Err()
}

// parseInterval reads v$dataguard_stats' day-to-second interval,
// "+DD HH:MI:SS" (optionally with fractions of a second), as seconds.
func parseInterval(s string) (float64, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "+"))
	days, clock, ok := strings.Cut(s, " ")
	if !ok {
		return 0, fmt.Errorf("read apply lag %q: not +DD HH:MI:SS", s)
	}
	parts := strings.Split(clock, ":")
	d, err := strconv.Atoi(days)
	if err != nil || len(parts) != 3 {
		return 0, fmt.Errorf("read apply lag %q: not +DD HH:MI:SS", s)
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	sec, err3 := strconv.ParseFloat(parts[2], 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, fmt.Errorf("read apply lag %q: not +DD HH:MI:SS", s)
	}
	return float64(d*86400+h*3600+m*60) + sec, nil
}
