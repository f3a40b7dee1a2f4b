package oracle

import (
	"regexp"
	"strings"

	"github.com/hotswap-db/hotswap/internal/plsql"
)

// AllowOfflineDirective, on a line of its own in a script, lets a CREATE
// INDEX or ALTER INDEX ... REBUILD run as written (blocking DML on the
// table for the whole build) when the server cannot build online
// (ORA-00439 on Standard Edition): without it such a statement is refused.
const AllowOfflineDirective = "-- hotswap:allow-offline"

// table is a schema-qualified table a statement locks, as the catalog
// spells it (unquoted names upper-cased).
type table struct{ schema, name string }

// String quotes the table for messages.
func (t table) String() string { return `"` + t.schema + `"."` + t.name + `"` }

// statement is one statement of a script.
type statement struct {
	index int
	sql   string
	kind  plsql.Kind
	// online is the statement with ONLINE added (an index build or
	// rebuild written without it); empty when it is to run as written.
	online string
	// targets are the tables whose DML lock it takes.
	targets []table
	// drops says it drops or removes something, so "does not exist" means
	// its effect is already there.
	drops bool
}

// scriptPlan is a split script.
type scriptPlan struct {
	stmts        []statement
	allowOffline bool
}

// planScript splits script the way SQL*Plus does (package plsql) and
// plans each statement; schema qualifies unqualified tables.
func planScript(script, schema string) (scriptPlan, error) {
	sc, err := plsql.Split(script)
	if err != nil {
		return scriptPlan{}, &statementError{SQL: firstWords(script), DB: dbFailure("the script does not parse: "+err.Error(), "")}
	}
	p := scriptPlan{allowOffline: hasDirective(script)}
	for i, st := range sc.Database() {
		s := statement{index: i, sql: st.Text, kind: st.Kind}
		if st.Kind == plsql.SQL {
			s.targets = targetsOf(st.Text, schema)
			s.online = onlineForm(st.Text)
			s.drops = dropStatement.MatchString(st.Text)
		}
		p.stmts = append(p.stmts, s)
	}
	return p, nil
}

// hasDirective reports whether the script allows offline index builds.
func hasDirective(script string) bool {
	for _, line := range strings.Split(script, "\n") {
		if strings.EqualFold(strings.TrimSpace(line), AllowOfflineDirective) {
			return true
		}
	}
	return false
}

// name matches a possibly quoted, possibly qualified name.
const name = `("[^"]+"|[A-Za-z][\w$#]*)(?:\s*\.\s*("[^"]+"|[A-Za-z][\w$#]*))?`

// The statements whose tables are known from their first words.
var (
	onTable       = regexp.MustCompile(`(?is)^\s*(?:ALTER|DROP|TRUNCATE|LOCK|FLASHBACK)\s+TABLE\s+` + name)
	onIndexTable  = regexp.MustCompile(`(?is)^\s*CREATE\s+(?:UNIQUE\s+|BITMAP\s+)?INDEX\s+` + name + `\s+ON\s+` + name)
	onComment     = regexp.MustCompile(`(?is)^\s*COMMENT\s+ON\s+TABLE\s+` + name)
	indexBuild    = regexp.MustCompile(`(?is)^\s*(CREATE\s+(?:UNIQUE\s+|BITMAP\s+)?INDEX\s|ALTER\s+INDEX\s.*\sREBUILD\b)`)
	onlineWord    = regexp.MustCompile(`(?i)\bONLINE\b`)
	dropStatement = regexp.MustCompile(`(?is)^\s*(DROP\s|ALTER\s+TABLE\s.*\s(DROP|SET\s+UNUSED)\b)`)
)

// targetsOf lists the tables a SQL statement takes a DML lock on.
func targetsOf(sql, schema string) []table {
	if m := onIndexTable.FindStringSubmatch(sql); m != nil {
		return []table{qualified(m[3], m[4], schema)}
	}
	for _, re := range []*regexp.Regexp{onTable, onComment} {
		if m := re.FindStringSubmatch(sql); m != nil {
			return []table{qualified(m[1], m[2], schema)}
		}
	}
	return nil
}

// qualified builds a table from a name's one or two parts.
func qualified(first, second, schema string) table {
	if second == "" {
		return table{schema: schema, name: catalogName(first)}
	}
	return table{schema: catalogName(first), name: catalogName(second)}
}

// catalogName spells a name as the catalog does: a quoted name as it is,
// an unquoted one in upper case.
func catalogName(n string) string {
	if strings.HasPrefix(n, `"`) {
		return strings.Trim(n, `"`)
	}
	return strings.ToUpper(n)
}

// onlineForm is an index build or rebuild with ONLINE added, or "" when
// the statement is not one or already says ONLINE. ONLINE may close the
// statement: it is one of the index's attributes, written in any order.
func onlineForm(sql string) string {
	if !indexBuild.MatchString(sql) || onlineWord.MatchString(sql) {
		return ""
	}
	return strings.TrimSpace(sql) + " ONLINE"
}

// firstWords shortens a script for messages.
func firstWords(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
