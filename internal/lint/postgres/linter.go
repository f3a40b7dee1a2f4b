package postgres

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// linter is the state of one run over a script, statement by statement.
type linter struct {
	script   string
	target   lint.Target
	catalog  lint.Catalog
	stmts    []lint.Statement
	findings []lint.Finding
	cur      int // index of the statement being judged

	created map[string]bool   // tables, views and schemas created by the script
	indexes map[string]string // indexes created by the script -> their table
	checks  map[string]check  // NOT NULL checks by "table.constraint"
	txn     *txn              // the open explicit transaction, nil outside one

	identities []identity // identity columns added to existing tables
	resets     []int      // statements that reset a sequence
}

// check is a CHECK (col IS NOT NULL) constraint the script adds.
type check struct {
	column    string
	validated bool
}

// identity is an ADD GENERATED AS IDENTITY on an existing column.
type identity struct {
	stmt          int
	table, column string
	sql           string
}

// txn is an explicit BEGIN ... COMMIT block.
type txn struct {
	strong     []hold         // strong locks taken so far on existing tables
	enumValues map[string]int // enum values added in it -> statement index
}

// hold is a lock that blocks writes, held until the transaction ends.
type hold struct {
	stmt  int
	table string
	lock  string
}

// impact is what one statement does, for the transaction rules.
type impact struct {
	strong *hold // a write-blocking lock it takes on an existing table
	long   bool  // it scans, builds or rewrites an existing table
}

func newLinter(script string, target lint.Target, cat lint.Catalog) *linter {
	return &linter{script: script, target: target, catalog: cat,
		created: map[string]bool{}, indexes: map[string]string{}, checks: map[string]check{}}
}

// finding records a finding on the current statement.
func (l *linter) finding(f lint.Finding) *lint.Finding {
	f.Statement = l.cur + 1
	l.findings = append(l.findings, f)
	return &l.findings[len(l.findings)-1]
}

// classify raises the current statement's class to at least c.
func (l *linter) classify(c lint.Class) {
	s := &l.stmts[l.cur]
	s.Class = max(s.Class, c)
}

// isNew reports whether the table was created earlier in the script.
func (l *linter) isNew(rv *pg.RangeVar) bool { return rv != nil && l.created[key(rv)] }

// statement judges one statement in the light of those before it.
func (l *linter) statement(i int, node *pg.Node) {
	l.cur = i
	l.transactionRules(node, l.dispatch(node))
}

func (l *linter) dispatch(node *pg.Node) impact {
	switch n := node.Node.(type) {
	case *pg.Node_TransactionStmt:
		l.transaction(n.TransactionStmt)
	case *pg.Node_CreateStmt:
		l.created[key(n.CreateStmt.Relation)] = true
		l.classify(lint.ClassAdditive)
	case *pg.Node_CreateTableAsStmt:
		l.created[key(n.CreateTableAsStmt.Into.Rel)] = true
		l.classify(lint.ClassAdditive)
	case *pg.Node_ViewStmt:
		l.created[key(n.ViewStmt.View)] = true
		l.classify(lint.ClassAdditive)
	case *pg.Node_CreateSchemaStmt:
		l.created[n.CreateSchemaStmt.Schemaname] = true
		l.classify(lint.ClassAdditive)
	case *pg.Node_IndexStmt:
		return l.createIndex(n.IndexStmt)
	case *pg.Node_DropStmt:
		return l.drop(n.DropStmt)
	case *pg.Node_DropdbStmt:
		l.dataLoss("ban-drop-database", "DROP DATABASE removes the database and all its data", "")
	case *pg.Node_AlterTableStmt:
		return l.alterTable(n.AlterTableStmt)
	case *pg.Node_RenameStmt:
		return l.rename(n.RenameStmt)
	case *pg.Node_TruncateStmt:
		return l.truncate(n.TruncateStmt)
	case *pg.Node_DeleteStmt:
		return l.delete(n.DeleteStmt)
	case *pg.Node_UpdateStmt:
		return l.update(n.UpdateStmt)
	case *pg.Node_ReindexStmt:
		return l.reindex(n.ReindexStmt)
	case *pg.Node_VacuumStmt:
		return l.vacuum(n.VacuumStmt)
	case *pg.Node_ClusterStmt:
		return l.cluster(n.ClusterStmt)
	case *pg.Node_RefreshMatViewStmt:
		return l.refresh(n.RefreshMatViewStmt)
	case *pg.Node_AlterEnumStmt:
		l.alterEnum(n.AlterEnumStmt)
	case *pg.Node_LockStmt:
		return l.lock(n.LockStmt)
	case *pg.Node_DoStmt:
		l.classify(lint.ClassAdditive)
		l.finding(lint.Finding{Rule: "opaque-do-block", Severity: lint.Info, Class: lint.ClassNone,
			Message: "a DO block is not analysed; review what it runs by hand"})
	case *pg.Node_SelectStmt, *pg.Node_InsertStmt, *pg.Node_VariableSetStmt, *pg.Node_VariableShowStmt:
		l.classify(lint.ClassNone)
	default:
		l.classify(lint.ClassAdditive)
	}
	return impact{}
}

