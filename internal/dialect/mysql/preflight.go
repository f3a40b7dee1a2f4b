package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// Server error numbers the preflight tells apart from a failure to ask.
const (
	errSpecificAccessDenied = 1227 // ER_SPECIFIC_ACCESS_DENIED_ERROR: a global privilege is missing
	errTableAccessDenied    = 1142 // ER_TABLEACCESS_DENIED_ERROR
	errDBAccessDenied       = 1044 // ER_DBACCESS_DENIED_ERROR
)

// preflightFacts is what one look at the server finds about the account.
type preflightFacts struct {
	user, host   string // CURRENT_USER(), split
	mariadb      bool
	readOnly     bool
	process      bool   // INNODB_TRX readable: PROCESS
	mdl          bool   // performance_schema records metadata locks
	perfSchema   bool   // @@performance_schema
	digests      string // statements_digest consumer: "YES", "NO", "" unknown
	digestErr    string // why performance_schema could not be read
	replicaErr   string // why the replica status could not be read
	binlogErr    string // why the binary log status could not be read
	privs        map[string]bool
	database     string
	historyFound bool
}

// Preflight checks, as the agent's account, what HotSwap's guards rely on
// (dialect.Preflighter): PROCESS to see other sessions' queries,
// transactions and metadata locks; performance_schema on, with the
// metadata-lock instrument and the statement digests, readable by the
// account; the right to create and write the `hotswap` history schema;
// REPLICA MONITOR and BINLOG MONITOR (MariaDB) or REPLICATION CLIENT
// (MySQL) to read replication state.
func (c *Conn) Preflight(ctx context.Context) (domain.Preflight, error) {
	conn, err := c.session(ctx)
	if err != nil {
		return domain.Preflight{}, c.scrub(fmt.Errorf("preflight %s: %w", c.target, err))
	}
	defer conn.Close()
	f, err := readPreflightFacts(ctx, conn)
	if err != nil {
		return domain.Preflight{}, c.scrub(fmt.Errorf("preflight %s: %w", c.target, err))
	}
	return domain.Preflight{CheckedAt: time.Now().UTC(), Checks: []domain.PreflightCheck{
		f.sessions(), f.latency(), f.history(), f.replication(),
	}}, nil
}

// readPreflightFacts reads the facts on one session. A missing privilege
// is a fact; any other failure is an error.
func readPreflightFacts(ctx context.Context, q queryer) (preflightFacts, error) {
	f := preflightFacts{privs: map[string]bool{}}
	var who, version string
	var db sql.NullString
	err := q.QueryRowContext(ctx, `SELECT CURRENT_USER(), VERSION(), @@read_only, DATABASE(), @@performance_schema`).
		Scan(&who, &version, &f.readOnly, &db, &f.perfSchema)
	if err != nil {
		return f, fmt.Errorf("read account: %w", err)
	}
	f.user, f.host, _ = strings.Cut(who, "@")
	f.mariadb = strings.Contains(version, "MariaDB")
	f.database = db.String
	steps := []func(context.Context, queryer, *preflightFacts) error{
		readProcess, readDigests, readPrivileges, readReplication,
	}
	for _, step := range steps {
		if err := step(ctx, q, &f); err != nil {
			return f, err
		}
	}
	f.mdl = mdlInstrumented(ctx, q)
	return f, nil
}

// denied returns the server's message when err is an access denial.
func denied(err error) (string, bool) {
	me, ok := serverError(err)
	if !ok {
		return "", false
	}
	switch me.Number {
	case errSpecificAccessDenied, errTableAccessDenied, errDBAccessDenied:
		return me.Message, true
	}
	return "", false
}

// tryQuery runs stmt and discards its rows; a denial is returned as its
// message, any other error as an error.
func tryQuery(ctx context.Context, q queryer, stmt string) (string, error) {
	rows, err := q.QueryContext(ctx, stmt)
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	if msg, ok := denied(err); ok {
		return msg, nil
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", stmt, err)
	}
	return "", nil
}

// readProcess finds whether INNODB_TRX, which needs PROCESS, is readable.
func readProcess(ctx context.Context, q queryer, f *preflightFacts) error {
	msg, err := tryQuery(ctx, q, "SELECT trx_id FROM information_schema.INNODB_TRX LIMIT 1")
	f.process = err == nil && msg == ""
	return err
}

// readDigests reads the statements_digest consumer and tries the digest
// table.
func readDigests(ctx context.Context, q queryer, f *preflightFacts) error {
	if !f.perfSchema {
		return nil
	}
	err := q.QueryRowContext(ctx, `SELECT ENABLED FROM performance_schema.setup_consumers WHERE NAME = 'statements_digest'`).Scan(&f.digests)
	if msg, ok := denied(err); ok {
		f.digestErr = msg
		return nil
	}
	if err != nil && err != sql.ErrNoRows {
		return fmt.Errorf("read statement digest consumer: %w", err)
	}
	msg, err := tryQuery(ctx, q, "SELECT DIGEST FROM performance_schema.events_statements_summary_by_digest LIMIT 1")
	f.digestErr = msg
	return err
}

// privilegesSQL lists the account's global privileges and those on the
// history schema.
const privilegesSQL = `SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?
UNION SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND TABLE_SCHEMA = 'hotswap'`

// readPrivileges reads the privileges that decide the history check, the
// account's own and those of its enabled roles (readRoleGrants), and
// whether the history tables exist.
func readPrivileges(ctx context.Context, q queryer, f *preflightFacts) error {
	grantee := fmt.Sprintf("'%s'@'%s'", f.user, f.host)
	rows, err := q.QueryContext(ctx, privilegesSQL, grantee, grantee)
	if err != nil {
		return fmt.Errorf("read privileges: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return fmt.Errorf("read privileges: %w", err)
		}
		f.privs[p] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read privileges: %w", err)
	}
	if err := readRoleGrants(ctx, q, f); err != nil {
		return err
	}
	f.historyFound, err = historyExists(ctx, q)
	return err
}

