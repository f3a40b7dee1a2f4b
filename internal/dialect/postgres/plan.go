package postgres

import (
	"fmt"
	"strings"

	pgquery "github.com/pganalyze/pg_query_go/v6"

	"github.com/hotswap-db/hotswap/internal/sqlcheck/pgcheck"
)

// scriptPlan is how ExecuteStep runs one script, decided from PostgreSQL's
// own parse tree, never from the text.
type scriptPlan struct {
	stmts []statement
	// transactional: every statement may run inside one transaction block.
	transactional bool
	// reason says why the script is not transactional.
	reason string
	// units group the statements run one by one: a lone statement, or an
	// explicit BEGIN ... COMMIT block of the script, retried as a whole.
	units []unit
}

// unit is the statements stmts[first:last+1], run and retried together.
type unit struct{ first, last int }

// lockNeeds is what a group of statements will wait for: locks on
// relations and, for some commands, older snapshots.
type lockNeeds struct {
	targets   []lockTarget
	snapshots bool
	// sql is the first statement waiting for snapshots.
	sql string
}

// needsOf gathers the lock needs of stmts.
func needsOf(stmts []statement) lockNeeds {
	var n lockNeeds
	for _, s := range stmts {
		n.targets = append(n.targets, s.targets...)
		if s.waitsForSnapshots && !n.snapshots {
			n.snapshots, n.sql = true, s.sql
		}
	}
	return n
}

// firstSQL is a statement to blame when the needs cannot be met.
func (n lockNeeds) firstSQL() string {
	if len(n.targets) > 0 {
		return n.targets[0].sql
	}
	return n.sql
}

// statement is one statement of the script and what its parse tree says.
type statement struct {
	index int
	sql   string
	// noTx names the command when it cannot run in a transaction block.
	noTx string
	// txControl: BEGIN, COMMIT, SAVEPOINT... written in the script.
	txControl   bool
	beginsBlock bool
	endsBlock   bool
	// targets are the relations the statement locks, for the lock pre-check.
	targets []lockTarget
	// waitsForSnapshots: the command waits for every transaction of the
	// database holding an older snapshot (CREATE/REINDEX ... CONCURRENTLY).
	waitsForSnapshots bool
	// createIndex is set for CREATE INDEX [CONCURRENTLY].
	createIndex *indexTarget
	// dropIndex is set for DROP INDEX [CONCURRENTLY].
	dropIndex *dropTarget
}

// indexTarget is what a CREATE INDEX names.
type indexTarget struct {
	name        string // bare index name; empty when PostgreSQL picks it
	table       string // quoted, possibly schema-qualified table name
	concurrent  bool
	ifNotExists bool
}

// dropTarget is what a DROP INDEX names.
type dropTarget struct {
	names     []string // quoted, possibly schema-qualified
	missingOk bool
}

// planScript splits script with the parser and classifies each statement.
// A script that does not parse is reported as a *statementError.
func planScript(script string) (scriptPlan, error) {
	texts, err := pgcheck.Statements(script)
	if err != nil {
		return scriptPlan{}, syntaxFailure(script, err)
	}
	var p scriptPlan
	for i, text := range texts {
		s, err := classify(i, text)
		if err != nil {
			return scriptPlan{}, err
		}
		p.stmts = append(p.stmts, s)
	}
	p.transactional, p.reason = transactional(p.stmts)
	p.units = groupUnits(p.stmts)
	return p, nil
}

// syntaxFailure reports a script the parser refused.
func syntaxFailure(sql string, err error) error {
	return &statementError{SQL: sql, DB: dbFailure("syntax error: "+err.Error(), sqlstateSyntaxError), Cause: err}
}

// classify parses one statement and records what ExecuteStep needs to know.
func classify(i int, text string) (statement, error) {
	tree, err := pgquery.Parse(text)
	if err != nil {
		return statement{}, syntaxFailure(text, err)
	}
	s := statement{index: i, sql: text}
	for _, raw := range tree.GetStmts() {
		inspect(&s, raw.GetStmt())
	}
	return s, nil
}

