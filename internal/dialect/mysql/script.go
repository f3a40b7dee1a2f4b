package mysql

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	// The parser needs a driver for literal values; this is its standalone one.
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"
)

// AllowCopyDirective, on a line of its own in a script, allows an ALTER
// TABLE that the server can only run with ALGORITHM=COPY (a full copy of
// the table that blocks writes for its whole length): without it such a
// statement is refused.
const AllowCopyDirective = "-- hotswap:allow-copy"

// table is a schema-qualified table a statement locks.
type table struct{ schema, name string }

// String quotes the table for messages.
func (t table) String() string { return "`" + t.schema + "`.`" + t.name + "`" }

// statement is one statement of a script.
type statement struct {
	index int
	sql   string
	// targets are the tables whose metadata lock it takes exclusively.
	targets []table
	// variants are the forms to try in order (ALGORITHM=INSTANT, then
	// INPLACE with LOCK=NONE), when the server chooses the algorithm; the
	// statement as written comes last, and only when copying is allowed.
	variants []string
	// copyRefused is set when the statement as written may only run if
	// the script allows a table copy.
	copyRefused bool
	node        ast.StmtNode
}

// scriptPlan is a parsed script.
type scriptPlan struct {
	stmts     []statement
	allowCopy bool
}

// planScript parses script with TiDB's MySQL parser and plans each
// statement; defaultSchema qualifies unqualified tables.
func planScript(script, defaultSchema string) (scriptPlan, error) {
	nodes, _, err := parser.New().ParseSQL(script)
	if err != nil {
		return scriptPlan{}, &statementError{SQL: firstWords(script), DB: dbFailure("the script does not parse: "+err.Error(), "")}
	}
	p := scriptPlan{allowCopy: hasDirective(script)}
	for i, n := range nodes {
		text := strings.TrimRight(strings.TrimSpace(n.Text()), ";")
		s := statement{index: i, sql: stripLeadingComments(text), node: n}
		s.targets = targetsOf(n, defaultSchema)
		s.variants = algorithmVariants(n, s.sql)
		if len(s.variants) > 0 {
			s.copyRefused = !p.allowCopy
			if p.allowCopy {
				s.variants = append(s.variants, s.sql)
			}
		}
		p.stmts = append(p.stmts, s)
	}
	if len(p.stmts) == 0 {
		return scriptPlan{}, &statementError{DB: dbFailure("the script holds no statement", "")}
	}
	return p, nil
}

// hasDirective reports whether a line of script is AllowCopyDirective.
func hasDirective(script string) bool {
	for _, line := range strings.Split(script, "\n") {
		if strings.EqualFold(strings.Join(strings.Fields(line), ""), strings.ReplaceAll(AllowCopyDirective, " ", "")) {
			return true
		}
	}
	return false
}

// algorithmVariants returns the online forms of an ALTER TABLE or CREATE
// INDEX that names no algorithm or lock of its own: INSTANT first (ALTER
// TABLE only), then INPLACE with LOCK=NONE. Other statements have none.
func algorithmVariants(n ast.StmtNode, sql string) []string {
	switch st := n.(type) {
	case *ast.AlterTableStmt:
		if len(st.Specs) == 0 {
			return nil
		}
		for _, spec := range st.Specs {
			if spec.Tp == ast.AlterTableAlgorithm || spec.Tp == ast.AlterTableLock || spec.Tp == ast.AlterTableOption ||
				spec.Tp == ast.AlterTablePartition || spec.Tp == ast.AlterTableRenameTable {
				return nil
			}
		}
		return []string{sql + ", ALGORITHM=INSTANT", sql + ", ALGORITHM=INPLACE, LOCK=NONE"}
	case *ast.CreateIndexStmt:
		if st.LockAlg != nil {
			return nil
		}
		return []string{sql + " ALGORITHM=INPLACE LOCK=NONE"}
	}
	return nil
}

// targetsOf lists the tables a statement locks exclusively (its metadata
// lock conflicts with every reader's).
func targetsOf(n ast.StmtNode, schema string) []table {
	var names []*ast.TableName
	switch st := n.(type) {
	case *ast.AlterTableStmt:
		names = []*ast.TableName{st.Table}
	case *ast.CreateIndexStmt:
		names = []*ast.TableName{st.Table}
	case *ast.DropIndexStmt:
		names = []*ast.TableName{st.Table}
	case *ast.DropTableStmt:
		names = st.Tables
	case *ast.TruncateTableStmt:
		names = []*ast.TableName{st.Table}
	case *ast.RenameTableStmt:
		for _, t := range st.TableToTables {
			names = append(names, t.OldTable)
		}
	case *ast.CreateTableStmt:
		if st.ReferTable != nil {
			names = []*ast.TableName{st.ReferTable}
		}
	}
	out := make([]table, 0, len(names))
	for _, tn := range names {
		if tn == nil {
			continue
		}
		t := table{schema: tn.Schema.O, name: tn.Name.O}
		if t.schema == "" {
			t.schema = schema
		}
		out = append(out, t)
	}
	return out
}

// firstWords names a statement in messages by its first three words.
func firstWords(sql string) string {
	f := strings.Fields(sql)
	return strings.Join(f[:min(3, len(f))], " ")
}

// copyRefusal explains why a statement that only COPY can run was refused.
func copyRefusal(s statement, cause string) *statementError {
	msg := fmt.Sprintf("the server can run this statement neither with ALGORITHM=INSTANT nor INPLACE with LOCK=NONE (%s): "+
		"only ALGORITHM=COPY is possible, which copies the table and blocks its writes meanwhile; refused. "+
		"Add the line %q to the script to allow the copy", cause, AllowCopyDirective)
	return &statementError{SQL: s.sql, DB: dbFailure(msg, codeAlterNotSupported)}
}

// stripLeadingComments drops the whole-line comments ("-- ", "#") before a
// statement's text, which the parser keeps with the statement.
func stripLeadingComments(text string) string {
	text = strings.TrimSpace(text)
	for strings.HasPrefix(text, "-- ") || strings.HasPrefix(text, "#") {
		_, rest, ok := strings.Cut(text, "\n")
		if !ok {
			return text
		}
		text = strings.TrimSpace(rest)
	}
	return text
}