// transactionRules applies the rules that need the whole transaction: new
// enum values used before commit and long work under a strong lock.
func (l *linter) transactionRules(node *pg.Node, imp impact) {
	if callsSetval(node) {
		l.resets = append(l.resets, l.cur)
	}
	if l.txn == nil {
		return
	}
	l.enumUse(node)
	if imp.long && len(l.txn.strong) > 0 {
		h := l.txn.strong[0]
		l.finding(lint.Finding{Rule: "lock-held-across-work", Severity: lint.Warning, Class: lint.ClassBlocking,
			Message: fmt.Sprintf("statement %d took %s on %s and the transaction still holds it while this statement scans, builds or rewrites; every query on %s waits until COMMIT",
				h.stmt+1, h.lock, h.table, h.table),
			Effect:  lint.Effect{Lock: h.lock, Duration: "until the transaction commits", Work: lint.WorkScan},
			Table:   h.table,
			Rewrite: "COMMIT;\nBEGIN;\n" + l.sql(),
		})
	}
	if imp.strong != nil {
		h := *imp.strong
		h.stmt = l.cur
		l.txn.strong = append(l.txn.strong, h)
	}
}

func (l *linter) transaction(t *pg.TransactionStmt) {
	switch t.Kind {
	case pg.TransactionStmtKind_TRANS_STMT_BEGIN, pg.TransactionStmtKind_TRANS_STMT_START:
		l.txn = &txn{enumValues: map[string]int{}}
	case pg.TransactionStmtKind_TRANS_STMT_COMMIT, pg.TransactionStmtKind_TRANS_STMT_ROLLBACK,
		pg.TransactionStmtKind_TRANS_STMT_PREPARE:
		l.txn = nil
	}
}

// sql is the current statement's text, ending in a semicolon.
func (l *linter) sql() string { return terminate(l.stmts[l.cur].SQL) }

// outside wraps SQL that cannot run in a transaction block so that it runs
// between the current transaction's COMMIT and a new BEGIN.
func (l *linter) outside(sql string) string {
	if l.txn == nil {
		return sql
	}
	return "COMMIT;\n" + sql + "\nBEGIN;"
}

// dataLoss records an error for a statement that destroys data, with the
// acknowledged form as its rewrite.
func (l *linter) dataLoss(rule, msg, table string) {
	l.classify(lint.ClassDataLoss)
	l.finding(lint.Finding{Rule: rule, Severity: lint.Error, Class: lint.ClassDataLoss, Message: msg, Table: table,
		Effect:  lint.Effect{Lock: "ACCESS EXCLUSIVE", Duration: "brief", Work: lint.WorkDelete},
		Rewrite: acknowledge(rule, l.sql()),
	})
}

// acknowledge is the rewrite of a deliberate data loss: the statement with
// an ignore comment saying why, after the release that stops using it.
func acknowledge(rule, sql string) string {
	return "-- first ship a release that no longer reads or writes it, and keep a backup\n-- " +
		lint.IgnoreDirective + " " + rule + " data no longer used by any release; backup taken\n" + sql
}

func terminate(sql string) string {
	sql = strings.TrimSpace(sql)
	if !strings.HasSuffix(sql, ";") {
		sql += ";"
	}
	return sql
}
