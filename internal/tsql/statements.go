package tsql

import "slices"

// starters are the keywords that begin a statement when they open a line
// outside parentheses and blocks: T-SQL needs no semicolon between
// statements, so a new line starting with one of them starts a new one.
var starters = []string{"ALTER", "CREATE", "DROP", "TRUNCATE", "EXEC", "EXECUTE", "GRANT", "REVOKE", "DENY",
	"DBCC", "BACKUP", "RESTORE", "USE", "INSERT", "UPDATE", "DELETE", "MERGE", "DECLARE", "PRINT", "RAISERROR", "THROW",
	"IF", "WHILE", "COMMIT", "ROLLBACK", "SAVE", "WAITFOR"}

// IsStarter reports whether t is a keyword that begins a statement.
func IsStarter(t Token) bool { return t.Kind == Word && slices.Contains(starters, t.Upper()) }

// moduleKinds are the objects whose CREATE or ALTER must be alone in its
// batch: the whole batch is its body.
var moduleKinds = []string{"PROC", "PROCEDURE", "FUNCTION", "TRIGGER", "VIEW"}

// IsModule reports whether toks begin a CREATE [OR ALTER] or ALTER of a
// procedure, function, trigger or view.
func IsModule(toks []Token) bool {
	i := 0
	switch {
	case len(toks) > 2 && toks[0].Is("CREATE") && toks[1].Is("OR") && toks[2].Is("ALTER"):
		i = 3
	case len(toks) > 0 && (toks[0].Is("CREATE") || toks[0].Is("ALTER")):
		i = 1
	default:
		return false
	}
	return i < len(toks) && slices.Contains(moduleKinds, toks[i].Upper())
}

// statements cuts a batch's tokens (no comments) into statements: at
// semicolons, and before a starter keyword that opens a line, outside
// parentheses and BEGIN ... END or CASE ... END blocks. A module's batch
// is one statement.
func statements(script string, toks []Token) []Statement {
	if IsModule(toks) {
		return []Statement{makeStatement(script, toks)}
	}
	var out []Statement
	var s splitState
	begin := 0
	for i, t := range toks {
		switch {
		case t.Kind == Punct && t.Text == ";" && s.top():
			out = appendStatement(out, script, toks[begin:i])
			begin = i + 1
			continue
		case i > begin && s.top() && opensStatement(toks, i) && lineStartsAt(script, t.Offset) && !continues(toks[i-1]) &&
			!alterTableClause(toks, begin, i):
			out = appendStatement(out, script, toks[begin:i])
			begin = i
		}
		s.track(toks, i)
	}
	return appendStatement(out, script, toks[begin:])
}

// opensStatement reports whether toks[i] may open a statement: a starter
// keyword, or BEGIN TRAN (a BEGIN block belongs to the IF or WHILE before
// it).
func opensStatement(toks []Token, i int) bool {
	return IsStarter(toks[i]) || (toks[i].Is("BEGIN") && beginsTransaction(toks, i))
}

// continues reports whether a statement goes on after prev whatever comes
// next: "IF ... ELSE", "AS", "THEN" and the like introduce a statement
// that belongs to the one before.
func continues(prev Token) bool {
	return prev.Is("ELSE") || prev.Is("AS") || prev.Is("THEN") || prev.Is("BEGIN")
}

// splitState is the nesting the splitter tracks.
type splitState struct{ parens, blocks int }

// top reports whether the splitter is outside every parenthesis and block.
func (s *splitState) top() bool { return s.parens == 0 && s.blocks == 0 }

// track updates the nesting for toks[i].
func (s *splitState) track(toks []Token, i int) {
	t := toks[i]
	switch {
	case t.Kind == Punct && t.Text == "(":
		s.parens++
	case t.Kind == Punct && t.Text == ")":
		s.parens = max(s.parens-1, 0)
	case t.Is("CASE"):
		s.blocks++
	case t.Is("BEGIN") && !beginsTransaction(toks, i):
		s.blocks++
	case t.Is("END"):
		s.blocks = max(s.blocks-1, 0)
	}
}