// inspect fills s from one parse-tree node.
func inspect(s *statement, n *pgquery.Node) {
	s.noTx = noTxCommand(n)
	s.waitsForSnapshots = s.noTx == "CREATE INDEX CONCURRENTLY" || s.noTx == "REINDEX CONCURRENTLY"
	for _, t := range lockTargets(n) {
		t.sql = s.sql
		s.targets = append(s.targets, t)
	}
	if t := n.GetTransactionStmt(); t != nil {
		s.txControl = true
		s.beginsBlock = t.Kind == pgquery.TransactionStmtKind_TRANS_STMT_BEGIN ||
			t.Kind == pgquery.TransactionStmtKind_TRANS_STMT_START
		s.endsBlock = t.Kind == pgquery.TransactionStmtKind_TRANS_STMT_COMMIT ||
			t.Kind == pgquery.TransactionStmtKind_TRANS_STMT_ROLLBACK ||
			t.Kind == pgquery.TransactionStmtKind_TRANS_STMT_PREPARE
	}
	if ix := n.GetIndexStmt(); ix != nil {
		s.createIndex = &indexTarget{
			name: ix.GetIdxname(), table: rangeVarName(ix.GetRelation()),
			concurrent: ix.GetConcurrent(), ifNotExists: ix.GetIfNotExists(),
		}
	}
	if d := n.GetDropStmt(); d != nil && d.GetRemoveType() == pgquery.ObjectType_OBJECT_INDEX {
		s.dropIndex = &dropTarget{names: objectNames(d.GetObjects()), missingOk: d.GetMissingOk()}
	}
}

// transactional reports whether every statement may run in one
// transaction block, and why not otherwise.
func transactional(stmts []statement) (bool, string) {
	for _, s := range stmts {
		if s.txControl {
			return false, fmt.Sprintf("the script controls its own transactions (statement %d: %s): running its statements as written",
				s.index+1, firstWords(s.sql))
		}
	}
	for _, s := range stmts {
		if s.noTx != "" {
			return false, fmt.Sprintf("%s (statement %d) cannot run in a transaction block: running the script statement by statement",
				s.noTx, s.index+1)
		}
	}
	return true, ""
}

// groupUnits makes one unit per statement, except that an explicit
// transaction block of the script is one unit.
func groupUnits(stmts []statement) []unit {
	var units []unit
	for i := 0; i < len(stmts); i++ {
		u := unit{first: i, last: i}
		if stmts[i].beginsBlock {
			for u.last+1 < len(stmts) && !stmts[u.last].endsBlock {
				u.last++
			}
			i = u.last
		}
		units = append(units, u)
	}
	return units
}

// noTxCommand names the command n runs when PostgreSQL refuses to run it
// inside a transaction block, and returns "" otherwise.
func noTxCommand(n *pgquery.Node) string {
	for _, check := range []func(*pgquery.Node) string{noTxIndex, noTxMaintenance, noTxCluster, noTxAlter} {
		if name := check(n); name != "" {
			return name
		}
	}
	return ""
}

// noTxIndex covers CREATE/DROP/REINDEX ... CONCURRENTLY, REINDEX SYSTEM and
// REINDEX DATABASE.
func noTxIndex(n *pgquery.Node) string {
	switch {
	case n.GetIndexStmt().GetConcurrent():
		return "CREATE INDEX CONCURRENTLY"
	case n.GetDropStmt().GetConcurrent():
		return "DROP INDEX CONCURRENTLY"
	}
	r := n.GetReindexStmt()
	if r == nil {
		return ""
	}
	if on, found := defBool(r.GetParams(), "concurrently"); found && on {
		return "REINDEX CONCURRENTLY"
	}
	if k := r.GetKind(); k == pgquery.ReindexObjectType_REINDEX_OBJECT_SYSTEM || k == pgquery.ReindexObjectType_REINDEX_OBJECT_DATABASE {
		return "REINDEX " + strings.TrimPrefix(k.String(), "REINDEX_OBJECT_")
	}
	return ""
}

// noTxMaintenance covers VACUUM, databases, tablespaces and ALTER SYSTEM.
func noTxMaintenance(n *pgquery.Node) string {
	switch {
	case n.GetVacuumStmt().GetIsVacuumcmd():
		return "VACUUM"
	case n.GetCreatedbStmt() != nil:
		return "CREATE DATABASE"
	case n.GetDropdbStmt() != nil:
		return "DROP DATABASE"
	case n.GetAlterSystemStmt() != nil:
		return "ALTER SYSTEM"
	case n.GetCreateTableSpaceStmt() != nil:
		return "CREATE TABLESPACE"
	case n.GetDropTableSpaceStmt() != nil:
		return "DROP TABLESPACE"
	}
	if opts := n.GetAlterDatabaseStmt().GetOptions(); len(opts) > 0 {
		if _, found := defOption(opts, "tablespace"); found {
			return "ALTER DATABASE SET TABLESPACE"
		}
	}
	return ""
}

