package lint

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Input is what an engine's linter found in a script, before the
// engine-neutral steps of Assemble.
type Input struct {
	Target     Target
	Statements []Statement // Offset, End, SQL and Class set
	Findings   []Finding   // Statement set; Line and Column filled by Assemble
	Comments   []Comment
	Objects    []Object // the objects the script touches, when known
}

// Assemble turns an engine's raw findings into a Result: positions are
// filled in, size-dependent findings re-ranked by opts.Catalog, ignores
// applied, findings sorted by position and the risk computed.
func Assemble(script string, in Input, opts Options) Result {
	stmts := slices.Clone(in.Statements)
	for i := range stmts {
		stmts[i].Index = i + 1
		stmts[i].Line, stmts[i].Column = LineColumn(script, stmts[i].Offset)
	}
	findings := make([]Finding, 0, len(in.Findings))
	for _, f := range in.Findings {
		if f.Statement >= 1 && f.Statement <= len(stmts) {
			f.Line, f.Column = stmts[f.Statement-1].Line, stmts[f.Statement-1].Column
		}
		findings = append(findings, rerank(f, opts.Catalog))
	}
	kept, ignored, notes := applyIgnores(script, in.Comments, stmts, findings, opts)
	kept = append(kept, notes...)
	sortFindings(kept)
	sortFindings(ignored)
	return Result{
		Target:     in.Target,
		Findings:   kept,
		Ignored:    ignored,
		Statements: stmts,
		Risk:       ComputeRisk(stmts, kept, ignored),
		Objects:    in.Objects,
	}
}

// rerank turns a size-dependent hazard on a table the catalog reports as
// small into an advisory.
func rerank(f Finding, cat Catalog) Finding {
	if cat == nil || !f.SizeDependent || !f.Severity.Hazard() || f.Table == "" {
		return f
	}
	schema, name := SplitName(f.Table)
	info, ok := cat.Table(schema, name)
	if !ok || info.Rows > SmallTableRows || info.Bytes > SmallTableBytes {
		return f
	}
	f.Severity = Info
	f.Class = ClassNone
	f.Message += fmt.Sprintf(" (%s holds about %d rows in %d bytes: brief)", f.Table, info.Rows, info.Bytes)
	return f
}

func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Statement, b.Statement), cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)))
	})
}

func severityRank(s Severity) int {
	switch s {
	case Error:
		return 0
	case Warning:
		return 1
	default:
		return 2
	}
}

// SplitName splits "schema.table" into its parts; "table" has no schema.
func SplitName(qualified string) (schema, name string) {
	if i := strings.LastIndexByte(qualified, '.'); i >= 0 {
		return qualified[:i], qualified[i+1:]
	}
	return "", qualified
}

// LineColumn turns a byte offset in script into a 1-based line and a
// 1-based column counted in characters.
func LineColumn(script string, offset int) (line, col int) {
	offset = min(max(offset, 0), len(script))
	head := script[:offset]
	line = strings.Count(head, "\n") + 1
	lineStart := strings.LastIndexByte(head, '\n') + 1
	return line, utf8.RuneCountInString(head[lineStart:]) + 1
}
