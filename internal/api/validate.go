package api

import (
	"context"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// ValidateRequest is the body of POST /api/v1/migrations/{id}/validate.
// Validation never changes anything, so DryRun is accepted as the
// reference shows it and has no other effect.
type ValidateRequest struct {
	DryRun bool `json:"dryRun"`
}

// ValidationIssue is one error or warning of a validation.
type ValidationIssue struct {
	Message        string `json:"message"`
	Recommendation string `json:"recommendation,omitempty"`
	// Rule is the lint rule or catalog check that raised it
	// (e.g. require-concurrent-index-creation, missing-table).
	Rule   string `json:"rule,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// Object is the table or index it is about.
	Object string `json:"object,omitempty"`
}

// DependencyCheck is what the script touches and what it would collide with.
type DependencyCheck struct {
	HasConflicts bool `json:"hasConflicts"`
	// AffectedObjects are the tables and indexes the script touches, with
	// what the catalog says of them ("table orders (about 300000 rows, 42 MB)").
	AffectedObjects []string `json:"affectedObjects"`
	// Conflicts name the running executions and the other pending
	// migrations of the database that touch the same tables.
	Conflicts []string `json:"conflicts,omitempty"`
}

// ValidateResponse answers a validation. With Live, the objects were looked
// up in the catalog of the database's master through its agent and the
// findings re-ranked by table size; without, it is the static lint alone
// and LiveReason says why.
type ValidateResponse struct {
	IsValid  bool              `json:"isValid"`
	Errors   []ValidationIssue `json:"errors"`
	Warnings []ValidationIssue `json:"warnings"`
	// EstimatedDuration is an estimate in seconds, from the size of the
	// tables the statements scan, build or rewrite (0 when not live).
	EstimatedDuration int             `json:"estimatedDuration"`
	DependencyCheck   DependencyCheck `json:"dependencyCheck"`

	Live       bool   `json:"live"`
	LiveReason string `json:"liveReason,omitempty"`
	// Instance is the agent/instance whose catalog was read.
	Instance     string               `json:"instance,omitempty"`
	ComputedRisk domain.RiskLevel     `json:"computedRisk,omitempty"`
	Findings     []domain.LintFinding `json:"findings"`
	// Relations are the catalog's facts about the objects touched.
	Relations []domain.RelationFacts `json:"relations,omitempty"`
	// FreeDiskBytes is the free space of the master's data directory
	// (domain.UnknownSize: unknown); RequiredDiskBytes an estimate of what
	// the script's rewrites and builds need.
	FreeDiskBytes     int64 `json:"freeDiskBytes"`
	RequiredDiskBytes int64 `json:"requiredDiskBytes"`
	// MaxReplicationLagSeconds is the largest lag the replicas report.
	MaxReplicationLagSeconds float64 `json:"maxReplicationLagSeconds"`
	// Statements says, for each statement of the script, what it does to
	// the table: its lock, whether it runs in a transaction, the work on
	// the rows and an estimated duration from the table's size.
	Statements []StatementReport `json:"statements"`
	// TransactionNote says why not every statement runs inside the step's
	// transaction ("" when all do).
	TransactionNote string `json:"transactionNote,omitempty"`
}

// StatementReport is what one statement of a script does, as the linter
// and the live catalog tell.
type StatementReport struct {
	Index int    `json:"index"` // 1-based
	SQL   string `json:"sql"`
	// Table is the table it works on, when it names one.
	Table string `json:"table,omitempty"`
	// Lock is the table lock it takes ("" when the linter knows of none
	// worth naming), LockHeld how long.
	Lock     string `json:"lock,omitempty"`
	LockHeld string `json:"lockHeld,omitempty"`
	// InTransaction: it runs inside the step's transaction, so a failure
	// undoes it; false when it cannot (CONCURRENTLY, or an engine whose
	// DDL commits by itself).
	InTransaction bool `json:"inTransaction"`
	// Work is what it does to the rows: none, scan, build, rewrite, copy,
	// rebuild, dml or delete.
	Work string `json:"work"`
	// TableBytes and TableRows are the live table's size (-1: unknown).
	TableBytes int64 `json:"tableBytes"`
	TableRows  int64 `json:"tableRows"`
	// EstimatedSeconds is an estimate from the table's size and the
	// work (see docs), -1 when the table's size is unknown.
	EstimatedSeconds float64 `json:"estimatedSeconds"`
}

// ValidateMigration validates a migration against its database: the
// script's findings, the objects it touches in the live catalog, disk,
// replica lag and an estimated duration. Nothing is changed.
func (c *Client) ValidateMigration(ctx context.Context, id string, req ValidateRequest) (ValidateResponse, error) {
	var r ValidateResponse
	return r, c.postOne(ctx, "migrations", id, "/validate", req, &r)
}
