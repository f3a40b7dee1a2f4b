package oracle

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// typeChange judges MODIFY of a column's type. Widening a VARCHAR2,
// NVARCHAR2 or RAW, or raising a NUMBER's precision at the same scale,
// changes only the catalog; any other change rewrites every row under an
// exclusive lock, or fails (ORA-01439) when the column holds data. With a
// live catalog that knows the column's type the widenings are let
// through.
func (l *linter) typeChange(table, col string, newType []tok) {
	to := join(newType)
	if from, ok := l.columnType(table, col); ok && widens(from, to) {
		l.classify(lint.ClassMetadata)
		return
	}
	l.finding(lint.Finding{Rule: "oracle-column-type-change", Severity: lint.Warning, Class: lint.ClassTypeChange, Table: table, SizeDependent: true,
		Message: fmt.Sprintf("changing the type of %s.%s to %s rewrites every row under an exclusive lock, or fails with ORA-01439 when the column holds data, "+
			"unless it only widens a VARCHAR2, NVARCHAR2 or RAW or raises a NUMBER's precision", table, col, to),
		Effect: lint.Effect{Lock: "TM exclusive (X)", Duration: "until every row is rewritten", Work: lint.WorkRewrite},
		Rewrite: fmt.Sprintf("-- add the new column, backfill it in batches, switch the callers, then drop the old one:\n"+
			"-- ALTER TABLE %s ADD (%s_new %s); ... or copy the table online with DBMS_REDEFINITION", table, strings.Trim(col, `"`), to)})
}

// columnType asks the catalog for a column's current type.
func (l *linter) columnType(table, col string) (string, bool) {
	if l.catalog == nil {
		return "", false
	}
	schema, name := lint.SplitName(table)
	info, ok := l.catalog.Table(schema, name)
	if !ok {
		return "", false
	}
	for _, k := range []string{col, strings.ToUpper(col), strings.ToLower(col), strings.Trim(col, `"`)} {
		if t, ok := info.Columns[k]; ok {
			return t, true
		}
	}
	return "", false
}

// sized reads "NAME(n[, m]) [BYTE|CHAR]".
var sized = regexp.MustCompile(`^\s*(\w+)\s*\(\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?(?:BYTE|CHAR)?\s*\)\s*$`)

// widens reports whether changing a column from type from to type to
// only changes the catalog.
func widens(from, to string) bool {
	f, t := sized.FindStringSubmatch(strings.ToUpper(from)), sized.FindStringSubmatch(strings.ToUpper(to))
	if f == nil || t == nil || f[1] != t[1] {
		return false
	}
	fn, _ := strconv.Atoi(f[2])
	tn, _ := strconv.Atoi(t[2])
	switch f[1] {
	case "VARCHAR2", "NVARCHAR2", "VARCHAR", "RAW":
		return tn >= fn
	case "NUMBER":
		return tn >= fn && f[3] == t[3]
	}
	return false
}
