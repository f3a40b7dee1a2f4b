package plsql

import (
	"strings"
	"unicode/utf8"
)

// maxLeadWords is how many leading words of a statement are kept to tell
// its kind.
const maxLeadWords = 8

// splitter is one pass over a script.
type splitter struct {
	src       string
	i         int
	lineStart int
	start     int // offset of the current statement's first token, -1 when none
	lastEnd   int // offset just past its last token so far
	words     []string
	opens     []int // offsets of the parentheses still open in the current statement
	pos       position
	out       []Statement
	comments  []Comment
}

// run lexes the whole script.
func (s *splitter) run() error {
	for s.i < len(s.src) {
		if err := s.step(); err != nil {
			return err
		}
	}
	if s.start >= 0 {
		return s.emit(s.kind(), s.lastEnd)
	}
	return nil
}

// step lexes the token at s.i.
func (s *splitter) step() error {
	c := s.src[s.i]
	switch {
	case c == '\n':
		s.i++
		s.lineStart = s.i
	case isSpace(c):
		s.i++
	case strings.HasPrefix(s.src[s.i:], "--"):
		s.lineComment()
	case strings.HasPrefix(s.src[s.i:], "/*"):
		return s.blockComment()
	case c == '/' && s.aloneOnLine():
		return s.slashLine()
	case c == '\'':
		return s.literal(s.i, s.i)
	case c == '"':
		return s.quotedIdentifier()
	case c == ';':
		return s.semicolon()
	case c == '(' || c == ')':
		return s.paren(c)
	case c == '@' && s.start < 0:
		s.clientLine(Client)
	case isWordByte(c):
		return s.word()
	default:
		s.token(s.i, s.i+1)
	}
	return nil
}

// token records the token src[from:to] as part of the current statement.
func (s *splitter) token(from, to int) {
	if s.start < 0 {
		s.start = from
		s.words = s.words[:0]
	}
	s.lastEnd = to
	s.i = to
}

// lineComment skips a -- comment to the end of its line.
func (s *splitter) lineComment() {
	end := strings.IndexByte(s.src[s.i:], '\n')
	stop := len(s.src)
	if end >= 0 {
		stop = s.i + end
	}
	s.comments = append(s.comments, Comment{Offset: s.i, End: stop, Text: s.src[s.i:stop]})
	s.i = stop
}

// blockComment skips a /* */ comment.
func (s *splitter) blockComment() error {
	end := strings.Index(s.src[s.i+2:], "*/")
	if end < 0 {
		return s.errorAt(s.i, "unterminated comment: /* without */")
	}
	stop := s.i + 2 + end + 2
	s.comments = append(s.comments, Comment{Offset: s.i, End: stop, Text: s.src[s.i:stop]})
	s.i = stop
	return nil
}

// aloneOnLine reports whether the slash at s.i is alone on its line
// (spaces around it allowed).
func (s *splitter) aloneOnLine() bool {
	if strings.TrimSpace(s.src[s.lineStart:s.i]) != "" {
		return false
	}
	rest := s.src[s.i+1:]
	if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
		rest = rest[:nl]
	}
	return strings.TrimSpace(rest) == ""
}

// slashLine ends the current statement, whatever its kind; a slash after
// a statement already ended (SQL*Plus would run it again) is dropped.
func (s *splitter) slashLine() error {
	s.i++
	if s.start >= 0 {
		return s.emit(s.kind(), s.lastEnd)
	}
	return nil
}

// paren tracks the nesting of parentheses.
func (s *splitter) paren(c byte) error {
	at := s.i
	s.token(at, at+1)
	if c == '(' {
		s.opens = append(s.opens, at)
		return nil
	}
	if len(s.opens) == 0 {
		return s.errorAt(at, "unmatched ')'")
	}
	s.opens = s.opens[:len(s.opens)-1]
	return nil
}

// semicolon ends a SQL statement; inside a PL/SQL unit it is a token.
func (s *splitter) semicolon() error {
	if s.start < 0 {
		s.i++
		return nil
	}
	if s.kind() == PLSQL {
		s.token(s.i, s.i+1)
		return nil
	}
	s.i++
	return s.emit(SQL, s.lastEnd)
}

