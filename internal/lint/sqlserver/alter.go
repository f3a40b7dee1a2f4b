package sqlserver

import (
	"fmt"
	"strings"

	"github.com/hotswap-db/hotswap/internal/lint"
	"github.com/hotswap-db/hotswap/internal/tsql"
)

// alterState is one ALTER TABLE being judged.
type alterState struct {
	cmd     []tsql.Token
	table   string
	nocheck bool // WITH NOCHECK before the action
	action  int  // index of the action keyword
	nameEnd int  // index just past the table's name
}

// alterTable judges an ALTER TABLE by its action.
func (l *linter) alterTable(cmd []tsql.Token) {
	name, i := tableAfter(cmd, 2)
	st := &alterState{cmd: cmd, table: name, action: i, nameEnd: i}
	if i+1 < len(cmd) && cmd[i].Is("WITH") && (cmd[i+1].Is("CHECK") || cmd[i+1].Is("NOCHECK")) {
		st.nocheck, st.action = cmd[i+1].Is("NOCHECK"), i+2
	}
	l.objects = append(l.objects, lint.Object{Kind: lint.ObjectTable, Name: name, Action: lint.ActionAlter, Statement: l.cur + 1})
	if st.action >= len(cmd) {
		l.classify(lint.ClassAdditive)
		return
	}
	if l.isNew(name) {
		l.classify(lint.ClassAdditive)
		return
	}
	switch act := cmd[st.action]; {
	case act.Is("ADD"):
		for _, item := range items(cmd[st.action+1:]) {
			l.addItem(st, item)
		}
	case act.Is("ALTER") && st.action+1 < len(cmd) && cmd[st.action+1].Is("COLUMN"):
		l.alterColumn(st, cmd[st.action+2:])
	case act.Is("DROP"):
		l.drop(st, cmd[st.action+1:])
	case act.Is("REBUILD"):
		l.indexBuild(cmd)
	default:
		l.classify(lint.ClassMetadata)
	}
}

// items cuts an ADD list at its top-level commas.
func items(toks []tsql.Token) [][]tsql.Token {
	var out [][]tsql.Token
	depth, begin := 0, 0
	for i, t := range toks {
		switch {
		case t.Text == "(":
			depth++
		case t.Text == ")":
			depth--
		case t.Text == "," && depth == 0:
			out = append(out, toks[begin:i])
			begin = i + 1
		}
	}
	if begin < len(toks) {
		out = append(out, toks[begin:])
	}
	return out
}

