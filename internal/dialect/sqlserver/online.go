package sqlserver

import (
	"strings"

	"github.com/hotswap-db/hotswap/internal/tsql"
)

// insertion is text to insert at a byte offset of the script.
type insertion struct {
	offset int
	text   string
}

// onlineInsertion finds, for an index build or rebuild that does not say
// ONLINE, where ONLINE = ON goes: into its WITH ( ... ) list, or as a new
// WITH (ONLINE = ON) clause (before the ON filegroup clause of a CREATE
// INDEX). Columnstore indexes and XML or spatial indexes are left as
// written: their online forms differ by version.
func onlineInsertion(cmd []tsql.Token) (insertion, bool) {
	if !isIndexBuild(cmd) || hasWord(cmd, "ONLINE") || hasWord(cmd, "COLUMNSTORE") || hasWord(cmd, "XML") || hasWord(cmd, "SPATIAL") {
		return insertion{}, false
	}
	depth, ons := 0, 0
	for i, t := range cmd {
		switch {
		case t.Text == "(":
			depth++
		case t.Text == ")":
			depth--
		case depth == 0 && t.Is("WITH") && i+1 < len(cmd) && cmd[i+1].Text == "(":
			return insertion{offset: cmd[i+1].Offset + 1, text: "ONLINE = ON, "}, true
		case depth == 0 && cmd[0].Is("CREATE") && (t.Is("ON") || t.Is("FILESTREAM_ON")):
			ons++
			if ons == 2 || t.Is("FILESTREAM_ON") {
				return insertion{offset: t.Offset, text: "WITH (ONLINE = ON) "}, true
			}
		}
	}
	last := cmd[len(cmd)-1]
	return insertion{offset: last.Offset + len(last.Text), text: " WITH (ONLINE = ON)"}, true
}

// isIndexBuild reports whether cmd builds or rebuilds an index: CREATE
// [UNIQUE] [CLUSTERED | NONCLUSTERED] INDEX, ALTER INDEX ... REBUILD, or
// ALTER TABLE ... REBUILD.
func isIndexBuild(cmd []tsql.Token) bool {
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
		return hasWord(cmd, "REBUILD")
	}
	return false
}

// applyInsertions returns script[start:end] with ins applied (offsets in
// script, in order).
func applyInsertions(script string, start, end int, ins []insertion) string {
	var b strings.Builder
	pos := start
	for _, in := range ins {
		b.WriteString(script[pos:in.offset])
		b.WriteString(in.text)
		pos = in.offset
	}
	b.WriteString(script[pos:end])
	return strings.TrimSpace(b.String())
}
