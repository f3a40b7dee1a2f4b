// Package offline lints migration files with no server, the library
// behind `hotswap lint`: it picks the engine's linter, reports findings
// as text or JSON with the computed risk per file, and says whether any
// file has a hazard.
package offline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
	"github.com/hotswap-db/hotswap/internal/lint/mysql"
	"github.com/hotswap-db/hotswap/internal/lint/postgres"
)

// ErrUnknownEngine is returned for an engine name Lint does not know.
var ErrUnknownEngine = errors.New("offline: unknown engine (want postgresql or mysql)")

// Options are the flags of a run.
type Options struct {
	Engine        string // "postgresql" (default) or "mysql"/"mariadb"
	TargetVersion string // e.g. "15", "8.0.23", "MariaDB 10.11"; empty: the file's -- target: line
}

// File is one file's verdict.
type File struct {
	Name   string
	Result lint.Result
}

// Lint lints each named script. read returns a file's contents.
func Lint(opts Options, names []string, read func(name string) ([]byte, error)) ([]File, error) {
	fn, flavor, err := engine(opts.Engine)
	if err != nil {
		return nil, err
	}
	var lo lint.Options
	if opts.TargetVersion != "" {
		t, err := lint.ParseTarget(opts.TargetVersion)
		if err != nil {
			return nil, fmt.Errorf("offline: --target-version: %w", err)
		}
		if t.Flavor == "" {
			t.Flavor = flavor
		}
		lo.Target = t
	}
	out := make([]File, 0, len(names))
	for _, n := range names {
		b, err := read(n)
		if err != nil {
			return nil, fmt.Errorf("offline: read %s: %w", n, err)
		}
		r, err := fn(string(b), lo)
		if err != nil {
			return nil, fmt.Errorf("offline: %s: %w", n, err)
		}
		out = append(out, File{Name: n, Result: r})
	}
	return out, nil
}

func engine(name string) (func(string, lint.Options) (lint.Result, error), lint.Flavor, error) {
	switch strings.ToLower(name) {
	case "", "postgresql", "postgres", strings.ToLower(string(domain.PostgreSQL)):
		return postgres.Lint, lint.FlavorPostgreSQL, nil
	case "mysql":
		return mysql.Lint, lint.FlavorMySQL, nil
	case "mariadb":
		return mysql.Lint, lint.FlavorMariaDB, nil
	}
	return nil, "", fmt.Errorf("%w: %q", ErrUnknownEngine, name)
}

// Flagged reports whether any file has a warning or an error: the CLI
// exits 1 then.
func Flagged(files []File) bool {
	for _, f := range files {
		if f.Result.Flagged() {
			return true
		}
	}
	return false
}

// JSONFinding is one finding in the JSON report.
type JSONFinding struct {
	File     string `json:"file"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Message  string `json:"message"`
	Rewrite  string `json:"rewrite,omitempty"`
}

// JSONFile is one file's computed risk in the JSON report.
type JSONFile struct {
	File string           `json:"file"`
	Risk domain.RiskLevel `json:"risk"`
}

// JSONReport is the `-o json` output.
type JSONReport struct {
	Findings []JSONFinding `json:"findings"`
	Files    []JSONFile    `json:"files"`
}

// Report builds the JSON report of a run.
func Report(files []File) JSONReport {
	rep := JSONReport{Findings: []JSONFinding{}, Files: []JSONFile{}}
	for _, f := range files {
		rep.Files = append(rep.Files, JSONFile{File: f.Name, Risk: f.Result.Risk})
		for _, x := range f.Result.Findings {
			rep.Findings = append(rep.Findings, JSONFinding{File: f.Name, Rule: x.Rule, Severity: string(x.Severity),
				Line: x.Line, Column: x.Column, Message: x.Message, Rewrite: x.Rewrite})
		}
	}
	return rep
}

// WriteJSON writes the JSON report.
func WriteJSON(w io.Writer, files []File) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(Report(files))
}

// WriteText writes findings as "file:line:column: severity rule: message",
// each rewrite indented below it, and the risk of each file.
func WriteText(w io.Writer, files []File) error {
	var b strings.Builder
	for _, f := range files {
		for _, x := range f.Result.Findings {
			fmt.Fprintf(&b, "%s:%d:%d: %s %s: %s\n", f.Name, x.Line, x.Column, x.Severity, x.Rule, x.Message)
			if x.Rewrite != "" {
				b.WriteString("    safe rewrite:\n")
				for _, line := range strings.Split(x.Rewrite, "\n") {
					b.WriteString("      " + line + "\n")
				}
			}
		}
		for _, x := range f.Result.Ignored {
			fmt.Fprintf(&b, "%s:%d:%d: ignored %s: %s\n", f.Name, x.Line, x.Column, x.Rule, x.IgnoreReason)
		}
		fmt.Fprintf(&b, "%s: risk %s (%s)\n", f.Name, f.Result.Risk, f.Result.Target)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