// readReplication tries the statements the probe reads replication state
// with.
func readReplication(ctx context.Context, q queryer, f *preflightFacts) error {
	replica, binlog := "SHOW REPLICA STATUS", "SHOW BINARY LOG STATUS"
	if f.mariadb {
		replica, binlog = "SHOW ALL SLAVES STATUS", "SHOW MASTER STATUS"
	}
	var err error
	if f.replicaErr, err = tryQuery(ctx, q, replica); err != nil {
		return err
	}
	f.binlogErr, err = tryQuery(ctx, q, binlog)
	if err != nil && !f.mariadb {
		// MySQL before 8.2 knows only SHOW MASTER STATUS.
		f.binlogErr, err = tryQuery(ctx, q, "SHOW MASTER STATUS")
	}
	return err
}

// account writes the account as a GRANT names it.
func (f preflightFacts) account() string { return fmt.Sprintf("'%s'@'%s'", f.user, f.host) }

func (f preflightFacts) sessions() domain.PreflightCheck {
	c := domain.PreflightCheck{Name: domain.PreflightSessions, OK: f.process}
	switch {
	case !c.OK:
		c.Detail = fmt.Sprintf("account %s lacks PROCESS: it sees neither other sessions' queries nor their transactions "+
			"(INNODB_TRX), so it cannot wait for a blocker outside the metadata-lock queue", f.account())
		c.Fix = "GRANT PROCESS ON *.* TO " + f.account()
	case f.mdl:
		c.Detail = fmt.Sprintf("account %s sees other sessions' queries, transactions and metadata locks "+
			"(performance_schema.metadata_locks)", f.account())
	default:
		c.Detail = fmt.Sprintf("account %s sees other sessions' queries and transactions, but the metadata-lock "+
			"instrument is off: the guard waits for every long transaction, not only those holding the table "+
			"(performance-schema-instrument='wait/lock/metadata/sql/mdl=ON' in [mysqld] for the precise guard)", f.account())
	}
	return c
}

func (f preflightFacts) latency() domain.PreflightCheck {
	c := domain.PreflightCheck{Name: domain.PreflightLatency}
	switch {
	case !f.perfSchema:
		c.Detail = "performance_schema is off: no statement digests, the latency rule has no data"
		c.Fix = "performance_schema=ON in [mysqld] of the server's configuration, then restart"
	case f.digestErr != "":
		c.Detail = "performance_schema cannot be read: " + f.digestErr
		c.Fix = "GRANT SELECT ON performance_schema.* TO " + f.account()
	case f.digests != "YES":
		c.Detail = "the statements_digest consumer is disabled: the latency rule has no data"
		c.Fix = "UPDATE performance_schema.setup_consumers SET ENABLED = 'YES' WHERE NAME = 'statements_digest' " +
			"(and performance-schema-consumer-statements-digest=ON in [mysqld])"
	default:
		c.OK = true
		c.Detail = "performance_schema statement digests are collected and readable"
	}
	return c
}

// may reports whether the account holds every privilege named, globally
// or on the history schema.
func (f preflightFacts) may(privs ...string) bool {
	if f.privs[allPrivileges] {
		return true
	}
	for _, p := range privs {
		if !f.privs[p] {
			return false
		}
	}
	return true
}

func (f preflightFacts) history() domain.PreflightCheck {
	c := domain.PreflightCheck{Name: domain.PreflightHistory}
	need := []string{"SELECT", "INSERT"}
	if !f.historyFound {
		need = append(need, "CREATE")
	}
	switch {
	case !f.may(need...):
		c.Detail = fmt.Sprintf("account %s may not create and write the history schema `hotswap`", f.account())
		c.Fix = "GRANT ALL PRIVILEGES ON `hotswap`.* TO " + f.account()
	case f.readOnly && f.mariadb && !f.may("READ_ONLY ADMIN") && !f.may("SUPER"):
		c.Detail = fmt.Sprintf("read-only replica: account %s may not apply a replica-first change or record it "+
			"without READ_ONLY ADMIN", f.account())
		c.Fix = "GRANT READ_ONLY ADMIN ON *.* TO " + f.account()
	case f.historyFound:
		c.OK = true
		c.Detail = "`hotswap`.schema_history exists and the account may write it"
	default:
		c.OK = true
		c.Detail = "the account may create the history schema `hotswap`"
	}
	return c
}

func (f preflightFacts) replication() domain.PreflightCheck {
	c := domain.PreflightCheck{Name: domain.PreflightReplication}
	fix := "GRANT REPLICATION CLIENT ON *.* TO " + f.account()
	if f.mariadb {
		fix = "GRANT REPLICA MONITOR, BINLOG MONITOR ON *.* TO " + f.account()
	}
	switch {
	case f.replicaErr != "" || f.binlogErr != "":
		c.Detail = fmt.Sprintf("account %s cannot read replication state (%s): replicas' position and lag are hidden",
			f.account(), strings.TrimPrefix(f.replicaErr+"; "+f.binlogErr, "; "))
		c.Fix = fix
	case !f.process:
		c.Detail = fmt.Sprintf("account %s lacks PROCESS: the primary's replicas (binlog dump sessions) are hidden", f.account())
		c.Fix = "GRANT PROCESS ON *.* TO " + f.account()
	default:
		c.OK = true
		c.Detail = "the account reads the replica and binary log status and the replicas' sessions"
	}
	return c
}
