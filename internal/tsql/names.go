package tsql

import "strings"

// ObjectName reads the multi-part name (server.db.schema.object, any part
// bracketed or quoted) that starts at toks[i]. It returns the name with
// its parts joined by dots, unquoted, and the index just past it; ok is
// false when toks[i] is not a name.
func ObjectName(toks []Token, i int) (name string, next int, ok bool) {
	var parts []string
	for i < len(toks) && (toks[i].Kind == Word || toks[i].Kind == Ident) {
		parts = append(parts, toks[i].Name())
		i++
		if i+1 < len(toks) && toks[i].Kind == Punct && toks[i].Text == "." {
			i++
			continue
		}
		break
	}
	if len(parts) == 0 {
		return "", i, false
	}
	return strings.Join(parts, "."), i, true
}

// Targets returns the tables a command changes or locks, as written
// (schema.table or table): the table of ALTER TABLE, TRUNCATE TABLE,
// DROP TABLE, of a CREATE/ALTER/DROP INDEX ... ON, of CREATE STATISTICS
// and UPDATE STATISTICS, of a trigger, and the first argument of
// sp_rename (its object part).
func Targets(cmd []Token) []string {
	if len(cmd) < 2 {
		return nil
	}
	switch first := cmd[0].Upper(); {
	case first == "ALTER" && cmd[1].Is("TABLE"), first == "TRUNCATE" && cmd[1].Is("TABLE"), first == "DROP" && cmd[1].Is("TABLE"):
		return namesAfter(cmd, 2)
	case first == "UPDATE" && cmd[1].Is("STATISTICS"):
		return namesAfter(cmd, 2)
	case first == "EXEC" || first == "EXECUTE":
		return renameTarget(cmd)
	case first == "CREATE" || first == "ALTER" || first == "DROP":
		return onTarget(cmd)
	}
	return nil
}

// namesAfter reads the comma-separated names from toks[i] on, skipping IF
// EXISTS.
func namesAfter(toks []Token, i int) []string {
	if i+1 < len(toks) && toks[i].Is("IF") && toks[i+1].Is("EXISTS") {
		i += 2
	}
	var out []string
	for {
		name, next, ok := ObjectName(toks, i)
		if !ok {
			return out
		}
		out = append(out, name)
		if next >= len(toks) || toks[next].Text != "," {
			return out
		}
		i = next + 1
	}
}

// onTarget reads the table after the first ON of an index, statistics or
// trigger command: CREATE INDEX ix ON t (...), DROP INDEX ix ON t.
func onTarget(cmd []Token) []string {
	isIndexish := false
	for _, t := range cmd[1:min(len(cmd), 6)] {
		if t.Is("INDEX") || t.Is("STATISTICS") || t.Is("TRIGGER") {
			isIndexish = true
			break
		}
	}
	if !isIndexish {
		return nil
	}
	for i, t := range cmd {
		if t.Is("ON") {
			if name, _, ok := ObjectName(cmd, i+1); ok {
				return []string{name}
			}
			return nil
		}
	}
	if cmd[0].Is("DROP") { // DROP INDEX t.ix, the old form
		for _, name := range namesAfter(cmd, 2) {
			if i := strings.LastIndexByte(name, '.'); i > 0 {
				return []string{name[:i]}
			}
		}
	}
	return nil
}

// renameTarget reads the object of EXEC sp_rename 'schema.table[.column]'.
func renameTarget(cmd []Token) []string {
	i := 1
	if i < len(cmd) && cmd[i].Kind == Var { // EXEC @rc = sp_rename
		i += 2
	}
	name, next, ok := ObjectName(cmd, i)
	if !ok || !strings.EqualFold(lastPart(name), "sp_rename") || next >= len(cmd) || cmd[next].Kind != String {
		return nil
	}
	arg := StringValue(cmd[next])
	parts := strings.Split(arg, ".")
	kind := ""
	for j := next + 1; j < len(cmd); j++ {
		if cmd[j].Kind == String {
			kind = strings.ToUpper(StringValue(cmd[j]))
		}
	}
	if (kind == "COLUMN" || kind == "INDEX") && len(parts) > 1 {
		parts = parts[:len(parts)-1]
	}
	return []string{strings.Trim(strings.Join(parts, "."), "[]")}
}

// lastPart is the last dot-separated part of a name.
func lastPart(name string) string { return name[strings.LastIndexByte(name, '.')+1:] }

// StringValue is a string literal's value, without its quotes and N
// prefix, doubled quotes made single.
func StringValue(t Token) string {
	s := strings.TrimPrefix(strings.TrimPrefix(t.Text, "N"), "n")
	if len(s) >= 2 {
		s = s[1 : len(s)-1]
	}
	return strings.ReplaceAll(s, "''", "'")
}
