// Package tsql reads SQL Server scripts without a server: it cuts a script
// into batches on the sqlcmd separator GO, cuts each batch into
// statements, and reports what no full parser is needed to find (an
// unterminated string, quoted identifier, bracketed name or comment, an
// unbalanced parenthesis) with its line and column.
//
// No maintained Go parser of the whole T-SQL grammar exists (the grammar
// has no open specification; the Go projects that try cover part of it and
// would refuse valid scripts), so this package is a lexer that knows
// T-SQL's quoting and comment rules exactly: strings '...' and N'...' with
// ” inside, quoted identifiers "..." with "" inside, bracketed names
// [...] with ]] inside, -- line comments and /* */ block comments, which
// nest. Everything else is checked by the server when the script runs.
// The executor (dialect/sqlserver), the control plane's checker
// (sqlcheck/sqlservercheck) and the linter (lint/sqlserver) share it, so
// they cut a script the same way.
package tsql

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Kind is the kind of a token.
type Kind int

// The token kinds.
const (
	Word    Kind = iota // a keyword or an unquoted identifier
	Ident               // a quoted identifier: "x" or [x]
	String              // a string literal: 'x' or N'x'
	Number              // a numeric literal
	Var                 // a @variable or @@function
	Punct               // any other character: ( ) , . ; = ...
	Comment             // a -- or /* */ comment
)

// Token is one token of a script.
type Token struct {
	Kind Kind
	// Text is the token as written.
	Text string
	// Offset is the byte offset of its first character in the script.
	Offset int
}

// Upper is a Word in upper case, else the text as written.
func (t Token) Upper() string {
	if t.Kind == Word {
		return strings.ToUpper(t.Text)
	}
	return t.Text
}

// Is reports whether t is the keyword kw (upper case).
func (t Token) Is(kw string) bool { return t.Kind == Word && strings.EqualFold(t.Text, kw) }

// Name is an identifier's name: a Word as written, a quoted identifier
// without its quotes (doubled closing quotes made single).
func (t Token) Name() string {
	switch {
	case t.Kind != Ident:
		return t.Text
	case strings.HasPrefix(t.Text, "["):
		return strings.ReplaceAll(strings.TrimSuffix(t.Text[1:], "]"), "]]", "]")
	}
	return strings.ReplaceAll(strings.TrimSuffix(t.Text[1:], `"`), `""`, `"`)
}

// Error is a script the lexer refused, at a place in it.
type Error struct {
	Message string
	// Offset is the byte offset in the script; Line and Column (in
	// characters) are 1-based.
	Offset, Line, Column int
}

// Error returns the message with the line and column.
func (e *Error) Error() string {
	return fmt.Sprintf("%s at line %d, column %d", e.Message, e.Line, e.Column)
}

// errorAt builds an Error at offset of script.
func errorAt(script string, offset int, format string, args ...any) *Error {
	line, col := LineColumn(script, offset)
	return &Error{Message: fmt.Sprintf(format, args...), Offset: offset, Line: line, Column: col}
}

// LineColumn turns a byte offset into a 1-based line and a 1-based column
// counted in characters.
func LineColumn(script string, offset int) (line, col int) {
	offset = min(max(offset, 0), len(script))
	head := script[:offset]
	lineStart := strings.LastIndexByte(head, '\n') + 1
	return strings.Count(head, "\n") + 1, utf8.RuneCountInString(head[lineStart:]) + 1
}

// lexer reads the tokens of src, whose offsets start at base in the script.
type lexer struct {
	script string // the whole script, for error positions
	src    string
	base   int
	pos    int
}

// Tokens returns the tokens of text, which starts at byte offset base of
// script (pass script itself and 0 for a whole script). An unterminated
// string, identifier or comment is an *Error.
func Tokens(script, text string, base int) ([]Token, error) {
	l := &lexer{script: script, src: text, base: base}
	var out []Token
	for {
		t, ok, err := l.next()
		if err != nil {
			return out, err
		}
		if !ok {
			return out, nil
		}
		out = append(out, t)
	}
}