// noTxCluster covers CLUSTER without a table and the subscription commands
// that create, drop or refresh a replication slot or table copies.
func noTxCluster(n *pgquery.Node) string {
	if c := n.GetClusterStmt(); c != nil && c.GetRelation() == nil {
		return "CLUSTER without a table"
	}
	if c := n.GetCreateSubscriptionStmt(); c != nil {
		if off(c.GetOptions(), "connect") || off(c.GetOptions(), "create_slot") {
			return ""
		}
		return "CREATE SUBSCRIPTION"
	}
	if n.GetDropSubscriptionStmt() != nil {
		return "DROP SUBSCRIPTION"
	}
	a := n.GetAlterSubscriptionStmt()
	switch a.GetKind() {
	case pgquery.AlterSubscriptionType_ALTER_SUBSCRIPTION_REFRESH:
		return "ALTER SUBSCRIPTION ... REFRESH PUBLICATION"
	case pgquery.AlterSubscriptionType_ALTER_SUBSCRIPTION_SET_PUBLICATION,
		pgquery.AlterSubscriptionType_ALTER_SUBSCRIPTION_ADD_PUBLICATION,
		pgquery.AlterSubscriptionType_ALTER_SUBSCRIPTION_DROP_PUBLICATION:
		if !off(a.GetOptions(), "refresh") {
			return "ALTER SUBSCRIPTION ... PUBLICATION with refresh"
		}
	}
	return ""
}

// noTxAlter covers ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY.
func noTxAlter(n *pgquery.Node) string {
	for _, c := range n.GetAlterTableStmt().GetCmds() {
		cmd := c.GetAlterTableCmd()
		if cmd.GetSubtype() == pgquery.AlterTableType_AT_DetachPartition && cmd.GetDef().GetPartitionCmd().GetConcurrent() {
			return "DETACH PARTITION CONCURRENTLY"
		}
	}
	return ""
}

// off reports whether the option name is given and false.
func off(opts []*pgquery.Node, name string) bool {
	on, found := defBool(opts, name)
	return found && !on
}

// defBool reads a boolean option: a bare option is true.
func defBool(opts []*pgquery.Node, name string) (on, found bool) {
	arg, found := defOption(opts, name)
	if !found {
		return false, false
	}
	if arg == nil {
		return true, true
	}
	if b := arg.GetBoolean(); b != nil {
		return b.GetBoolval(), true
	}
	if i := arg.GetInteger(); i != nil {
		return i.GetIval() != 0, true
	}
	switch strings.ToLower(arg.GetString_().GetSval()) {
	case "false", "off", "no", "0":
		return false, true
	}
	return true, true
}

// defOption finds option name among opts and returns its argument.
func defOption(opts []*pgquery.Node, name string) (*pgquery.Node, bool) {
	for _, o := range opts {
		if d := o.GetDefElem(); d != nil && strings.EqualFold(d.GetDefname(), name) {
			return d.GetArg(), true
		}
	}
	return nil, false
}

// rangeVarName quotes a table reference of the parse tree so that
// to_regclass resolves it as PostgreSQL did (search_path when unqualified).
func rangeVarName(rv interface {
	GetSchemaname() string
	GetRelname() string
}) string {
	if rv == nil || rv.GetRelname() == "" {
		return ""
	}
	if rv.GetSchemaname() == "" {
		return quoteIdent(rv.GetRelname())
	}
	return quoteIdent(rv.GetSchemaname()) + "." + quoteIdent(rv.GetRelname())
}

// objectNames quotes the (possibly qualified) names of a DROP's objects.
func objectNames(objects []*pgquery.Node) []string {
	var names []string
	for _, o := range objects {
		var parts []string
		for _, item := range o.GetList().GetItems() {
			parts = append(parts, quoteIdent(item.GetString_().GetSval()))
		}
		if len(parts) > 0 {
			names = append(names, strings.Join(parts, "."))
		}
	}
	return names
}

// quoteIdent quotes an identifier as PostgreSQL's quote_ident does when
// quoting is needed; always quoting is equivalent for to_regclass.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// firstWords returns the start of a statement, for messages.
func firstWords(sql string) string {
	fields := strings.Fields(stripComments(sql))
	if len(fields) > 4 {
		fields = fields[:4]
	}
	return strings.Join(fields, " ")
}

// stripComments drops the "--" comment lines the splitter leaves in front
// of a statement.
func stripComments(sql string) string {
	var kept []string
	for _, line := range strings.Split(sql, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}
