package oracle

import (
	"fmt"
	"strings"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// drop judges ALTER TABLE ... DROP.
func (l *linter) drop(s *stream, table string) {
	switch {
	case s.accept("UNUSED", "COLUMNS"), s.accept("COLUMNS", "CONTINUE"):
		l.dropUnused(s, table)
	case s.peek(0) == "PARTITION" || s.peek(0) == "SUBPARTITION":
		l.dataLoss("ban-drop-partition", fmt.Sprintf("dropping a partition of %s deletes its rows", table), table, l.sql())
	case s.peek(0) == "CONSTRAINT" || s.peek(0) == "PRIMARY" || s.peek(0) == "UNIQUE":
		l.classify(lint.ClassMetadata)
	case s.accept("COLUMN"):
		l.dropColumns(table, []string{s.name()})
	case s.peek(0) == "(":
		var cols []string
		for _, g := range s.group() {
			cols = append(cols, join(g))
		}
		l.dropColumns(table, cols)
	}
}

// dropColumns judges DROP COLUMN: it deletes the data and rewrites every
// block of the table under an exclusive lock. SET UNUSED removes the
// column from the catalog at once (ONLINE from 12.1); DROP UNUSED COLUMNS
// reclaims the space later, in a quiet window.
func (l *linter) dropColumns(table string, cols []string) {
	list := strings.Join(cols, ", ")
	online := ""
	if l.target.AtLeast(12, 1, 0) {
		online = " ONLINE"
	}
	unused := fmt.Sprintf("ALTER TABLE %s SET UNUSED (%s)%s;\n-- later, in a quiet window: ALTER TABLE %s DROP UNUSED COLUMNS CHECKPOINT 10000;", table, list, online, table)
	l.finding(lint.Finding{Rule: "ban-drop-column", Severity: lint.Error, Class: lint.ClassDataLoss, Table: table,
		Message: fmt.Sprintf("dropping %s from %s deletes its data for good and rewrites every block of the table while DML waits; "+
			"SET UNUSED is catalog-only, and DROP UNUSED COLUMNS can reclaim the space later", list, table),
		Effect:  lint.Effect{Lock: "TM exclusive (X)", Duration: "until every block is rewritten", Work: lint.WorkDelete},
		Rewrite: acknowledge("ban-drop-column", unused)})
}

// setUnused judges SET UNUSED: catalog-only, but the column's data is
// gone for good.
func (l *linter) setUnused(s *stream, table string) {
	s.accept("COLUMN")
	l.finding(lint.Finding{Rule: "ban-drop-column", Severity: lint.Error, Class: lint.ClassDataLoss, Table: table,
		Message: fmt.Sprintf("SET UNUSED removes a column of %s for good (it cannot be set used again)", table),
		Effect:  lint.Effect{Lock: "TM exclusive (X)", Duration: "brief (none with ONLINE)", Work: lint.WorkDelete},
		Rewrite: acknowledge("ban-drop-column", l.sql())})
}

// dropUnused judges DROP UNUSED COLUMNS, which rewrites every block; a
// CHECKPOINT bounds the undo it keeps.
func (l *linter) dropUnused(s *stream, table string) {
	stmt := l.sql()
	if !hasWord(s.rest(), "CHECKPOINT") {
		stmt = strings.TrimSuffix(stmt, ";") + " CHECKPOINT 10000;"
	}
	l.finding(lint.Finding{Rule: "oracle-drop-unused-columns", Severity: lint.Warning, Class: lint.ClassRewrite, Table: table, SizeDependent: true,
		Message: fmt.Sprintf("DROP UNUSED COLUMNS rewrites every block of %s while DML on it waits; run it in a quiet window, with CHECKPOINT to bound its undo", table),
		Effect:  lint.Effect{Lock: "TM exclusive (X)", Duration: "until every block is rewritten", Work: lint.WorkRewrite},
		Rewrite: "-- run in a quiet window\n-- " + lint.IgnoreDirective + " oracle-drop-unused-columns scheduled in a quiet window\n" + stmt})
}

// dropTable judges DROP TABLE; a table the script creates may go.
func (l *linter) dropTable(s *stream) {
	table := s.name()
	l.object(lint.ObjectTable, table, "", lint.ActionDrop)
	if l.created[fold(table)] {
		l.classify(lint.ClassAdditive)
		return
	}
	msg := fmt.Sprintf("DROP TABLE removes %s and its data", table)
	if !hasWord(s.rest(), "PURGE") {
		msg += " (it stays in the recycle bin, where FLASHBACK TABLE can restore it, until space is needed)"
	}
	l.dataLoss("ban-drop-table", msg, table, l.sql())
}

// truncate judges TRUNCATE TABLE.
func (l *linter) truncate(s *stream) {
	table := s.name()
	l.object(lint.ObjectTable, table, "", lint.ActionWrite)
	if l.created[fold(table)] {
		l.classify(lint.ClassAdditive)
		return
	}
	l.dataLoss("ban-truncate", fmt.Sprintf("TRUNCATE deletes every row of %s, and cannot be rolled back", table), table, l.sql())
}

// renameTable judges a table rename: every caller using the old name
// breaks and dependent views and PL/SQL become invalid. A synonym with
// the old name keeps the callers working.
func (l *linter) renameTable(old, renamed string) {
	if old == "" || renamed == "" {
		return
	}
	l.object(lint.ObjectTable, old, "", lint.ActionAlter)
	syn := fmt.Sprintf("CREATE OR REPLACE SYNONYM %s FOR %s;", old, qualify(old, renamed))
	l.finding(lint.Finding{Rule: "renaming-table", Severity: lint.Warning, Class: lint.ClassRename, Table: old,
		Message: fmt.Sprintf("renaming %s breaks every statement that names it and invalidates the views and PL/SQL that depend on it", old),
		Effect:  lint.Effect{Lock: "TM exclusive (X)", Duration: "brief", Work: lint.WorkNone},
		Rewrite: "-- " + lint.IgnoreDirective + " renaming-table callers keep the old name through a synonym\n" + l.sql() + "\n" + syn})
}

// renameColumn judges a column rename.
func (l *linter) renameColumn(table string, s *stream) {
	col := s.name()
	l.finding(lint.Finding{Rule: "renaming-column", Severity: lint.Warning, Class: lint.ClassRename, Table: table,
		Message: fmt.Sprintf("renaming %s.%s breaks every statement that names the column and invalidates dependent views and PL/SQL", table, col),
		Effect:  lint.Effect{Lock: "TM exclusive (X)", Duration: "brief", Work: lint.WorkNone},
		Rewrite: "-- first ship a release that no longer names the old column (or reads it through a view)\n-- " +
			lint.IgnoreDirective + " renaming-column no release uses the old name\n" + l.sql()})
}

// dataLoss records an error for a statement that destroys data; its
// rewrite is the acknowledged form.
func (l *linter) dataLoss(rule, msg, table, sql string) {
	l.finding(lint.Finding{Rule: rule, Severity: lint.Error, Class: lint.ClassDataLoss, Message: msg, Table: table,
		Effect:  lint.Effect{Lock: "TM exclusive (X)", Duration: "brief", Work: lint.WorkDelete},
		Rewrite: acknowledge(rule, sql)})
}

// acknowledge is sql preceded by the advice and the ignore comment that
// records the decision.
func acknowledge(rule, sql string) string {
	return "-- first ship a release that no longer reads or writes it, and keep a backup\n-- " +
		lint.IgnoreDirective + " " + rule + " data no longer used by any release; backup taken\n" + sql
}
