// Package validation judges a migration against its live database: the
// engine's lint findings re-ranked by the size of the tables they touch,
// the objects the script creates, changes and drops checked against the
// master's catalog (a name already taken, a missing table, a duplicate
// index), free disk against the rewrites and builds, replica lag, and a
// duration estimated from table sizes. It does no I/O: the API gathers the
// catalog facts through the agent and hands them in.
package validation

import (
	"fmt"
	"strings"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
)

// Input is what one validation judges.
type Input struct {
	// Result is the script's lint: with the catalog when Facts is set
	// (see Catalog), else static.
	Result lint.Result
	// Facts is the master's catalog, nil when it could not be read.
	Facts *domain.CatalogFacts
	// Replicas are the database's other instances, with their lag.
	Replicas []Replica
	// MaxLagSeconds is the replica lag over which a warning is raised.
	MaxLagSeconds float64
	// Conflicts are the executions and migrations the change collides with.
	Conflicts []string
	// Engine is the database's engine: it says which statements run in a
	// transaction.
	Engine domain.DatabaseType
}

// Replica is one replica's reported lag.
type Replica struct {
	Name       string
	LagSeconds float64
}

// Relations lists the names to look up in the catalog for r: the tables
// and indexes the script touches and the tables of its findings.
func Relations(r lint.Result) []domain.ObjectName {
	seen := map[domain.ObjectName]bool{}
	var out []domain.ObjectName
	add := func(qualified string) {
		if qualified == "" {
			return
		}
		schema, name := lint.SplitName(qualified)
		n := domain.ObjectName{Schema: schema, Name: name}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, o := range r.Objects {
		add(o.Name)
		add(o.Table)
	}
	for _, f := range r.Findings {
		add(f.Table)
	}
	return out
}

// Judge builds the answer of a validation.
func Judge(in Input) api.ValidateResponse {
	resp := api.ValidateResponse{Errors: []api.ValidationIssue{}, Warnings: []api.ValidationIssue{},
		Live: in.Facts != nil, ComputedRisk: in.Result.Risk, Findings: lint.Records(in.Result.Findings),
		FreeDiskBytes: domain.UnknownSize, DependencyCheck: api.DependencyCheck{AffectedObjects: []string{}}}
	if resp.Findings == nil {
		resp.Findings = []domain.LintFinding{}
	}
	for _, f := range in.Result.Findings {
		issue := findingIssue(f)
		switch f.Severity {
		case lint.Error:
			resp.Errors = append(resp.Errors, issue)
		case lint.Warning:
			resp.Warnings = append(resp.Warnings, issue)
		}
	}
	cat := newCatalog(in.Facts)
	resp.Statements, resp.TransactionNote = statementReports(in.Result, cat, in.Engine)
	if in.Facts != nil {
		resp.Relations = in.Facts.Relations
		resp.FreeDiskBytes = in.Facts.FreeDiskBytes
		sim := simulate(in.Result.Objects, cat)
		resp.Errors = append(resp.Errors, sim.errors...)
		resp.Warnings = append(resp.Warnings, sim.warnings...)
		resp.DependencyCheck.AffectedObjects = sim.affected
		w := estimateWork(in.Result, cat)
		resp.EstimatedDuration, resp.RequiredDiskBytes = w.seconds, w.diskBytes
		resp.Warnings = append(resp.Warnings, w.queueing...)
		resp.Errors, resp.Warnings = checkDisk(resp.Errors, resp.Warnings, w.diskBytes, in.Facts.FreeDiskBytes)
	}
	resp.Warnings = append(resp.Warnings, lagWarnings(in.Replicas, in.MaxLagSeconds, &resp.MaxReplicationLagSeconds)...)
	resp.DependencyCheck.Conflicts = in.Conflicts
	resp.DependencyCheck.HasConflicts = len(in.Conflicts) > 0
	resp.IsValid = len(resp.Errors) == 0
	return resp
}

// findingIssue turns a finding into an issue whose recommendation is its
// safe rewrite.
func findingIssue(f lint.Finding) api.ValidationIssue {
	rec := fmt.Sprintf("if this is intended, say why with `-- %s %s <reason>` above the statement", lint.IgnoreDirective, f.Rule)
	if f.Rewrite != "" {
		rec = "run instead:\n" + f.Rewrite
	}
	msg := f.Message
	if f.Effect.Lock != "" {
		msg += fmt.Sprintf(" (%s lock, held %s)", f.Effect.Lock, f.Effect.Duration)
	}
	return api.ValidationIssue{Message: msg, Recommendation: rec, Rule: f.Rule, Line: f.Line, Column: f.Column, Object: f.Table}
}

// lagWarnings warns about replicas lagging more than max.
func lagWarnings(replicas []Replica, max float64, top *float64) []api.ValidationIssue {
	var out []api.ValidationIssue
	for _, r := range replicas {
		*top = maxf(*top, r.LagSeconds)
		if max > 0 && r.LagSeconds > max {
			out = append(out, api.ValidationIssue{Rule: "replica-lag", Object: r.Name,
				Message:        fmt.Sprintf("replica %s lags %.1fs behind (over %.0fs): the change reaches it late", r.Name, r.LagSeconds, max),
				Recommendation: "wait for the replica to catch up; a rollout pauses while a replica lags this much"})
		}
	}
	return out
}

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

// checkDisk compares the space the rewrites and builds need with the free
// space: short is an error, more than half of it a warning.
func checkDisk(errs, warns []api.ValidationIssue, need, free int64) ([]api.ValidationIssue, []api.ValidationIssue) {
	if need <= 0 || free == domain.UnknownSize {
		return errs, warns
	}
	issue := api.ValidationIssue{Rule: "disk-space",
		Message: fmt.Sprintf("the rewrites and index builds need about %s; %s is free on the data directory's file system",
			bytesText(need), bytesText(free)),
		Recommendation: "free disk space first, or split the migration so each rewrite can reclaim its space before the next"}
	switch {
	case need > free:
		errs = append(errs, issue)
	case need > free/2:
		warns = append(warns, issue)
	}
	return errs, warns
}

// bytesText prints a size in the nearest binary unit.
func bytesText(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f, i := float64(n), 0
	for f >= 1024 && i < len(units)-1 {
		f, i = f/1024, i+1
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", f), ".0") + " " + units[i]
}