// constraintStarts are the words that open a table constraint in ADD.
var constraintStarts = []string{"CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "DEFAULT", "INDEX"}

// addItem judges one item of ADD: a column or a constraint.
func (l *linter) addItem(st *alterState, item []tsql.Token) {
	if len(item) == 0 {
		return
	}
	for _, w := range constraintStarts {
		if item[0].Is(w) {
			l.addConstraint(st, item)
			return
		}
	}
	l.addColumn(st, item)
}

// addColumn: a NOT NULL column needs a default (error 4901 on a table with
// rows); a default WITH VALUES fills every existing row; IDENTITY fills
// every row too.
func (l *linter) addColumn(st *alterState, item []tsql.Token) {
	col := item[0].Name()
	notNull := notNullAt(item) >= 0
	hasDefault := tsql.HasWord(item, "DEFAULT")
	switch {
	case notNull && !hasDefault && !tsql.HasWord(item, "IDENTITY") && !(len(item) > 1 && item[1].Is("AS")):
		last := item[len(item)-1]
		ins := tsql.Insertion{Offset: last.Offset + len(last.Text), Text: fmt.Sprintf(" CONSTRAINT %s DEFAULT %s",
			constraintName("df", st.table, col), zeroValue(item))}
		l.finding(lint.Finding{Rule: "sqlserver-add-not-null-without-default", Severity: lint.Error, Class: lint.ClassFailure, Table: st.table,
			Message: fmt.Sprintf("adding NOT NULL column %s without a default fails on a table with rows (error 4901)", col),
			Effect:  lint.Effect{Lock: "Sch-M (schema modification)", Duration: "brief", Work: lint.WorkNone},
			Rewrite: l.rewriteWith(st.cmd, ins)})
	case hasDefault && tsql.HasWord(item, "VALUES") && !notNull:
		l.finding(lint.Finding{Rule: "sqlserver-add-default-with-values", Severity: lint.Warning, Class: lint.ClassRewrite, Table: st.table, SizeDependent: true,
			Message: fmt.Sprintf("DEFAULT ... WITH VALUES on nullable column %s writes the default into every existing row of %s "+
				"under a schema modification lock", col, st.table),
			Effect:  lint.Effect{Lock: "Sch-M (schema modification)", Duration: "until every row is written", Work: lint.WorkRewrite},
			Rewrite: "-- new rows get the default; fill the existing ones in batches afterwards\n" + l.without(st.cmd, "WITH", "VALUES")})
	case notNull && hasDefault:
		l.finding(lint.Finding{Rule: "sqlserver-add-not-null-default", Severity: lint.Info, Class: lint.ClassAdditive, Table: st.table,
			Message: fmt.Sprintf("NOT NULL column %s with a constant default is a metadata change on Enterprise, Developer and Azure SQL; "+
				"other editions write the default into every row", col)})
		l.classify(lint.ClassAdditive)
	default:
		l.classify(lint.ClassAdditive)
	}
}

// addConstraint: a foreign key or check WITH CHECK (the default) scans the
// table to validate it; WITH NOCHECK enforces it for new writes only and
// leaves it untrusted. PRIMARY KEY and UNIQUE build an index.
func (l *linter) addConstraint(st *alterState, item []tsql.Token) {
	name := ""
	if item[0].Is("CONSTRAINT") && len(item) > 1 {
		name = item[1].Name()
	}
	switch {
	case tsql.HasWord(item, "PRIMARY") || tsql.HasWord(item, "UNIQUE"):
		if !hasOption(item, "ONLINE", "ON") {
			l.indexConstraint(st)
			return
		}
		l.classify(lint.ClassAdditive)
	case (tsql.HasWord(item, "FOREIGN") || tsql.HasWord(item, "CHECK")) && st.nocheck:
		l.finding(lint.Finding{Rule: "sqlserver-constraint-not-trusted", Severity: lint.Info, Class: lint.ClassConstraint, Table: st.table,
			Message: fmt.Sprintf("constraint %s is enforced for new writes but not trusted: existing rows are not checked and the optimizer "+
				"ignores it until ALTER TABLE %s WITH CHECK CHECK CONSTRAINT %s validates them (a scan, for a quiet hour)", name, st.table, name)})
		l.classify(lint.ClassConstraint)
	case tsql.HasWord(item, "FOREIGN") || tsql.HasWord(item, "CHECK"):
		l.finding(lint.Finding{Rule: "sqlserver-constraint-with-check", Severity: lint.Warning, Class: lint.ClassConstraint, Table: st.table, SizeDependent: true,
			Message: fmt.Sprintf("adding constraint %s WITH CHECK (the default) reads every row of %s to validate it while holding "+
				"a schema modification lock", name, st.table),
			Effect:  lint.Effect{Lock: "Sch-M (schema modification)", Duration: "until every row is checked", Work: lint.WorkScan},
			Rewrite: l.nocheckRewrite(st, name)})
	default:
		l.classify(lint.ClassMetadata)
	}
}

// indexConstraint flags a PRIMARY KEY or UNIQUE constraint built offline.
func (l *linter) indexConstraint(st *alterState) {
	last := st.cmd[len(st.cmd)-1]
	ins := tsql.Insertion{Offset: last.Offset + len(last.Text), Text: " WITH (ONLINE = ON)"}
	l.finding(lint.Finding{Rule: "sqlserver-index-not-online", Severity: lint.Warning, Class: lint.ClassBlocking, Table: st.table, SizeDependent: true,
		Message: fmt.Sprintf("the constraint builds an index on %s without ONLINE = ON, locking the table for the whole build "+
			"(ONLINE = ON needs Enterprise, Developer or Azure SQL)", st.table),
		Effect:  lint.Effect{Lock: "S (writes blocked), Sch-M for a clustered index", Duration: "until the build ends", Work: lint.WorkBuild},
		Rewrite: l.rewriteWith(st.cmd, ins)})
}

// nocheckRewrite adds the constraint WITH NOCHECK, with the later
// validation as a comment.
func (l *linter) nocheckRewrite(st *alterState, name string) string {
	cmd := st.cmd
	start, last := cmd[0].Offset, cmd[len(cmd)-1]
	end := last.Offset + len(last.Text)
	actionAt := cmd[st.action].Offset
	nameLast := cmd[st.nameEnd-1]
	head := l.script[start : nameLast.Offset+len(nameLast.Text)]
	later := ""
	if name != "" {
		later = fmt.Sprintf("\n-- later, in a quiet hour, to make it trusted (a scan): ALTER TABLE %s WITH CHECK CHECK CONSTRAINT %s", st.table, name)
	}
	return "-- enforced for new writes at once, without reading the table" + later + "\n" +
		head + " WITH NOCHECK " + l.script[actionAt:end] + ";"
}

// drop: DROP COLUMN loses data; DROP CONSTRAINT is a catalog change.
func (l *linter) drop(st *alterState, rest []tsql.Token) {
	if len(rest) > 0 && rest[0].Is("COLUMN") {
		cols := []string{}
		for _, it := range items(rest[1:]) {
			if len(it) > 0 && !(len(it) > 1 && it[0].Is("IF") && it[1].Is("EXISTS")) {
				cols = append(cols, it[0].Name())
			} else if len(it) > 2 {
				cols = append(cols, it[2].Name())
			}
		}
		l.dataLoss("ban-drop-column", fmt.Sprintf("DROP COLUMN %s deletes the column's data from %s", strings.Join(cols, ", "), st.table), st.table, st.cmd)
		return
	}
	l.classify(lint.ClassMetadata)
}

// rewriteWith is cmd with ins applied.
func (l *linter) rewriteWith(cmd []tsql.Token, ins tsql.Insertion) string {
	last := cmd[len(cmd)-1]
	return tsql.ApplyInsertions(l.script, cmd[0].Offset, last.Offset+len(last.Text), []tsql.Insertion{ins}) + ";"
}

// without is cmd with the first run of the two words a b cut out.
func (l *linter) without(cmd []tsql.Token, a, b string) string {
	last := cmd[len(cmd)-1]
	end := last.Offset + len(last.Text)
	for i := 0; i+1 < len(cmd); i++ {
		if cmd[i].Is(a) && cmd[i+1].Is(b) {
			cut := cmd[i+1].Offset + len(cmd[i+1].Text)
			return strings.TrimSpace(l.script[cmd[0].Offset:cmd[i].Offset]) + l.script[cut:end] + ";"
		}
	}
	return l.script[cmd[0].Offset:end] + ";"
}

// notNullAt is the index of NOT in a NOT NULL of toks, or -1.
func notNullAt(toks []tsql.Token) int {
	for i := 0; i+1 < len(toks); i++ {
		if toks[i].Is("NOT") && toks[i+1].Is("NULL") {
			return i
		}
	}
	return -1
}

// constraintName is a constraint name for table and column.
func constraintName(prefix, table, col string) string {
	_, name := lint.SplitName(table)
	return strings.NewReplacer(" ", "_", "[", "", "]", "").Replace(fmt.Sprintf("%s_%s_%s", prefix, name, col))
}

// zeroValue is a neutral default for the column's type.
func zeroValue(item []tsql.Token) string {
	if len(item) < 2 {
		return "0"
	}
	switch t := strings.ToLower(item[1].Name()); {
	case strings.Contains(t, "char") || strings.Contains(t, "text") || t == "sysname":
		return "N''"
	case strings.Contains(t, "date") || strings.Contains(t, "time"):
		return "'19000101'"
	case t == "uniqueidentifier":
		return "'00000000-0000-0000-0000-000000000000'"
	case strings.Contains(t, "binary"):
		return "0x"
	}
	return "0"
}
