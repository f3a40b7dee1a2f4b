package tsql

import (
	"strconv"
	"strings"
)

// Script is a script cut into batches.
type Script struct {
	Batches []Batch
	// Comments are every comment of the script, in order.
	Comments []Token
}

// Batch is the text between two GO lines, sent to the server as one
// request. Offset and End are its byte span in the script.
type Batch struct {
	Offset, End int
	Text        string
	// Repeat is the GO line's count (GO 5 runs the batch five times); 1
	// when the line has none or the batch ends the script.
	Repeat int
	// Tokens are the batch's tokens without its comments.
	Tokens     []Token
	Statements []Statement
}

// Statement is one statement of a batch: Offset and End are its byte span
// in the script, Text that span (without a closing semicolon).
type Statement struct {
	Offset, End int
	Text        string
	Tokens      []Token
}

// Split cuts script into batches on GO lines and each batch into
// statements. A GO line is a line holding only GO (any case), optionally
// followed by a repeat count and a -- comment; GO inside a string, a
// quoted or bracketed name or a comment is text, as is GO with anything
// else on its line. Batches and statements without a token are left out.
// Split fails with an *Error on an unterminated string, identifier,
// bracketed name or comment, or an unbalanced parenthesis.
func Split(script string) (Script, error) {
	toks, err := Tokens(script, script, 0)
	if err != nil {
		return Script{}, err
	}
	var out Script
	start, first := 0, 0
	for i := 0; i < len(toks); i++ {
		if toks[i].Kind == Comment {
			out.Comments = append(out.Comments, toks[i])
		}
		repeat, last, ok := goLine(script, toks, i)
		if !ok {
			continue
		}
		if err := out.add(script, start, toks[i].Offset, toks[first:i], repeat); err != nil {
			return Script{}, err
		}
		for j := i + 1; j <= last; j++ {
			if toks[j].Kind == Comment {
				out.Comments = append(out.Comments, toks[j])
			}
		}
		i = last
		start, first = lineEnd(script, toks[last].Offset+len(toks[last].Text)), last+1
	}
	if err := out.add(script, start, len(script), toks[first:], 1); err != nil {
		return Script{}, err
	}
	return out, nil
}

// goLine reports whether toks[i] is a GO separator: the first token of its
// line, followed on that line only by a count and a line comment. It
// returns the count and the index of the line's last token.
func goLine(script string, toks []Token, i int) (repeat, last int, ok bool) {
	t := toks[i]
	if !t.Is("GO") || !lineStartsAt(script, t.Offset) {
		return 0, 0, false
	}
	repeat, last = 1, i
	if j := last + 1; j < len(toks) && toks[j].Kind == Number && sameLine(script, t.Offset, toks[j].Offset) {
		n, err := strconv.Atoi(toks[j].Text)
		if err != nil || n < 1 {
			return 0, 0, false
		}
		repeat, last = n, j
	}
	if j := last + 1; j < len(toks) && sameLine(script, t.Offset, toks[j].Offset) {
		if toks[j].Kind != Comment || !strings.HasPrefix(toks[j].Text, "--") {
			return 0, 0, false
		}
		last = j
	}
	return repeat, last, true
}

// lineStartsAt reports whether only blanks precede offset on its line.
func lineStartsAt(script string, offset int) bool {
	lineStart := strings.LastIndexByte(script[:offset], '\n') + 1
	return strings.TrimSpace(script[lineStart:offset]) == ""
}

// sameLine reports whether no newline lies between a and b.
func sameLine(script string, a, b int) bool { return !strings.Contains(script[a:b], "\n") }

// lineEnd is the offset just past the newline that ends the line at offset.
func lineEnd(script string, offset int) int {
	if i := strings.IndexByte(script[offset:], '\n'); i >= 0 {
		return offset + i + 1
	}
	return len(script)
}

// add appends the batch of script[start:end] with its tokens, unless it
// has none.
func (s *Script) add(script string, start, end int, toks []Token, repeat int) error {
	var code []Token
	for _, t := range toks {
		if t.Kind != Comment {
			code = append(code, t)
		}
	}
	if len(code) == 0 {
		return nil
	}
	if err := checkParens(script, code); err != nil {
		return err
	}
	b := Batch{Offset: start, End: end, Text: script[start:end], Repeat: repeat, Tokens: code}
	b.Statements = statements(script, code)
	s.Batches = append(s.Batches, b)
	return nil
}

// checkParens reports the first ')' without its '(' or the first '(' left
// open at the end of a batch.
func checkParens(script string, toks []Token) error {
	var open []int
	for _, t := range toks {
		switch {
		case t.Kind == Punct && t.Text == "(":
			open = append(open, t.Offset)
		case t.Kind == Punct && t.Text == ")" && len(open) == 0:
			return errorAt(script, t.Offset, "')' without its '('")
		case t.Kind == Punct && t.Text == ")":
			open = open[:len(open)-1]
		}
	}
	if len(open) > 0 {
		return errorAt(script, open[0], "'(' never closed in its batch")
	}
	return nil
}
