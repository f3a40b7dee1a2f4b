package sqlserver

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hotswap-db/hotswap/internal/lint"
	"github.com/hotswap-db/hotswap/internal/tsql"
)

// columnType is a column type as written: base name and length.
type columnType struct {
	base   string // lower case: varchar, int, decimal ...
	length int    // -1 for max, 0 when none
	args   string // the parenthesised arguments as written
}

// typePattern reads "nvarchar(50)", "decimal(10, 2)", "varchar(max) NOT NULL".
var typePattern = regexp.MustCompile(`^\s*\[?([A-Za-z_][A-Za-z0-9_]*)\]?\s*(?:\(\s*([^)]*)\))?`)

// parseType reads a type as a catalog prints it or a script writes it.
func parseType(s string) (columnType, bool) {
	m := typePattern.FindStringSubmatch(s)
	if m == nil {
		return columnType{}, false
	}
	t := columnType{base: strings.ToLower(m[1]), args: strings.ReplaceAll(m[2], " ", "")}
	switch first, _, _ := strings.Cut(t.args, ","); {
	case strings.EqualFold(first, "max"):
		t.length = -1
	case first != "":
		t.length, _ = strconv.Atoi(first)
	}
	return t, true
}

// variableLength are the types whose widening is a catalog change.
var variableLength = map[string]bool{"varchar": true, "nvarchar": true, "varbinary": true}

// change is how an ALTER COLUMN changes a column's type.
type change int

const (
	changeUnknown change = iota // the old type is not known
	changeNone                  // same type and length
	changeWiden                 // a variable-length type made longer: catalog only
	changeShrink                // made shorter: every value is checked
	changeType                  // another type: every row is rewritten
)

// compareTypes judges going from old to new.
func compareTypes(old, new columnType) change {
	switch {
	case old.base != new.base:
		return changeType
	case old.args == new.args || strings.EqualFold(old.args, new.args):
		return changeNone
	case variableLength[old.base] && old.length > 0 && (new.length > old.length):
		return changeWiden
	case variableLength[old.base] && (new.length > 0 && (old.length == -1 || new.length < old.length)):
		return changeShrink
	}
	return changeType
}

// alterColumn judges ALTER TABLE ... ALTER COLUMN c type [NULL | NOT NULL],
// with the live catalog's type of the column when there is one.
func (l *linter) alterColumn(st *alterState, rest []tsql.Token) {
	if len(rest) < 2 || rest[1].Is("ADD") || rest[1].Is("DROP") {
		l.classify(lint.ClassMetadata) // ADD/DROP ROWGUIDCOL, PERSISTED, SPARSE, MASKED
		return
	}
	col := rest[0].Name()
	newType, _ := parseType(l.script[rest[1].Offset : rest[len(rest)-1].Offset+len(rest[len(rest)-1].Text)])
	oldText, known := l.columnType(st.table, col)
	oldType, _ := parseType(oldText)
	notNull := notNullAt(rest) >= 0
	oldNullable := !known || !strings.Contains(strings.ToLower(oldText), "not null")
	ch := changeUnknown
	if known {
		ch = compareTypes(oldType, newType)
	}
	switch {
	case ch == changeType || (ch == changeUnknown && !notNull):
		l.typeChange(st, col, newType, known, oldText)
	case ch == changeShrink:
		l.shrink(st, col, oldType, newType)
	case ch == changeWiden || ch == changeNone:
		l.classify(lint.ClassMetadata)
	}
	if notNull && oldNullable {
		l.notNull(st, col)
	}
}

// columnType is the catalog's type of table.col.
func (l *linter) columnType(table, col string) (string, bool) {
	if l.catalog == nil {
		return "", false
	}
	schema, name := lint.SplitName(table)
	info, ok := l.catalog.Table(schema, name)
	if !ok {
		return "", false
	}
	for c, t := range info.Columns {
		if strings.EqualFold(c, col) {
			return t, true
		}
	}
	return "", false
}

// typeChange flags a type change, which rewrites every row.
func (l *linter) typeChange(st *alterState, col string, newType columnType, known bool, oldText string) {
	msg := fmt.Sprintf("ALTER COLUMN %s to %s rewrites every row of %s under a schema modification lock", col, newType.text(), st.table)
	if known {
		msg += fmt.Sprintf(" (from %s)", oldText)
	} else {
		msg += " unless it only lengthens a varchar, nvarchar or varbinary (the live catalog was not consulted)"
	}
	l.finding(lint.Finding{Rule: "sqlserver-alter-column-type", Severity: lint.Warning, Class: lint.ClassTypeChange, Table: st.table, SizeDependent: true,
		Message: msg,
		Effect:  lint.Effect{Lock: "Sch-M (schema modification)", Duration: "until every row is rewritten", Work: lint.WorkRewrite},
		Rewrite: fmt.Sprintf("-- expand/contract: add the new column, fill it in batches, move readers and writers to it, then drop the old one\n"+
			"ALTER TABLE %s ADD %s %s NULL;", quoteTable(st.table), quote(col+"_new"), newType.text())})
}

// shrink flags a shorter length, which reads every value.
func (l *linter) shrink(st *alterState, col string, oldType, newType columnType) {
	fn := "LEN"
	if strings.Contains(newType.base, "binary") {
		fn = "DATALENGTH"
	}
	l.finding(lint.Finding{Rule: "sqlserver-alter-column-shrink", Severity: lint.Warning, Class: lint.ClassBlocking, Table: st.table, SizeDependent: true,
		Message: fmt.Sprintf("shortening %s from %s to %s reads every row of %s to check the values fit, under a schema modification lock",
			col, oldType.text(), newType.text(), st.table),
		Effect: lint.Effect{Lock: "Sch-M (schema modification)", Duration: "until every row is checked", Work: lint.WorkScan},
		Rewrite: fmt.Sprintf("-- cap new values at once without reading the table; shorten the column in a quiet hour once old values fit\n"+
			"ALTER TABLE %s WITH NOCHECK ADD CONSTRAINT %s CHECK (%s(%s) <= %d);", quoteTable(st.table), constraintName("ck", st.table, col+"_length"),
			fn, quote(col), newType.length)})
}

// notNull flags NULL to NOT NULL, which reads every row.
func (l *linter) notNull(st *alterState, col string) {
	l.finding(lint.Finding{Rule: "sqlserver-alter-column-not-null", Severity: lint.Warning, Class: lint.ClassConstraint, Table: st.table, SizeDependent: true,
		Message: fmt.Sprintf("making %s NOT NULL reads every row of %s to check it, under a schema modification lock", col, st.table),
		Effect:  lint.Effect{Lock: "Sch-M (schema modification)", Duration: "until every row is checked", Work: lint.WorkScan},
		Rewrite: fmt.Sprintf("-- refuse new NULLs at once without reading the table (an untrusted check)\n"+
			"ALTER TABLE %s WITH NOCHECK ADD CONSTRAINT %s CHECK (%s IS NOT NULL);", quoteTable(st.table), constraintName("ck", st.table, col+"_not_null"), quote(col))})
}

// text writes the type back.
func (t columnType) text() string {
	if t.args == "" {
		return t.base
	}
	return t.base + "(" + strings.ReplaceAll(t.args, ",", ", ") + ")"
}

// quoteTable brackets each part of a schema.table name that needs it.
func quoteTable(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = quote(p)
	}
	return strings.Join(parts, ".")
}

// quote brackets a name when it needs it.
func quote(name string) string {
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "[" + strings.ReplaceAll(name, "]", "]]") + "]"
		}
	}
	return name
}
