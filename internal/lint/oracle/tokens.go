package oracle

import (
	"strings"
)

// tokKind is what a token is.
type tokKind int

const (
	tokWord   tokKind = iota // a keyword or unquoted identifier (upper-cased in up)
	tokQuoted                // a "quoted identifier"
	tokString                // a string literal
	tokPunct                 // any other character
)

// tok is one token of a statement.
type tok struct {
	kind tokKind
	text string // as written
	up   string // upper-cased word, or text
}

// tokens lexes a statement the splitter has already checked (strings,
// quoted identifiers and comments all close), dropping comments.
func tokens(s string) []tok {
	var out []tok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isSpace(c):
			i++
		case strings.HasPrefix(s[i:], "--"):
			i = skipTo(s, i, "\n", 0)
		case strings.HasPrefix(s[i:], "/*"):
			i = skipTo(s, i+2, "*/", 2)
		case c == '\'':
			end := closeString(s, i)
			out = append(out, tok{kind: tokString, text: s[i:end], up: s[i:end]})
			i = end
		case c == '"':
			end := skipTo(s, i+1, `"`, 1)
			out = append(out, tok{kind: tokQuoted, text: s[i:end], up: s[i:end]})
			i = end
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			if j < len(s) && s[j] == '\'' {
				end := closeLiteral(s, i, j)
				out = append(out, tok{kind: tokString, text: s[i:end], up: s[i:end]})
				i = end
				continue
			}
			out = append(out, tok{kind: tokWord, text: s[i:j], up: strings.ToUpper(s[i:j])})
			i = j
		default:
			out = append(out, tok{kind: tokPunct, text: s[i : i+1], up: s[i : i+1]})
			i++
		}
	}
	return out
}

// skipTo returns the offset just past the first sep at or after from
// (sep's length being n), or the end of s.
func skipTo(s string, from int, sep string, n int) int {
	if k := strings.Index(s[from:], sep); k >= 0 {
		return from + k + n
	}
	return len(s)
}

// closeString returns the offset just past the '...' string at q.
func closeString(s string, q int) int {
	for j := q + 1; j < len(s); j++ {
		if s[j] == '\'' {
			if j+1 < len(s) && s[j+1] == '\'' {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// closeLiteral returns the offset just past a prefixed literal (N'..',
// q'[..]') whose prefix starts at from and quote is at q.
func closeLiteral(s string, from, q int) int {
	if !strings.HasSuffix(strings.ToUpper(s[from:q]), "Q") || q+1 >= len(s) {
		return closeString(s, q)
	}
	closing := map[byte]byte{'[': ']', '{': '}', '<': '>', '(': ')'}[s[q+1]]
	if closing == 0 {
		closing = s[q+1]
	}
	return skipTo(s, q+2, string([]byte{closing, '\''}), 2)
}

// isWordByte reports whether c may be part of an unquoted identifier.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c == '#' || c >= 0x80
}

// isSpace reports whether c is white space.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'
}

// stream is a statement's tokens with a cursor.
type stream struct {
	t []tok
	i int
}

// peek returns the upper-cased token at the cursor plus k, or "".
func (s *stream) peek(k int) string {
	if s.i+k < len(s.t) {
		return s.t[s.i+k].up
	}
	return ""
}

// accept advances past the words ws when they come next.
func (s *stream) accept(ws ...string) bool {
	for k, w := range ws {
		if s.peek(k) != w {
			return false
		}
	}
	s.i += len(ws)
	return true
}

// name reads a [schema.]name and returns it as written.
func (s *stream) name() string {
	var parts []string
	for s.i < len(s.t) {
		t := s.t[s.i]
		if t.kind != tokWord && t.kind != tokQuoted {
			break
		}
		parts = append(parts, t.text)
		s.i++
		if s.peek(0) != "." {
			break
		}
		s.i++
	}
	return strings.Join(parts, ".")
}

// group reads a parenthesised list at the cursor and returns its
// top-level elements, each as tokens; the cursor ends past it. Without a
// parenthesis it returns nil.
func (s *stream) group() [][]tok {
	if s.peek(0) != "(" {
		return nil
	}
	depth := 0
	var out [][]tok
	var cur []tok
	for ; s.i < len(s.t); s.i++ {
		t := s.t[s.i]
		switch {
		case t.up == "(":
			depth++
			if depth == 1 {
				continue
			}
		case t.up == ")":
			depth--
			if depth == 0 {
				s.i++
				return append(out, cur)
			}
		case t.up == "," && depth == 1:
			out = append(out, cur)
			cur = nil
			continue
		}
		cur = append(cur, t)
	}
	return append(out, cur)
}

// rest returns the tokens from the cursor on.
func (s *stream) rest() []tok { return s.t[min(s.i, len(s.t)):] }

// hasWord reports whether ts holds the word w.
func hasWord(ts []tok, w string) bool {
	for _, t := range ts {
		if t.kind == tokWord && t.up == w {
			return true
		}
	}
	return false
}

// hasWords reports whether ts holds the words ws in a row.
func hasWords(ts []tok, ws ...string) bool {
	for i := 0; i+len(ws) <= len(ts); i++ {
		ok := true
		for k, w := range ws {
			if ts[i+k].kind != tokWord || ts[i+k].up != w {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// join writes tokens back as SQL, spaced.
func join(ts []tok) string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 && !(t.up == "," || t.up == ")" || t.up == "." || ts[i-1].up == "(" || ts[i-1].up == "." ||
			(t.up == "(" && ts[i-1].kind == tokWord && !keywordBeforeList[ts[i-1].up])) {
			b.WriteByte(' ')
		}
		b.WriteString(t.text)
	}
	return b.String()
}

// keywordBeforeList are the words written with a space before the list
// that follows them.
var keywordBeforeList = map[string]bool{"ADD": true, "MODIFY": true, "DROP": true, "UNUSED": true, "KEY": true, "CHECK": true, "ON": true,
	"IN": true, "AND": true, "OR": true, "NOT": true, "VALUES": true, "AS": true, "REFERENCES": true}
