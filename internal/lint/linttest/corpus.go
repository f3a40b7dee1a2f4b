// Package linttest runs an engine's linter over a corpus of migration
// scripts: each file says in its header which rules it must raise and the
// risk it must get, and every rewrite the linter suggests is linted again
// and must come back clean.
package linttest

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
)

// LintFunc is an engine's linter.
type LintFunc func(script string, opts lint.Options) (lint.Result, error)

// Case is one corpus file.
type Case struct {
	Name   string   // path under the corpus root, e.g. "unsafe/add_index.sql"
	Kind   string   // "unsafe", "safe" or "bait": the folder it sits in
	Script string   // the whole file
	Expect []string // hazard rules it must raise, sorted
	Risk   domain.RiskLevel
	Setup  string // SQL that creates what the script assumes exists
}

// Load reads every *.sql under root/{unsafe,safe,bait}.
func Load(t *testing.T, root string) []Case {
	t.Helper()
	var cases []Case
	for _, kind := range []string{"unsafe", "safe", "bait"} {
		files, err := filepath.Glob(filepath.Join(root, kind, "*.sql"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c := parseHeader(string(b))
			c.Name, c.Kind = kind+"/"+filepath.Base(f), kind
			if c.Risk == "" {
				t.Fatalf("%s: no -- risk: header", c.Name)
			}
			cases = append(cases, c)
		}
	}
	if len(cases) == 0 {
		t.Fatalf("no corpus under %s", root)
	}
	return cases
}

func parseHeader(script string) Case {
	c := Case{Script: script}
	var setup []string
	for _, line := range strings.Split(script, "\n") {
		body, ok := strings.CutPrefix(strings.TrimSpace(line), "--")
		if !ok {
			continue
		}
		key, val, ok := strings.Cut(strings.TrimSpace(body), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch key {
		case "expect":
			for _, r := range strings.FieldsFunc(val, func(r rune) bool { return r == ',' || r == ' ' }) {
				if r != "none" {
					c.Expect = append(c.Expect, r)
				}
			}
		case "risk":
			c.Risk = domain.RiskLevel(val)
		case "setup":
			setup = append(setup, val)
		}
	}
	sort.Strings(c.Expect)
	c.Setup = strings.Join(setup, "\n")
	return c
}

// Hazards lists the distinct rules of a result's warnings and errors, sorted.
func Hazards(r lint.Result) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Severity.Hazard() && !slices.Contains(out, f.Rule) {
			out = append(out, f.Rule)
		}
	}
	sort.Strings(out)
	return out
}

// Fixed is the script with each flagged statement replaced by the rewrite
// of its first hazard.
func Fixed(script string, r lint.Result) string {
	rewrite := map[int]string{}
	for _, f := range r.Findings {
		if _, ok := rewrite[f.Statement]; !ok && f.Severity.Hazard() && f.Rewrite != "" {
			rewrite[f.Statement] = f.Rewrite
		}
	}
	var b strings.Builder
	pos := 0
	for _, s := range r.Statements {
		w, ok := rewrite[s.Index]
		if !ok {
			continue
		}
		b.WriteString(script[pos:s.Offset])
		b.WriteString(strings.TrimSuffix(strings.TrimSpace(w), ";"))
		pos = s.End
	}
	b.WriteString(script[pos:])
	return b.String()
}

// Run checks every case: the rules raised, the risk, a rewrite on every
// hazard of an unsafe script, and that the fixed script lints clean. It
// returns the fixed scripts of the unsafe cases by name.
func Run(t *testing.T, cases []Case, fn LintFunc) map[string]string {
	t.Helper()
	fixed := map[string]string{}
	for _, c := range cases {
		r, err := fn(c.Script, lint.Options{})
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if unparsed(r) {
			t.Errorf("%s: a statement does not parse\n%s", c.Name, describe(r))
		}
		got := Hazards(r)
		if !slices.Equal(got, c.Expect) {
			t.Errorf("%s: hazards = %v, want %v\n%s", c.Name, got, c.Expect, describe(r))
		}
		if r.Risk != c.Risk {
			t.Errorf("%s: risk = %s, want %s", c.Name, r.Risk, c.Risk)
		}
		if c.Kind != "unsafe" {
			continue
		}
		if len(c.Expect) == 0 {
			t.Errorf("%s: an unsafe case must expect a rule", c.Name)
		}
		if r.Risk == domain.RiskLow {
			t.Errorf("%s: an unsafe script is rated Low", c.Name)
		}
		for _, f := range r.Findings {
			if f.Severity.Hazard() && f.Rewrite == "" {
				t.Errorf("%s: %s at line %d has no rewrite", c.Name, f.Rule, f.Line)
			}
		}
		fix := Fixed(c.Script, r)
		fr, err := fn(fix, lint.Options{})
		if err != nil {
			t.Errorf("%s: the fixed script does not parse: %v\n%s", c.Name, err, fix)
			continue
		}
		if unparsed(fr) {
			t.Errorf("%s: the fixed script does not parse\n%s\n%s", c.Name, fix, describe(fr))
		}
		if h := Hazards(fr); len(h) > 0 {
			t.Errorf("%s: the fixed script still raises %v\n%s\n%s", c.Name, h, fix, describe(fr))
		}
		fixed[c.Name] = fix
	}
	return fixed
}

func describe(r lint.Result) string {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString("  " + string(f.Severity) + " " + f.Rule + ": " + f.Message + "\n")
	}
	return b.String()
}

// unparsed reports whether the linter could not parse a statement.
func unparsed(r lint.Result) bool {
	return slices.ContainsFunc(r.Findings, func(f lint.Finding) bool { return f.Rule == "unparsed-statement" })
}
