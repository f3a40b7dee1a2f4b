// Package lint judges a migration script before it runs: each engine's
// linter (lint/postgres, lint/mysql) walks its parser's syntax tree and
// reports Findings, and this package turns them into a Result with a
// computed risk level, inline ignores applied and, when a Catalog is given,
// the size-dependent findings re-ranked by the live size of their table.
// It is engine-neutral and does no I/O.
package lint

import "github.com/hotswap-db/hotswap/internal/domain"

// Severity says how bad a finding is.
type Severity string

// The severities, worst first.
const (
	// Error: the statement will fail or lose data.
	Error Severity = "error"
	// Warning: the statement blocks the table or rewrites it.
	Warning Severity = "warning"
	// Info: a style advisory, never a hazard.
	Info Severity = "info"
)

// Hazard reports whether s counts as a hazard (error or warning).
func (s Severity) Hazard() bool { return s == Error || s == Warning }

// Work is what a statement does to the table's data.
type Work string

// The kinds of work a statement can do.
const (
	WorkNone    Work = "none"    // catalog only
	WorkScan    Work = "scan"    // reads every row (validation, NOT NULL check)
	WorkBuild   Work = "build"   // builds an index
	WorkRewrite Work = "rewrite" // writes a new copy of the table in place
	WorkCopy    Work = "copy"    // copies the table row by row (MySQL ALGORITHM=COPY)
	WorkRebuild Work = "rebuild" // rebuilds the table online (MySQL INPLACE)
	WorkDML     Work = "dml"     // changes rows
	WorkDelete  Work = "delete"  // removes data for good
)

// Effect is what happens to the table while the statement runs.
type Effect struct {
	Lock     string `json:"lock,omitempty"`     // the lock taken, e.g. "ACCESS EXCLUSIVE"
	Duration string `json:"duration,omitempty"` // how long it is held, e.g. "until the build ends"
	Work     Work   `json:"work,omitempty"`     // what is done to the rows
}

// Finding is one hazard or advisory in a script.
type Finding struct {
	Rule      string   `json:"rule"`
	Severity  Severity `json:"severity"`
	Class     Class    `json:"class"`
	Statement int      `json:"statement"` // 1-based index into Result.Statements
	Line      int      `json:"line"`      // 1-based line of the statement
	Column    int      `json:"column"`    // 1-based column (in characters)
	Message   string   `json:"message"`
	Effect    Effect   `json:"effect"`
	// Rewrite is SQL that replaces the statement in place to reach the same
	// end safely; empty when there is none.
	Rewrite string `json:"rewrite,omitempty"`
	// Table is the table the finding is about, as written (schema.name).
	Table string `json:"table,omitempty"`
	// SizeDependent findings matter only on a table with many rows: a
	// Catalog that reports a small table turns them into advisories.
	SizeDependent bool `json:"sizeDependent,omitempty"`
	// IgnoreReason is the reason given by the hotswap:ignore comment or
	// option that silenced the finding (Result.Ignored only).
	IgnoreReason string `json:"ignoreReason,omitempty"`
}

// Statement is one statement of the script.
type Statement struct {
	Index  int    `json:"index"`  // 1-based
	Line   int    `json:"line"`   // 1-based line of its first token
	Column int    `json:"column"` // 1-based column of its first token
	SQL    string `json:"sql"`
	Class  Class  `json:"class"` // the operation class of the statement itself
	// Offset and End are the byte offsets of the statement in the script.
	Offset int `json:"-"`
	End    int `json:"-"`
}

// Result is the verdict on a whole script.
type Result struct {
	Target     Target           `json:"target"`
	Findings   []Finding        `json:"findings"`
	Ignored    []Finding        `json:"ignored,omitempty"`
	Statements []Statement      `json:"statements"`
	Risk       domain.RiskLevel `json:"risk"`
	// Objects are the tables and indexes the script touches, in order,
	// for a look-up in the live catalog; empty when the linter cannot say.
	Objects []Object `json:"objects,omitempty"`
}

// Flagged reports whether the result holds a warning or an error.
func (r Result) Flagged() bool {
	for _, f := range r.Findings {
		if f.Severity.Hazard() {
			return true
		}
	}
	return false
}

// Options tune a lint run.
type Options struct {
	// Target is the engine version to judge against. The zero value means
	// the script's `-- target:` first line, else the engine's default.
	Target Target
	// Ignore silences rules for the whole script: rule id -> reason.
	Ignore map[string]string
	// Catalog, when set, reports the live size of tables so findings that
	// only matter on large tables can be re-ranked.
	Catalog Catalog
}

// Catalog looks tables up in the live database.
type Catalog interface {
	// Table returns what is known of schema.name ("" schema: the default
	// one) and whether the table exists.
	Table(schema, name string) (TableInfo, bool)
}

// TableInfo is what a Catalog knows of a table.
type TableInfo struct {
	Rows    int64             // estimated row count
	Bytes   int64             // size on disk, indexes included
	Columns map[string]string // column name -> type as the engine prints it
}

// Thresholds under which a table is small enough for a size-dependent
// finding to be only an advisory.
const (
	SmallTableRows  = 10_000
	SmallTableBytes = 64 << 20
)
