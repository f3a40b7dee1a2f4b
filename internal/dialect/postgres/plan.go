package postgres

import (
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

// setsParameters reports whether a statement of p sets or resets a
// parameter.
func (p scriptPlan) setsParameters() bool {
	for _, s := range p.stmts {
		if s.setsParameter {
			return true
		}
	}
	return false
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
	// setsParameter: SET or RESET, which may change how later names
	// resolve (search_path) or who runs them (SET ROLE).
	setsParameter bool
	// lockFirst is run before the statement in the same round trip: the
	// probe's LOCK TABLE ... NOWAIT (probe.go).
	lockFirst string
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
	tx := pgcheck.TxFactsOf(n)
	s.noTx, s.txControl, s.beginsBlock, s.endsBlock = tx.NoTx, tx.Control, tx.Begins, tx.Ends
	s.waitsForSnapshots = s.noTx == "CREATE INDEX CONCURRENTLY" || s.noTx == "REINDEX CONCURRENTLY"
	s.setsParameter = s.setsParameter || n.GetVariableSetStmt() != nil
	for _, t := range lockTargets(n) {
		t.sql = s.sql
		s.targets = append(s.targets, t)
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
// transaction block, and why not otherwise (pgcheck.Transactional).
func transactional(stmts []statement) (bool, string) {
	facts := make([]pgcheck.TxFacts, len(stmts))
	for i, s := range stmts {
		facts[i] = pgcheck.TxFacts{NoTx: s.noTx, Control: s.txControl, Begins: s.beginsBlock, Ends: s.endsBlock,
			Start: pgcheck.FirstWords(s.sql)}
	}
	return pgcheck.Transactional(facts)
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
