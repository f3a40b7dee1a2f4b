package sqlserver

import (
	"fmt"

	"github.com/hotswap-db/hotswap/internal/lint"
	"github.com/hotswap-db/hotswap/internal/tsql"
)

// batchRows is the batch size of the DML rewrites.
const batchRows = 5000

// dml judges UPDATE and DELETE: without WHERE and without TOP, one
// transaction touches every row of the table and holds its locks (SQL
// Server escalates them to a table lock past about 5,000) until it
// commits.
func (l *linter) dml(cmd []tsql.Token) {
	if len(cmd) < 2 || cmd[1].Is("STATISTICS") || cmd[1].Kind == tsql.Var || topLevel(cmd, "WHERE") || cmd[1].Is("TOP") {
		l.classify(lint.ClassNone)
		return
	}
	i := 1
	if cmd[0].Is("DELETE") && cmd[i].Is("FROM") {
		i++
	}
	table, _ := tableAfter(cmd, i)
	if l.isNew(table) {
		l.classify(lint.ClassNone)
		return
	}
	top := tsql.Insertion{Offset: cmd[1].Offset, Text: fmt.Sprintf("TOP (%d) ", batchRows)}
	l.objects = append(l.objects, lint.Object{Kind: lint.ObjectTable, Name: table, Action: lint.ActionWrite, Statement: l.cur + 1})
	if cmd[0].Is("DELETE") {
		l.finding(lint.Finding{Rule: "delete-without-where", Severity: lint.Error, Class: lint.ClassDataLoss, Table: table,
			Message: fmt.Sprintf("DELETE without WHERE removes every row of %s in one transaction, escalating to a table lock", table),
			Effect:  lint.Effect{Lock: "X on every row, escalated to the table", Duration: "until the transaction commits", Work: lint.WorkDelete},
			Rewrite: "-- delete in batches; repeat until it deletes no row (@@ROWCOUNT = 0)\n" + l.rewriteWith(cmd, top)})
		return
	}
	l.finding(lint.Finding{Rule: "update-without-where", Severity: lint.Warning, Class: lint.ClassDML, Table: table, SizeDependent: true,
		Message: fmt.Sprintf("UPDATE without WHERE rewrites every row of %s in one transaction, escalating to a table lock "+
			"that blocks every reader and writer until it commits", table),
		Effect: lint.Effect{Lock: "X on every row, escalated to the table", Duration: "until the transaction commits", Work: lint.WorkDML},
		Rewrite: "-- update in batches: add a WHERE that leaves out the rows already updated, and repeat until it updates no row\n" +
			l.rewriteWith(cmd, top)})
}

// topLevel reports whether cmd holds kw outside parentheses.
func topLevel(cmd []tsql.Token, kw string) bool {
	depth := 0
	for _, t := range cmd {
		switch {
		case t.Text == "(":
			depth++
		case t.Text == ")":
			depth--
		case depth == 0 && t.Is(kw):
			return true
		}
	}
	return false
}