// word lexes an identifier or keyword, or the prefix of a literal (N'..',
// q'[..]', nq'[..]').
func (s *splitter) word() error {
	from := s.i
	j := from
	for j < len(s.src) && isWordByte(s.src[j]) {
		j++
	}
	raw := s.src[from:j]
	if j < len(s.src) && s.src[j] == '\'' && len(raw) <= 2 {
		if w := strings.ToUpper(raw); w == "N" || w == "Q" || w == "NQ" {
			return s.literal(from, j)
		}
	}
	if len(s.words) >= maxLeadWords && s.start >= 0 {
		s.token(from, j)
		return nil
	}
	w := strings.ToUpper(raw)
	if s.start < 0 && clientCommand(w, s.restOfLine(j)) {
		kind := Client
		if w == "EXEC" || w == "EXECUTE" {
			kind = PLSQL
		}
		s.clientLine(kind)
		return nil
	}
	s.token(from, j)
	if len(s.words) < maxLeadWords {
		s.words = append(s.words, w)
	}
	return nil
}

// restOfLine is the text from off to the end of its line.
func (s *splitter) restOfLine(off int) string {
	rest := s.src[off:]
	if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
		rest = rest[:nl]
	}
	return rest
}

// clientLine takes the line starting at s.i as a SQL*Plus command. EXEC
// becomes the anonymous block SQL*Plus would send for it.
func (s *splitter) clientLine(kind Kind) {
	from := s.i
	line := s.restOfLine(from)
	to := from + len(strings.TrimRight(line, " \t\r"))
	text := strings.TrimRight(strings.TrimSpace(s.src[from:to]), ";")
	if kind == PLSQL {
		_, call, _ := strings.Cut(text, " ")
		text = "BEGIN " + strings.TrimSpace(call) + "; END;"
	}
	s.out = append(s.out, s.statement(kind, text, from, to))
	s.i = from + len(line)
}

// literal lexes a string literal whose quote is at q (its prefix starts
// at from).
func (s *splitter) literal(from, q int) error {
	prefix := strings.ToUpper(s.src[from:q])
	var end int
	if strings.HasSuffix(prefix, "Q") {
		end = closeQQuote(s.src, q)
		if end < 0 {
			return s.errorAt(from, "unterminated q-quoted string")
		}
	} else {
		end = closeString(s.src, q)
		if end < 0 {
			return s.errorAt(from, "unterminated string: ' without its closing quote")
		}
	}
	s.token(from, end)
	return nil
}

// quotedIdentifier lexes a "quoted identifier".
func (s *splitter) quotedIdentifier() error {
	end := strings.IndexByte(s.src[s.i+1:], '"')
	switch {
	case end < 0:
		return s.errorAt(s.i, `unterminated quoted identifier: " without its closing quote`)
	case end == 0:
		return s.errorAt(s.i, `zero-length quoted identifier "" (ORA-01741)`)
	}
	name := s.src[s.i : s.i+end+2]
	s.token(s.i, s.i+end+2)
	if len(s.words) < maxLeadWords {
		s.words = append(s.words, strings.Trim(name, `"`))
	}
	return nil
}

// emit ends the current statement at end; a parenthesis left open is an
// error.
func (s *splitter) emit(kind Kind, end int) error {
	if len(s.opens) > 0 {
		return s.errorAt(s.opens[len(s.opens)-1], "unclosed '(' at the end of the statement")
	}
	text := strings.TrimSpace(s.src[s.start:end])
	if text != "" {
		s.out = append(s.out, s.statement(kind, text, s.start, s.start+len(text)))
	}
	s.start = -1
	s.words = s.words[:0]
	return nil
}

// statement builds a Statement at [from, to).
func (s *splitter) statement(kind Kind, text string, from, to int) Statement {
	line, col := s.pos.at(s.src, from)
	return Statement{Kind: kind, Text: text, Offset: from, End: to, Line: line, Column: col}
}

// errorAt is a lexical error at offset off.
func (s *splitter) errorAt(off int, msg string) *Error {
	line, col := Position(s.src, off)
	return &Error{Message: msg, Line: line, Column: col, Offset: off}
}

// kind tells a SQL statement from a PL/SQL unit by its leading words; a
// block may open with a <<label>>.
func (s *splitter) kind() Kind {
	if IsPLSQL(s.words) || strings.HasPrefix(s.src[s.start:], "<<") {
		return PLSQL
	}
	return SQL
}

