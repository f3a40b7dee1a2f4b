package tsql

import (
	"slices"
	"strings"
)

// Insertion is text to insert at a byte offset of the script.
type Insertion struct {
	Offset int
	Text   string
}

// OnlineInsertion finds, for an index build or rebuild that does not say
// ONLINE, where ONLINE = ON goes: into its WITH ( ... ) list, or as a new
// WITH (ONLINE = ON) clause (before the ON filegroup clause of a CREATE
// INDEX). Columnstore indexes and XML or spatial indexes are left as
// written: their online forms differ by version.
func OnlineInsertion(cmd []Token) (Insertion, bool) {
	if !IsIndexBuild(cmd) || HasWord(cmd, "ONLINE") || HasWord(cmd, "COLUMNSTORE") || HasWord(cmd, "XML") || HasWord(cmd, "SPATIAL") {
		return Insertion{}, false
	}
	depth, ons := 0, 0
	for i, t := range cmd {
		switch {
		case t.Text == "(":
			depth++
		case t.Text == ")":
			depth--
		case depth == 0 && t.Is("WITH") && i+1 < len(cmd) && cmd[i+1].Text == "(":
			return Insertion{Offset: cmd[i+1].Offset + 1, Text: "ONLINE = ON, "}, true
		case depth == 0 && cmd[0].Is("CREATE") && (t.Is("ON") || t.Is("FILESTREAM_ON")):
			ons++
			if ons == 2 || t.Is("FILESTREAM_ON") {
				return Insertion{Offset: t.Offset, Text: "WITH (ONLINE = ON) "}, true
			}
		}
	}
	last := cmd[len(cmd)-1]
	return Insertion{Offset: last.Offset + len(last.Text), Text: " WITH (ONLINE = ON)"}, true
}

// IsIndexBuild reports whether cmd builds or rebuilds an index: CREATE
// [UNIQUE] [CLUSTERED | NONCLUSTERED] INDEX, ALTER INDEX ... REBUILD, or
// ALTER TABLE ... REBUILD.
func IsIndexBuild(cmd []Token) bool {
	if len(cmd) < 3 {
		return false
	}
	switch {
	case cmd[0].Is("CREATE"):
		for _, t := range cmd[1:min(len(cmd), 5)] {
			if t.Is("INDEX") {
				return true
			}
		}
	case cmd[0].Is("ALTER") && (cmd[1].Is("INDEX") || cmd[1].Is("TABLE")):
		return HasWord(cmd, "REBUILD")
	}
	return false
}

// ApplyInsertions returns script[start:end] with ins applied (offsets in
// script, in order).
func ApplyInsertions(script string, start, end int, ins []Insertion) string {
	var b strings.Builder
	pos := start
	for _, in := range ins {
		b.WriteString(script[pos:in.Offset])
		b.WriteString(in.Text)
		pos = in.Offset
	}
	b.WriteString(script[pos:end])
	return strings.TrimSpace(b.String())
}

// HasWord reports whether toks hold the keyword kw.
func HasWord(toks []Token, kw string) bool {
	return slices.ContainsFunc(toks, func(t Token) bool { return t.Is(kw) })
}
