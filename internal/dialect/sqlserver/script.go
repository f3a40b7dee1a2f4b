package sqlserver

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hotswap-db/hotswap/internal/tsql"
)

// AllowOfflineDirective, on a line of its own in a script, allows an index
// build or rebuild to run offline on an edition that cannot build indexes
// online (Standard, Express): without it such a statement is refused,
// since an offline build holds a lock that blocks the table's writes (and,
// for a clustered index, its reads) for the whole build.
const AllowOfflineDirective = "-- hotswap:allow-offline"

// unit is what the executor runs, retries and records as one: a whole GO
// batch, or one statement of a batch whose statements stand alone (no
// variables, no control flow, no module, no GO count), so that a stepwise
// script resumes statement by statement as on the other engines.
type unit struct {
	index int    // 0-based, over the whole script
	label string // "statement 3 (batch 2)" or "batch 2", for messages
	sql   string // as written
	// run is what is sent: sql with ONLINE = ON added where the edition
	// supports it and the script did not choose, after the agent's tag.
	run    string
	repeat int
	// transactional is false when a statement of the unit cannot run in
	// a user transaction, or the unit manages its own.
	transactional bool
	// why names the statement that makes the unit non-transactional.
	why     string
	targets []string
	// offline lists the index builds that will run offline; refused
	// unless the script allows it.
	offline []string
	// onlined lists the index builds given ONLINE = ON.
	onlined []string
}

// scriptPlan is a planned script.
type scriptPlan struct {
	units         []unit
	transactional bool
	allowOffline  bool
}

// planScript cuts script into batches, and each batch into units, and
// plans each: whether it may run in a transaction, the tables it locks,
// the index builds to run online.
func planScript(script string, online bool) (scriptPlan, error) {
	s, err := tsql.Split(script)
	if err != nil {
		return scriptPlan{}, &statementError{SQL: firstWords(script), DB: dbFailure("the script does not parse: "+err.Error(), "")}
	}
	if len(s.Batches) == 0 {
		return scriptPlan{}, &statementError{DB: dbFailure("the script holds no statement", "")}
	}
	p := scriptPlan{transactional: true, allowOffline: hasDirective(script, AllowOfflineDirective)}
	created := map[string]bool{}
	for bi, b := range s.Batches {
		pieces := [][]tsql.Statement{b.Statements}
		if standsAlone(b) {
			pieces = pieces[:0]
			for _, st := range b.Statements {
				pieces = append(pieces, []tsql.Statement{st})
			}
		}
		for _, piece := range pieces {
			u := planUnit(len(p.units), script, b, piece, online, created)
			u.label = fmt.Sprintf("batch %d", bi+1)
			if len(pieces) > 1 {
				u.label = fmt.Sprintf("statement %d (batch %d)", u.index+1, bi+1)
			}
			p.transactional = p.transactional && u.transactional
			p.units = append(p.units, u)
		}
	}
	return p, nil
}

// standsAlone reports whether each statement of b may run as a batch of
// its own: b runs once, declares no variable, has no control flow and is
// not a procedure, function, trigger or view.
func standsAlone(b tsql.Batch) bool {
	if b.Repeat != 1 || len(b.Statements) < 2 || tsql.IsModule(b.Tokens) {
		return false
	}
	for _, t := range b.Tokens {
		if (t.Kind == tsql.Var && !strings.HasPrefix(t.Text, "@@")) || t.Is("IF") || t.Is("WHILE") || t.Is("BEGIN") ||
			t.Is("GOTO") || t.Is("RETURN") || t.Is("TRY") {
			return false
		}
	}
	return true
}

// planUnit plans the statements stmts of batch b as one unit.
func planUnit(index int, script string, b tsql.Batch, stmts []tsql.Statement, online bool, created map[string]bool) unit {
	start, end := b.Offset, b.End
	if len(stmts) == 1 && len(b.Statements) > 1 {
		start, end = stmts[0].Offset, stmts[0].End
	}
	u := unit{index: index, sql: strings.TrimSpace(script[start:end]), repeat: b.Repeat, transactional: true}
	var inserts []tsql.Insertion
	for _, st := range stmts {
		for _, cmd := range tsql.Commands(st.Tokens) {
			u.plan(script, cmd, online, created, &inserts)
		}
		if why, ok := tsql.OwnTransaction(st.Tokens); ok && u.transactional {
			u.transactional, u.why = false, why
		}
	}
	u.run = agentTag + tsql.ApplyInsertions(script, start, end, inserts)
	return u
}

// plan adds what one command needs to the unit.
func (u *unit) plan(script string, cmd []tsql.Token, online bool, created map[string]bool, inserts *[]tsql.Insertion) {
	if why, ok := tsql.NoTransaction(cmd); ok && u.transactional {
		u.transactional, u.why = false, why
	}
	for _, t := range tsql.Targets(cmd) {
		if !slices.Contains(u.targets, t) {
			u.targets = append(u.targets, t)
		}
	}
	if tableCreated(cmd, created) {
		return
	}
	ins, ok := tsql.OnlineInsertion(cmd)
	if !ok || createdTarget(cmd, created) {
		return
	}
	last := cmd[len(cmd)-1]
	desc := firstWords(script[cmd[0].Offset : last.Offset+len(last.Text)])
	if online {
		*inserts = append(*inserts, ins)
		u.onlined = append(u.onlined, desc)
	} else {
		u.offline = append(u.offline, desc)
	}
}

// tableCreated records the table a CREATE TABLE makes.
func tableCreated(cmd []tsql.Token, created map[string]bool) bool {
	if len(cmd) > 2 && cmd[0].Is("CREATE") && cmd[1].Is("TABLE") {
		if name, _, ok := tsql.ObjectName(cmd, 2); ok {
			created[strings.ToLower(name)] = true
		}
		return true
	}
	return false
}

// createdTarget reports whether the command's table is one the script
// created: an index on it is built while it is empty and unused.
func createdTarget(cmd []tsql.Token, created map[string]bool) bool {
	for _, t := range tsql.Targets(cmd) {
		if created[strings.ToLower(t)] {
			return true
		}
	}
	return false
}

// hasDirective reports whether a line of script is directive.
func hasDirective(script, directive string) bool {
	want := strings.ReplaceAll(directive, " ", "")
	for _, line := range strings.Split(script, "\n") {
		if strings.EqualFold(strings.Join(strings.Fields(line), ""), want) {
			return true
		}
	}
	return false
}

// firstWords is the start of sql, for messages.
func firstWords(sql string) string {
	f := strings.Fields(sql)
	s := strings.Join(f[:min(len(f), 6)], " ")
	if len(f) > 6 {
		s += " ..."
	}
	return s
}

// describeUnit names a unit in messages.
func describeUnit(u unit) string {
	if u.repeat > 1 {
		return fmt.Sprintf("%s (GO %d)", u.label, u.repeat)
	}
	return u.label
}
