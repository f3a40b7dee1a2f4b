package lint

import (
	"fmt"
	"strings"
)

// IgnoreDirective is the marker of an inline ignore comment:
//
//	-- hotswap:ignore rule-id[,rule-id] reason
//
// It silences the named rules on the statement that follows the comment, or
// on the statement the comment trails on the same line. A reason is
// required and kept with the silenced finding.
const IgnoreDirective = "hotswap:ignore"

// RuleIgnoreWithoutReason is the advisory for an ignore comment that gives
// no reason (and so silences nothing).
const RuleIgnoreWithoutReason = "ignore-without-reason"

// Comment is one comment of a script as the engine's lexer found it.
type Comment struct {
	Offset int    // byte offset of its first character
	End    int    // byte offset just past it
	Text   string // the comment as written, markers included
}

// ignore is one parsed directive.
type ignore struct {
	rules  []string
	reason string
	stmt   int // 0-based statement index it applies to, -1 when none
	offset int
}

// parseIgnore reads a directive out of a comment.
func parseIgnore(c Comment) (ignore, bool) {
	body := strings.TrimSpace(c.Text)
	body = strings.TrimPrefix(body, "--")
	body = strings.TrimPrefix(body, "#")
	body = strings.TrimSuffix(strings.TrimPrefix(body, "/*"), "*/")
	rest, ok := strings.CutPrefix(strings.TrimSpace(body), IgnoreDirective)
	if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
		return ignore{}, false
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return ignore{offset: c.Offset, stmt: -1}, true
	}
	var rules []string
	for _, r := range strings.Split(fields[0], ",") {
		if r = strings.TrimSpace(r); r != "" {
			rules = append(rules, r)
		}
	}
	return ignore{rules: rules, reason: strings.Join(fields[1:], " "), offset: c.Offset, stmt: -1}, true
}

// target finds the statement a directive at comment c applies to.
func (ig *ignore) target(script string, c Comment, stmts []Statement) {
	for i, s := range stmts {
		if s.End <= c.Offset && s.End <= len(script) && !strings.Contains(script[s.End:c.Offset], "\n") {
			ig.stmt = i // trails statement i on its line
			return
		}
	}
	for i, s := range stmts {
		if s.Offset >= c.End {
			ig.stmt = i
			return
		}
	}
}

// applyIgnores moves the findings silenced by directives or options into
// the ignored list, and adds an advisory for each directive without reason.
func applyIgnores(script string, comments []Comment, stmts []Statement, findings []Finding, opts Options) (kept, ignored, notes []Finding) {
	perStmt := map[int]map[string]string{}
	for _, c := range comments {
		ig, ok := parseIgnore(c)
		if !ok {
			continue
		}
		ig.target(script, c, stmts)
		if ig.reason == "" || len(ig.rules) == 0 {
			notes = append(notes, Finding{Rule: RuleIgnoreWithoutReason, Severity: Info, Statement: ig.stmt + 1,
				Message: fmt.Sprintf("%s needs a rule id and a reason (\"-- %s rule-id why\"); it silences nothing", IgnoreDirective, IgnoreDirective)})
			continue
		}
		if ig.stmt < 0 {
			continue
		}
		if perStmt[ig.stmt] == nil {
			perStmt[ig.stmt] = map[string]string{}
		}
		for _, r := range ig.rules {
			perStmt[ig.stmt][r] = ig.reason
		}
	}
	for _, f := range findings {
		reason, ok := opts.Ignore[f.Rule]
		if r, inline := perStmt[f.Statement-1][f.Rule]; inline {
			reason, ok = r, true
		}
		if ok {
			f.IgnoreReason = reason
			ignored = append(ignored, f)
			continue
		}
		kept = append(kept, f)
	}
	return kept, ignored, notes
}