// IsPLSQL reports whether a statement whose leading words (upper case) are
// words is a PL/SQL unit: an anonymous block, or the creation of a stored
// unit, which SQL*Plus ends with a slash line.
func IsPLSQL(words []string) bool {
	if len(words) == 0 {
		return false
	}
	switch words[0] {
	case "BEGIN", "DECLARE":
		return true
	case "CREATE":
	default:
		return false
	}
	rest := words[1:]
	for len(rest) > 0 {
		switch rest[0] {
		case "OR", "REPLACE", "EDITIONABLE", "NONEDITIONABLE", "AND", "COMPILE", "RESOLVE", "NOFORCE":
			rest = rest[1:]
			continue
		case "PROCEDURE", "FUNCTION", "PACKAGE", "TRIGGER", "TYPE", "LIBRARY", "JAVA":
			return true
		}
		return false
	}
	return false
}

// clientCommands are the SQL*Plus commands a script may hold, which a
// client runs itself (SET has SQL forms too: see clientCommand).
var clientCommands = map[string]bool{
	"PROMPT": true, "PRO": true, "REM": true, "REMARK": true, "SPOOL": true, "SHOW": true, "SHO": true,
	"WHENEVER": true, "EXIT": true, "QUIT": true, "DEFINE": true, "DEF": true, "UNDEFINE": true, "UNDEF": true,
	"PAUSE": true, "CONNECT": true, "CONN": true, "DISCONNECT": true, "COLUMN": true, "COL": true, "TTITLE": true,
	"BTITLE": true, "BREAK": true, "COMPUTE": true, "ACCEPT": true, "VARIABLE": true, "VAR": true, "PRINT": true,
	"EXEC": true, "EXECUTE": true, "START": true, "HOST": true, "CLEAR": true, "DESCRIBE": true, "DESC": true,
}

// sqlSet are the words after SET that make it a SQL statement.
var sqlSet = map[string]bool{"TRANSACTION": true, "ROLE": true, "CONSTRAINT": true, "CONSTRAINTS": true}

// clientCommand reports whether a statement starting with word w, the
// rest of its line being rest, is a SQL*Plus command. EXECUTE IMMEDIATE
// is PL/SQL, not the EXECUTE command.
func clientCommand(w, rest string) bool {
	next := strings.ToUpper(firstWord(rest))
	switch {
	case w == "SET":
		return !sqlSet[next]
	case w == "EXECUTE" || w == "EXEC":
		return next != "IMMEDIATE" && next != ""
	}
	return clientCommands[w]
}

// firstWord is the first run of word bytes in s, after spaces.
func firstWord(s string) string {
	s = strings.TrimLeft(s, " \t")
	j := 0
	for j < len(s) && isWordByte(s[j]) {
		j++
	}
	return s[:j]
}

// closeString returns the offset just past the string opening at q; a
// doubled quote stays inside it. -1 when it never closes.
func closeString(src string, q int) int {
	for j := q + 1; j < len(src); j++ {
		if src[j] != '\'' {
			continue
		}
		if j+1 < len(src) && src[j+1] == '\'' {
			j++
			continue
		}
		return j + 1
	}
	return -1
}

// closeQQuote returns the offset just past the q-quoted string whose
// quote is at q: q'X...X' with X's closing bracket for [ { < (. -1 when it
// never closes.
func closeQQuote(src string, q int) int {
	if q+1 >= len(src) {
		return -1
	}
	open := src[q+1]
	closing := map[byte]byte{'[': ']', '{': '}', '<': '>', '(': ')'}[open]
	if closing == 0 {
		closing = open
	}
	if isSpace(open) {
		return -1
	}
	end := strings.Index(src[q+2:], string([]byte{closing, '\''}))
	if end < 0 {
		return -1
	}
	return q + 2 + end + 2
}

// isWordByte reports whether c may be part of an unquoted identifier
// (letters, digits, _, $, #, and any non-ASCII byte).
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c == '#' || c >= 0x80
}

// isSpace reports whether c is white space.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == '\n'
}

// position finds the line and column of offsets that only grow, without
// counting the script's lines again from its start each time.
type position struct {
	off, line, lineStart int
}

// at returns the 1-based line and column (in characters) of off, which
// must not be before the previous call's.
func (p *position) at(src string, off int) (line, col int) {
	if p.line == 0 || off < p.off {
		*p = position{line: 1}
	}
	seg := src[p.off:off]
	if n := strings.Count(seg, "\n"); n > 0 {
		p.line += n
		p.lineStart = p.off + strings.LastIndexByte(seg, '\n') + 1
	}
	p.off = off
	return p.line, utf8.RuneCountInString(src[p.lineStart:off]) + 1
}
