package sqlserver

import (
	"fmt"

	"github.com/hotswap-db/hotswap/internal/lint"
	"github.com/hotswap-db/hotswap/internal/tsql"
)

// createTable records a table the script creates: what the script does to
// it afterwards touches no application data.
func (l *linter) createTable(cmd []tsql.Token) {
	name, _ := tableAfter(cmd, 2)
	l.created[fold(name)] = true
	l.objects = append(l.objects, lint.Object{Kind: lint.ObjectTable, Name: name, Action: lint.ActionCreate, Statement: l.cur + 1})
	l.classify(lint.ClassAdditive)
}

// dropTable flags each dropped table the script did not create.
func (l *linter) dropTable(cmd []tsql.Token) {
	for _, name := range tsql.Targets(cmd) {
		if l.isNew(name) {
			delete(l.created, fold(name))
			continue
		}
		l.objects = append(l.objects, lint.Object{Kind: lint.ObjectTable, Name: name, Action: lint.ActionDrop, Statement: l.cur + 1,
			Optional: tsql.HasWord(cmd, "EXISTS")})
		l.dataLoss("ban-drop-table", fmt.Sprintf("DROP TABLE %s deletes the table and all its rows", name), name, cmd)
		return
	}
	l.classify(lint.ClassAdditive)
}

// truncate flags TRUNCATE TABLE of a table the script did not create.
func (l *linter) truncate(cmd []tsql.Token) {
	for _, name := range tsql.Targets(cmd) {
		if !l.isNew(name) {
			l.objects = append(l.objects, lint.Object{Kind: lint.ObjectTable, Name: name, Action: lint.ActionWrite, Statement: l.cur + 1})
			l.dataLoss("ban-truncate", fmt.Sprintf("TRUNCATE TABLE deletes every row of %s", name), name, cmd)
			return
		}
	}
	l.classify(lint.ClassAdditive)
}

// exec judges the stored procedures that change the schema: sp_rename.
func (l *linter) exec(cmd []tsql.Token) {
	targets := tsql.Targets(cmd)
	if len(targets) == 0 {
		l.classify(lint.ClassAdditive)
		return
	}
	table := targets[0]
	if l.isNew(table) {
		l.classify(lint.ClassAdditive)
		return
	}
	rule, what := "renaming-table", "table "+table
	for _, t := range cmd {
		if t.Kind == tsql.String && (tsql.StringValue(t) == "COLUMN" || tsql.StringValue(t) == "column") {
			rule, what = "renaming-column", "a column of "+table
		}
	}
	l.objects = append(l.objects, lint.Object{Kind: lint.ObjectTable, Name: table, Action: lint.ActionAlter, Statement: l.cur + 1})
	l.finding(lint.Finding{Rule: rule, Severity: lint.Warning, Class: lint.ClassRename, Table: table,
		Message: fmt.Sprintf("sp_rename of %s breaks every query, view, procedure and release that still uses the old name "+
			"(SQL Server warns that renaming can break scripts and stored procedures)", what),
		Effect: lint.Effect{Lock: "Sch-M (schema modification)", Duration: "brief", Work: lint.WorkNone},
		Rewrite: "-- expand/contract: add the new name, ship releases that use it, then rename or drop the old one\n-- " +
			lint.IgnoreDirective + " " + rule + " every release uses the new name\n" + l.text(cmd) + ";"})
}

// indexBuild judges CREATE INDEX, ALTER INDEX ... REBUILD and ALTER TABLE
// ... REBUILD: without ONLINE = ON the table is locked for the whole
// build.
func (l *linter) indexBuild(cmd []tsql.Token) {
	targets := tsql.Targets(cmd)
	table := ""
	if len(targets) > 0 {
		table = targets[0]
	}
	if cmd[0].Is("CREATE") {
		name, _, _ := tsql.ObjectName(cmd, indexNameAt(cmd))
		l.objects = append(l.objects, lint.Object{Kind: lint.ObjectIndex, Name: name, Table: table, Action: lint.ActionCreate,
			Statement: l.cur + 1, Unique: tsql.HasWord(cmd, "UNIQUE")})
	}
	switch {
	case l.isNew(table) || hasOption(cmd, "ONLINE", "ON"):
		l.classify(lint.ClassAdditive)
		return
	}
	f := lint.Finding{Rule: "sqlserver-index-not-online", Severity: lint.Warning, Class: lint.ClassBlocking, Table: table, SizeDependent: true,
		Message: fmt.Sprintf("%s without ONLINE = ON locks %s for the whole build: a shared lock that blocks writes "+
			"(a clustered index takes Sch-M, blocking reads too); ONLINE = ON needs Enterprise, Developer or Azure SQL, "+
			"and on other editions the agent refuses the offline build unless the script has the line -- hotswap:allow-offline", buildKind(cmd), table),
		Effect: lint.Effect{Lock: "S (writes blocked), Sch-M for a clustered index", Duration: "until the build ends", Work: lint.WorkBuild}}
	f.Rewrite = l.onlineRewrite(cmd)
	l.finding(f)
}

// indexNameAt is where the index name of a CREATE ... INDEX stands.
func indexNameAt(cmd []tsql.Token) int {
	for i, t := range cmd {
		if t.Is("INDEX") {
			return i + 1
		}
	}
	return len(cmd)
}

// buildKind names the build for messages.
func buildKind(cmd []tsql.Token) string {
	if cmd[0].Is("CREATE") {
		return "CREATE INDEX"
	}
	return "ALTER " + cmd[1].Upper() + " ... REBUILD"
}

// onlineRewrite is cmd with ONLINE = ON: OFF turned ON, or the option
// added; empty when the index kind has no online form here.
func (l *linter) onlineRewrite(cmd []tsql.Token) string {
	start, last := cmd[0].Offset, cmd[len(cmd)-1]
	end := last.Offset + len(last.Text)
	for i := 0; i+2 < len(cmd); i++ {
		if cmd[i].Is("ONLINE") && cmd[i+1].Text == "=" && cmd[i+2].Is("OFF") {
			off := cmd[i+2]
			return l.script[start:off.Offset] + "ON" + l.script[off.Offset+len(off.Text):end] + ";"
		}
	}
	ins, ok := tsql.OnlineInsertion(cmd)
	if !ok {
		return ""
	}
	return tsql.ApplyInsertions(l.script, start, end, []tsql.Insertion{ins}) + ";"
}

// hasOption reports whether cmd sets option = value.
func hasOption(cmd []tsql.Token, option, value string) bool {
	for i := 0; i+2 < len(cmd); i++ {
		if cmd[i].Is(option) && cmd[i+1].Text == "=" && cmd[i+2].Is(value) {
			return true
		}
	}
	return false
}

// objectsOf records the tables of cmd with action.
func (l *linter) objectsOf(cmd []tsql.Token, action lint.Action) {
	for _, t := range tsql.Targets(cmd) {
		l.objects = append(l.objects, lint.Object{Kind: lint.ObjectTable, Name: t, Action: action, Statement: l.cur + 1})
	}
}
