package tsql

import (
	"fmt"
	"slices"
)

// NoTransaction reports whether the command cmd (one of Commands) cannot
// run inside a user transaction (SQL Server error 574 and its kin), and
// names it.
func NoTransaction(cmd []Token) (string, bool) {
	words := upperWords(cmd, 4)
	switch {
	case hasPrefix(words, "ALTER", "DATABASE"), hasPrefix(words, "CREATE", "DATABASE"), hasPrefix(words, "DROP", "DATABASE"):
		return words[0] + " DATABASE", true
	case hasPrefix(words, "BACKUP"), hasPrefix(words, "RESTORE"), hasPrefix(words, "RECONFIGURE"):
		return words[0], true
	case len(words) > 1 && words[1] == "FULLTEXT" && (words[0] == "CREATE" || words[0] == "ALTER" || words[0] == "DROP"):
		return words[0] + " FULLTEXT " + at(words, 2), true
	case hasPrefix(words, "ALTER", "SERVER"), hasPrefix(words, "CREATE", "ENDPOINT"), hasPrefix(words, "ALTER", "AVAILABILITY"),
		hasPrefix(words, "CREATE", "AVAILABILITY"), hasPrefix(words, "DROP", "AVAILABILITY"):
		return words[0] + " " + words[1], true
	case hasPrefix(words, "ALTER", "INDEX") && (HasWord(cmd, "RESUME") || HasWord(cmd, "PAUSE") || HasWord(cmd, "ABORT")):
		return "ALTER INDEX ... RESUME/PAUSE/ABORT", true
	case (hasPrefix(words, "CREATE") || hasPrefix(words, "ALTER")) && hasOption(cmd, "RESUMABLE", "ON"):
		return "a RESUMABLE = ON index operation", true
	}
	return "", false
}

// OwnTransaction reports whether a statement manages its own transaction
// (BEGIN TRAN, COMMIT, ROLLBACK, SAVE TRAN): the executor does not wrap
// such a batch in one of its own.
func OwnTransaction(toks []Token) (string, bool) {
	for i, t := range toks {
		next := ""
		if i+1 < len(toks) {
			next = toks[i+1].Upper()
		}
		switch {
		case t.Is("BEGIN") && (next == "TRAN" || next == "TRANSACTION" || next == "DISTRIBUTED"),
			t.Is("COMMIT"), t.Is("ROLLBACK"), t.Is("SAVE") && (next == "TRAN" || next == "TRANSACTION"):
			return "its own " + t.Upper() + " (the batch manages its transaction)", true
		}
	}
	return "", false
}

// upperWords is the first n tokens of cmd in upper case.
func upperWords(cmd []Token, n int) []string {
	out := make([]string, 0, n)
	for _, t := range cmd[:min(n, len(cmd))] {
		out = append(out, t.Upper())
	}
	return out
}

func hasPrefix(words []string, prefix ...string) bool {
	return len(words) >= len(prefix) && slices.Equal(words[:len(prefix)], prefix)
}

func at(words []string, i int) string {
	if i < len(words) {
		return words[i]
	}
	return ""
}

// hasOption reports whether cmd sets option = value.
func hasOption(cmd []Token, option, value string) bool {
	for i := 0; i+2 < len(cmd); i++ {
		if cmd[i].Is(option) && cmd[i+1].Text == "=" && cmd[i+2].Is(value) {
			return true
		}
	}
	return false
}

// InTransaction reports whether a script of these statements can run in
// one transaction, as SQL Server's executor does with it, and why not
// otherwise: not when a command refuses a user transaction or a statement
// manages its own.
func InTransaction(stmts []Statement) (bool, string) {
	for i, st := range stmts {
		for _, cmd := range Commands(st.Tokens) {
			if why, ok := NoTransaction(cmd); ok {
				return false, fmt.Sprintf("%s (statement %d) cannot run in a transaction: running the script statement by statement", why, i+1)
			}
		}
		if why, ok := OwnTransaction(st.Tokens); ok {
			return false, fmt.Sprintf("statement %d has %s: running the script as written", i+1, why)
		}
	}
	return true, ""
}