// next returns the next token; ok is false at the end.
func (l *lexer) next() (Token, bool, error) {
	for l.pos < len(l.src) && isSpace(l.src[l.pos]) {
		l.pos++
	}
	if l.pos >= len(l.src) {
		return Token{}, false, nil
	}
	start := l.pos
	end, kind, err := l.scan()
	if err != nil {
		return Token{}, false, err
	}
	l.pos = end
	return Token{Kind: kind, Text: l.src[start:end], Offset: l.base + start}, true, nil
}

// scan finds the end of the token at l.pos and its kind.
func (l *lexer) scan() (int, Kind, error) {
	s, i := l.src, l.pos
	c := s[i]
	switch {
	case c == '\'':
		end, err := l.quoted(i, '\'', "string")
		return end, String, err
	case (c == 'N' || c == 'n') && i+1 < len(s) && s[i+1] == '\'':
		end, err := l.quoted(i+1, '\'', "string")
		if err != nil {
			err = errorAt(l.script, l.base+i, "unterminated string")
		}
		return end, String, err
	case c == '"':
		end, err := l.quoted(i, '"', "quoted identifier")
		return end, Ident, err
	case c == '[':
		end, err := l.quoted(i, ']', "bracketed name")
		return end, Ident, err
	case c == '-' && strings.HasPrefix(s[i:], "--"):
		end := strings.IndexByte(s[i:], '\n')
		if end < 0 {
			return len(s), Comment, nil
		}
		return i + end, Comment, nil
	case c == '/' && strings.HasPrefix(s[i:], "/*"):
		end, err := l.blockComment(i)
		return end, Comment, err
	case c == '@':
		return i + 1 + wordLen(s[i+1:]), Var, nil
	case isDigit(c) || (c == '.' && i+1 < len(s) && isDigit(s[i+1])):
		return i + numberLen(s[i:]), Number, nil
	case isWordStart(c):
		return i + wordLen(s[i:]), Word, nil
	}
	_, size := utf8.DecodeRuneInString(s[i:])
	return i + size, Punct, nil
}

// quoted finds the end of a quoted token opened at i, where a doubled
// closing quote stands for itself.
func (l *lexer) quoted(i int, closing byte, what string) (int, error) {
	s := l.src
	for j := i + 1; j < len(s); j++ {
		if s[j] != closing {
			continue
		}
		if j+1 < len(s) && s[j+1] == closing {
			j++
			continue
		}
		return j + 1, nil
	}
	return 0, errorAt(l.script, l.base+i, "unterminated %s", what)
}

// blockComment finds the end of the /* comment at i; block comments nest.
func (l *lexer) blockComment(i int) (int, error) {
	s, depth := l.src, 0
	for j := i; j+1 < len(s); j++ {
		switch {
		case s[j] == '/' && s[j+1] == '*':
			depth++
			j++
		case s[j] == '*' && s[j+1] == '/':
			depth--
			j++
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, errorAt(l.script, l.base+i, "unterminated comment (/* without its */; block comments nest in T-SQL)")
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isWordStart reports whether c starts a word: a letter, _, # (temporary
// tables) or any non-ASCII byte.
func isWordStart(c byte) bool {
	return c == '_' || c == '#' || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80
}

// wordLen is the length of the word at the start of s.
func wordLen(s string) int {
	n := 0
	for n < len(s) && (isWordStart(s[n]) || isDigit(s[n]) || s[n] == '$' || s[n] == '@') {
		n++
	}
	return n
}

// numberLen is the length of the number at the start of s (digits, a
// point, an exponent, hex 0x...).
func numberLen(s string) int {
	n := 0
	for n < len(s) && (isDigit(s[n]) || s[n] == '.' || s[n] == 'x' || s[n] == 'X' ||
		(s[n]|0x20 >= 'a' && s[n]|0x20 <= 'f') || ((s[n] == '+' || s[n] == '-') && n > 0 && s[n-1]|0x20 == 'e')) {
		n++
	}
	return n
}