// beginsTransaction reports whether the BEGIN at toks[i] is BEGIN TRAN,
// BEGIN TRANSACTION, BEGIN DISTRIBUTED ... or BEGIN DIALOG, which open no
// block.
func beginsTransaction(toks []Token, i int) bool {
	if i+1 >= len(toks) {
		return false
	}
	n := toks[i+1]
	return n.Is("TRAN") || n.Is("TRANSACTION") || n.Is("DISTRIBUTED") || n.Is("DIALOG") || n.Is("CONVERSATION")
}

// appendStatement appends the statement of toks, unless it is empty.
func appendStatement(out []Statement, script string, toks []Token) []Statement {
	if len(toks) == 0 {
		return out
	}
	return append(out, makeStatement(script, toks))
}

// makeStatement spans toks.
func makeStatement(script string, toks []Token) Statement {
	last := toks[len(toks)-1]
	start, end := toks[0].Offset, last.Offset+len(last.Text)
	return Statement{Offset: start, End: end, Text: script[start:end], Tokens: toks}
}

// Commands cuts a statement's tokens at every starter keyword that is not
// part of the command before it (INSERT ... EXEC stays whole), so that the
// statements inside IF ... BEGIN ... END blocks can be judged one by one.
// Each command runs to the next starter at the same or an outer nesting.
func Commands(toks []Token) [][]Token {
	var out [][]Token
	begin := -1
	for i, t := range toks {
		if !isCommand(t) || (begin >= 0 && partOf(toks, begin, i)) {
			continue
		}
		if begin >= 0 {
			out = append(out, toks[begin:i])
		}
		begin = i
	}
	if begin >= 0 {
		out = append(out, toks[begin:])
	}
	return out
}

// control are the starters of control flow, which open no command.
var control = []string{"IF", "WHILE", "COMMIT", "ROLLBACK", "SAVE", "WAITFOR", "PRINT", "RAISERROR", "THROW", "DECLARE"}

// isCommand reports whether t opens a command.
func isCommand(t Token) bool { return IsStarter(t) && !slices.Contains(control, t.Upper()) }

// partOf reports whether the starter at toks[i] belongs to the command
// opened by cmd: INSERT ... EXEC, a GRANT's verbs, DENY/REVOKE ALTER, the
// ALTER/DROP/CREATE words inside a trigger's FOR clause.
func partOf(toks []Token, begin, i int) bool {
	cmd, prev := toks[begin], toks[i-1]
	switch {
	case cmd.Is("INSERT") && (toks[i].Is("EXEC") || toks[i].Is("EXECUTE")):
		return true
	case cmd.Is("GRANT") || cmd.Is("REVOKE") || cmd.Is("DENY"):
		return true
	case alterTableClause(toks, begin, i):
		return true
	case prev.Kind == Punct && prev.Text == ",":
		return true
	case prev.Is("FOR") || prev.Is("AFTER") || prev.Is("ON") || prev.Is("WITH") || prev.Is("TO"):
		return true
	}
	return false
}

// objectKinds are the words after ALTER or DROP that name an object of its
// own: "ALTER TABLE t ... ALTER TABLE u" holds two commands.
var objectKinds = []string{"TABLE", "INDEX", "VIEW", "PROC", "PROCEDURE", "FUNCTION", "TRIGGER", "SCHEMA", "DATABASE",
	"STATISTICS", "TYPE", "SYNONYM", "SEQUENCE", "USER", "ROLE", "LOGIN", "FULLTEXT", "ASSEMBLY", "PARTITION"}

// alterTableClause reports whether the ALTER or DROP at toks[i] is a
// clause of the ALTER TABLE that opens at toks[begin] (ALTER COLUMN, DROP
// COLUMN, DROP CONSTRAINT) rather than a command of its own.
func alterTableClause(toks []Token, begin, i int) bool {
	if begin < 0 || begin+1 >= len(toks) || !toks[begin].Is("ALTER") || !toks[begin+1].Is("TABLE") {
		return false
	}
	if !toks[i].Is("ALTER") && !toks[i].Is("DROP") {
		return false
	}
	return i+1 >= len(toks) || !slices.Contains(objectKinds, toks[i+1].Upper())
}
