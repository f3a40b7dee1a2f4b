package oracle

import (
	"fmt"
	"strings"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// alterTable judges ALTER TABLE by its first clause. A table the script
// creates is empty: nothing on it blocks anyone.
func (l *linter) alterTable(s *stream) {
	table := s.name()
	l.object(lint.ObjectTable, table, "", lint.ActionAlter)
	l.classify(lint.ClassAdditive)
	if l.created[fold(table)] {
		if s.accept("RENAME", "TO") {
			l.created[fold(s.name())] = true
		}
		return
	}
	switch {
	case s.accept("ADD"):
		l.add(s, table)
		l.moreClauses(s)
	case s.accept("MODIFY"):
		l.modify(s, table)
		l.moreClauses(s)
	case s.accept("DROP"):
		l.drop(s, table)
	case s.accept("SET", "UNUSED"):
		l.setUnused(s, table)
	case s.accept("RENAME", "TO"):
		l.renameTable(table, s.name())
	case s.accept("RENAME", "COLUMN"):
		l.renameColumn(table, s)
	case s.accept("MOVE"):
		l.move(s, table)
	case s.accept("TRUNCATE"):
		l.dataLoss("ban-truncate", fmt.Sprintf("ALTER TABLE ... TRUNCATE %s deletes its rows of %s", strings.ToLower(s.peek(0)), table), table, l.sql())
	}
}

// moreClauses notes an ALTER TABLE that goes on after its first ADD or
// MODIFY list: only the first clause is judged.
func (l *linter) moreClauses(s *stream) {
	switch s.peek(0) {
	case "ADD", "MODIFY", "DROP", "RENAME", "MOVE", "SET":
		l.finding(lint.Finding{Rule: "oracle-several-clauses", Severity: lint.Info, Class: lint.ClassAdditive,
			Message: fmt.Sprintf("only the first clause of this ALTER TABLE was checked; write the %s clause as an ALTER TABLE of its own to have it checked", s.peek(0))})
	}
}

// constraintWords start an out-of-line constraint.
var constraintWords = map[string]bool{"CONSTRAINT": true, "PRIMARY": true, "FOREIGN": true, "UNIQUE": true, "CHECK": true}

// elements are the items of an ADD or MODIFY clause: its parenthesised
// list, or the rest of the statement as one item.
func elements(s *stream) [][]tok {
	if s.peek(0) == "(" {
		return s.group()
	}
	return [][]tok{s.rest()}
}

// add judges ALTER TABLE ... ADD: new columns and constraints.
func (l *linter) add(s *stream, table string) {
	if constraintWords[s.peek(0)] {
		l.constraint(table, s.rest())
		return
	}
	if s.peek(0) == "PARTITION" || s.peek(0) == "SUBPARTITION" {
		return
	}
	els := elements(s)
	for _, el := range els {
		if len(el) == 0 {
			continue
		}
		if constraintWords[el[0].up] {
			l.constraint(table, el)
			continue
		}
		l.addColumn(table, el)
	}
}

// addColumn judges one new column. NOT NULL without a default fails with
// ORA-01758 on a table with rows; with a default it is a catalog change
// (11g on, for NOT NULL; 12c on, for nullable columns).
func (l *linter) addColumn(table string, el []tok) {
	col := el[0].text
	notNull, hasDefault := hasWords(el, "NOT", "NULL"), hasWord(el, "DEFAULT")
	switch {
	case notNull && !hasDefault && l.emptyTable(table):
		l.classify(lint.ClassAdditive)
	case notNull && !hasDefault:
		plain := join(withoutNotNull(el))
		nn := constraintName(table, col, "nn")
		l.finding(lint.Finding{Rule: "oracle-add-not-null-without-default", Severity: lint.Error, Class: lint.ClassFailure, Table: table,
			Message: fmt.Sprintf("adding %s NOT NULL without a DEFAULT fails with ORA-01758 when %s has rows; "+
				"give it a DEFAULT (a catalog-only change), or add it nullable, backfill it and validate the constraint", col, table),
			Effect: lint.Effect{Lock: "TM exclusive (X)", Duration: "brief", Work: lint.WorkNone},
			Rewrite: fmt.Sprintf("ALTER TABLE %s ADD (%s);\n-- backfill %s in batches, then:\n%s", table, plain, col,
				novalidate(table, nn, fmt.Sprintf("CHECK (%s IS NOT NULL)", col)))})
	case hasDefault && !notNull && !l.target.AtLeast(12, 1, 0):
		l.finding(lint.Finding{Rule: "oracle-add-default-rewrite", Severity: lint.Warning, Class: lint.ClassRewrite, Table: table, SizeDependent: true,
			Message: fmt.Sprintf("before 12c, adding the nullable column %s with a DEFAULT writes the default into every row of %s under an exclusive lock", col, table),
			Effect:  lint.Effect{Lock: "TM exclusive (X)", Duration: "until every row is updated", Work: lint.WorkRewrite},
			Rewrite: fmt.Sprintf("ALTER TABLE %s ADD (%s);\nALTER TABLE %s MODIFY (%s DEFAULT %s);\n-- then backfill the existing rows in batches",
				table, join(beforeWord(el, "DEFAULT")), table, col, join(afterWord(el, "DEFAULT")))})
	default:
		l.classify(lint.ClassAdditive)
	}
}

// withoutNotNull drops NOT NULL (and a CONSTRAINT name right before it)
// from a column definition.
func withoutNotNull(el []tok) []tok {
	var out []tok
	for i := 0; i < len(el); i++ {
		if el[i].up == "CONSTRAINT" && i+3 < len(el) && el[i+2].up == "NOT" && el[i+3].up == "NULL" {
			i += 3
			continue
		}
		if el[i].up == "NOT" && i+1 < len(el) && el[i+1].up == "NULL" {
			i++
			continue
		}
		out = append(out, el[i])
	}
	return out
}

// afterWord returns the tokens after w up to the next keyword that ends a
// column's default (NOT, NULL, CONSTRAINT, CHECK).
func afterWord(el []tok, w string) []tok {
	for i, t := range el {
		if t.up != w {
			continue
		}
		j := i + 1
		for j < len(el) && !(el[j].kind == tokWord && (el[j].up == "NOT" || el[j].up == "NULL" || el[j].up == "CONSTRAINT" || el[j].up == "CHECK")) {
			j++
		}
		return el[i+1 : j]
	}
	return nil
}

// constraint judges an out-of-line constraint added to a table. Added as
// ENABLE VALIDATE (the default), it reads every row under a lock that
// blocks DML; ENABLE NOVALIDATE then VALIDATE checks the rows without
// blocking. A primary key or unique constraint also builds its index,
// offline unless one already exists.
func (l *linter) constraint(table string, el []tok) {
	l.classify(lint.ClassConstraint)
	if hasWord(el, "NOVALIDATE") || hasWord(el, "DISABLE") {
		return
	}
	name, body := splitConstraint(el)
	kind := "ck"
	switch body[0].up {
	case "FOREIGN":
		kind = "fk"
	case "PRIMARY":
		kind = "pk"
	case "UNIQUE":
		kind = "uk"
	}
	if name == "" {
		name = constraintName(table, "", kind)
	}
	if (kind == "pk" || kind == "uk") && !hasWord(body, "USING") {
		l.keyConstraint(table, name, kind, body)
		return
	}
	l.finding(lint.Finding{Rule: "oracle-validating-constraint", Severity: lint.Warning, Class: lint.ClassConstraint, Table: table, SizeDependent: true,
		Message: fmt.Sprintf("adding constraint %s validates every row of %s while DML on it waits; add it ENABLE NOVALIDATE, then VALIDATE it, which does not block DML", name, table),
		Effect:  lint.Effect{Lock: "TM share (S)", Duration: "until every row is checked", Work: lint.WorkScan},
		Rewrite: novalidate(table, name, join(trimEnable(body)))})
}

// keyConstraint judges a primary key or unique constraint without an
// existing index: the index is built offline as part of the statement.
func (l *linter) keyConstraint(table, name, kind string, body []tok) {
	s := &stream{t: body}
	s.accept("PRIMARY", "KEY")
	s.accept("UNIQUE")
	var cols []string
	for _, g := range s.group() {
		cols = append(cols, join(g))
	}
	idx := constraintName(table, "", kind+"_i")
	keyword := "PRIMARY KEY"
	if kind == "uk" {
		keyword = "UNIQUE"
	}
	list := strings.Join(cols, ", ")
	rewrite := fmt.Sprintf("CREATE UNIQUE INDEX %s ON %s (%s) ONLINE;\n%s", qualify(table, idx), table, list,
		novalidate(table, name, fmt.Sprintf("%s (%s) USING INDEX %s", keyword, list, qualify(table, idx))))
	l.finding(lint.Finding{Rule: "oracle-constraint-index-not-online", Severity: lint.Warning, Class: lint.ClassBlocking, Table: table, SizeDependent: true,
		Message: fmt.Sprintf("adding %s %s builds its unique index offline and validates every row: DML on %s waits for both; build the index ONLINE first", keyword, name, table),
		Effect:  lint.Effect{Lock: "TM share (S)", Duration: "until the build and the check end", Work: lint.WorkBuild},
		Rewrite: rewrite})
}

// splitConstraint separates CONSTRAINT name from the constraint's body.
func splitConstraint(el []tok) (name string, body []tok) {
	if len(el) >= 2 && el[0].up == "CONSTRAINT" {
		return el[1].text, el[2:]
	}
	return "", el
}

// trimEnable drops a trailing ENABLE / VALIDATE from a constraint body.
func trimEnable(body []tok) []tok {
	for len(body) > 0 && (body[len(body)-1].up == "ENABLE" || body[len(body)-1].up == "VALIDATE") {
		body = body[:len(body)-1]
	}
	return body
}

// novalidate is the two-statement form of adding a constraint without
// blocking DML: added ENABLE NOVALIDATE (new rows are checked), then
// validated (existing rows are read, DML goes on).
func novalidate(table, name, body string) string {
	return fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s ENABLE NOVALIDATE;\nALTER TABLE %s MODIFY CONSTRAINT %s VALIDATE;", table, name, body, table, name)
}

// constraintName makes a name of at most 30 characters (the limit before
// 12.2) from a table, a column and a suffix.
func constraintName(table, col, suffix string) string {
	_, t := lint.SplitName(strings.ReplaceAll(table, `"`, ""))
	parts := []string{t}
	if col != "" {
		parts = append(parts, strings.Trim(col, `"`))
	}
	base := strings.ToLower(strings.Join(parts, "_"))
	return base[:min(len(base), 29-len(suffix))] + "_" + suffix
}

// qualify puts name in table's schema, as an index must live there.
func qualify(table, name string) string {
	if schema, _ := lint.SplitName(table); schema != "" {
		return schema + "." + name
	}
	return name
}

// modify judges ALTER TABLE ... MODIFY: type changes, NOT NULL, defaults.
func (l *linter) modify(s *stream, table string) {
	switch s.peek(0) {
	case "CONSTRAINT", "PRIMARY", "UNIQUE":
		l.classify(lint.ClassConstraint)
		return
	case "PARTITION", "SUBPARTITION", "DEFAULT", "LOB", "NESTED":
		return
	}
	for _, el := range elements(s) {
		if len(el) == 0 {
			continue
		}
		l.modifyColumn(table, el)
	}
}

// modifyEnds are the words that end a column's type in MODIFY.
var modifyEnds = map[string]bool{"DEFAULT": true, "NULL": true, "NOT": true, "CONSTRAINT": true, "CHECK": true, "ENABLE": true,
	"DISABLE": true, "VISIBLE": true, "INVISIBLE": true, "ENCRYPT": true, "DECRYPT": true, "COLLATE": true, "SUBSTITUTABLE": true}

// modifyColumn judges one MODIFY item.
func (l *linter) modifyColumn(table string, el []tok) {
	col := el[0].text
	j := 1
	for j < len(el) && !(el[j].kind == tokWord && modifyEnds[el[j].up]) {
		j++
	}
	if j > 1 {
		l.typeChange(table, col, el[1:j])
	}
	if hasWords(el[j:], "NOT", "NULL") && !hasWord(el[j:], "NOVALIDATE") {
		nn := constraintName(table, col, "nn")
		l.finding(lint.Finding{Rule: "oracle-modify-not-null", Severity: lint.Warning, Class: lint.ClassConstraint, Table: table, SizeDependent: true,
			Message: fmt.Sprintf("MODIFY %s NOT NULL reads every row of %s while DML on it waits; a CHECK (%s IS NOT NULL) constraint added ENABLE NOVALIDATE, then validated, does not block", col, table, col),
			Effect:  lint.Effect{Lock: "TM exclusive (X)", Duration: "until every row is checked", Work: lint.WorkScan},
			Rewrite: novalidate(table, nn, fmt.Sprintf("CHECK (%s IS NOT NULL)", col))})
		return
	}
	l.classify(lint.ClassMetadata)
}

// renameTarget reads "TO name" of a RENAME statement.
func (l *linter) renameTarget(s *stream) string {
	s.accept("TO")
	return s.name()
}

// move judges ALTER TABLE ... MOVE: without ONLINE it copies the table
// while blocking DML, and leaves its indexes UNUSABLE unless UPDATE
// INDEXES is given. MOVE ONLINE exists from 12.2 (12.1 for a partition).
func (l *linter) move(s *stream, table string) {
	var part string
	if s.peek(0) == "PARTITION" || s.peek(0) == "SUBPARTITION" {
		part = s.peek(0) + " " + s.t[s.i+1].text + " "
		s.i += 2
	}
	rest := s.rest()
	if hasWord(rest, "ONLINE") {
		l.classify(lint.ClassAdditive)
		return
	}
	online := l.target.AtLeast(12, 2, 0) || (part != "" && l.target.AtLeast(12, 1, 0))
	rewrite := fmt.Sprintf("-- no online move before 12.2: copy it online with DBMS_REDEFINITION instead:\n"+
		"-- DBMS_REDEFINITION.START_REDEF_TABLE, COPY_TABLE_DEPENDENTS, FINISH_REDEF_TABLE on %s", table)
	if online {
		rewrite = strings.TrimSpace(fmt.Sprintf("ALTER TABLE %s MOVE %sONLINE %s", table, part, join(rest))) + ";"
	}
	l.finding(lint.Finding{Rule: "oracle-move-not-online", Severity: lint.Warning, Class: lint.ClassRewrite, Table: table, SizeDependent: true,
		Message: fmt.Sprintf("ALTER TABLE %s MOVE without ONLINE copies the table while every insert, update and delete waits, and leaves its indexes UNUSABLE until rebuilt", table),
		Effect:  lint.Effect{Lock: "TM exclusive (X)", Duration: "until the copy ends", Work: lint.WorkRewrite},
		Rewrite: rewrite})
}

// beforeWord returns the tokens before w.
func beforeWord(el []tok, w string) []tok {
	for i, t := range el {
		if t.up == w {
			return el[:i]
		}
	}
	return el
}

// emptyTable reports whether the live catalog says table has no rows.
func (l *linter) emptyTable(table string) bool {
	if l.catalog == nil {
		return false
	}
	schema, name := lint.SplitName(table)
	info, ok := l.catalog.Table(schema, name)
	return ok && info.Rows == 0
}
