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
	"github.com/hotswap-db/hotswap/internal/lint/oracle"
	"github.com/hotswap-db/hotswap/internal/lint/postgres"
	"github.com/hotswap-db/hotswap/internal/lint/sqlserver"
)

// ErrUnknownEngine is returned for an engine name Lint does not know.
var ErrUnknownEngine = errors.New("offline: unknown engine (want postgresql, mysql, mariadb, sqlserver or oracle)")

// ErrTargetVersion is returned for a target version Lint cannot read.
var ErrTargetVersion = errors.New("offline: bad --target-version")

// Options are the flags of a run.
type Options struct {
	Engine        string // "postgresql" (default), "mysql"/"mariadb", "sqlserver" or "oracle"
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
			return nil, fmt.Errorf("%w: %w", ErrTargetVersion, err)
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
	case "sqlserver", "mssql", strings.ToLower(string(domain.SQLServer)):
		return sqlserver.Lint, sqlserver.Flavor, nil
	case "oracle":
		return oracle.Lint, oracle.FlavorOracle, nil
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

// RuleComputedRisk is the rule of the one entry per file that carries the
// file's computed risk in the JSON report (severity info: never a hazard).
const RuleComputedRisk = "computed-risk"

// JSONFinding is one entry of the JSON report: a finding of a file, with
// the file's computed risk, or the file's RuleComputedRisk entry.
type JSONFinding struct {
	File     string           `json:"file"`
	Rule     string           `json:"rule"`
	Severity string           `json:"severity"`
	Line     int              `json:"line"`
	Column   int              `json:"column"`
	Message  string           `json:"message"`
	Rewrite  string           `json:"rewrite,omitempty"`
	Risk     domain.RiskLevel `json:"risk"`
}

// Report builds the `-o json` output: a bare array with, for each file, its
// findings in order, then one RuleComputedRisk entry with its risk.
func Report(files []File) []JSONFinding {
	rep := []JSONFinding{}
	for _, f := range files {
		for _, x := range f.Result.Findings {
			rep = append(rep, JSONFinding{File: f.Name, Rule: x.Rule, Severity: string(x.Severity),
				Line: x.Line, Column: x.Column, Message: x.Message, Rewrite: x.Rewrite, Risk: f.Result.Risk})
		}
		rep = append(rep, JSONFinding{File: f.Name, Rule: RuleComputedRisk, Severity: string(lint.Info), Line: 1, Column: 1,
			Message: fmt.Sprintf("computed risk %s (%s)", f.Result.Risk, f.Result.Target), Risk: f.Result.Risk})
	}
	return rep
}

// WriteJSON writes the JSON report.
func WriteJSON(w io.Writer, files []File) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
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
