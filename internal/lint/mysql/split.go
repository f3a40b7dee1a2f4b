package mysql

import (
	"strings"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// piece is one statement's span in the script.
type piece struct{ start, end int }

// split cuts a MySQL script into statements at the semicolons that are not
// inside a quoted string, a quoted identifier or a comment, and collects
// the comments. It is a lexer, not a pattern match: the parser then reads
// each statement.
func split(script string) (pieces []piece, comments []lint.Comment) {
	start := -1
	for i := 0; i < len(script); {
		c := script[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			if start < 0 {
				start = i
			}
			i = skipQuoted(script, i)
		case c == '#' || (c == '-' && strings.HasPrefix(script[i:], "--") && (i+2 == len(script) || isSpace(script[i+2]))):
			end := strings.IndexByte(script[i:], '\n')
			if end < 0 {
				end = len(script) - i
			}
			comments = append(comments, lint.Comment{Offset: i, End: i + end, Text: script[i : i+end]})
			i += end
		case c == '/' && strings.HasPrefix(script[i:], "/*") && !strings.HasPrefix(script[i:], "/*!"):
			end := strings.Index(script[i+2:], "*/")
			stop := len(script)
			if end >= 0 {
				stop = i + 2 + end + 2
			}
			comments = append(comments, lint.Comment{Offset: i, End: stop, Text: script[i:stop]})
			i = stop
		case c == ';':
			if start >= 0 {
				pieces = append(pieces, piece{start, i})
			}
			start = -1
			i++
		default:
			if start < 0 && !isSpace(c) {
				start = i
			}
			i++
		}
	}
	if start >= 0 && strings.TrimSpace(script[start:]) != "" {
		pieces = append(pieces, piece{start, len(script)})
	}
	return pieces, comments
}

// skipQuoted returns the offset just past the quoted run opening at i;
// a doubled quote or a backslash escape stays inside it.
func skipQuoted(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q != '`':
			j++
		case s[j] == q && j+1 < len(s) && s[j+1] == q:
			j++
		case s[j] == q:
			return j + 1
		}
	}
	return len(s)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
