package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"
)

// MaxScriptBytes is the largest forward or rollback script accepted (10 MB).
const MaxScriptBytes = 10 * 1024 * 1024

// Migration is a schema change: a forward script, its rollback, and how it
// should be rolled out.
type Migration struct {
	MigrationID       string          `json:"migrationId"`
	Name              string          `json:"name"`
	Description       string          `json:"description,omitempty"`
	TargetDatabaseID  string          `json:"targetDatabaseId"`
	MigrationScript   string          `json:"migrationScript"`
	RollbackScript    string          `json:"rollbackScript"`
	Strategy          Strategy        `json:"strategy"`
	Status            MigrationStatus `json:"status"`
	RiskLevel         RiskLevel       `json:"riskLevel"`
	RequiresApproval  bool            `json:"requiresApproval"`
	EstimatedDuration int             `json:"estimatedDuration,omitempty"`
	Dependencies      []string        `json:"dependencies"`
	Tags              []string        `json:"tags"`
	CreatedBy         string          `json:"createdBy"`
	CreatedAt         time.Time       `json:"createdAt"`
	UpdatedAt         time.Time       `json:"updatedAt"`
	// ComputedRisk is the risk the engine's linter computed from the
	// forward script; RiskLevel is never lower. Empty for an engine
	// without a linter on the control plane (and for migrations stored
	// before risk was computed).
	ComputedRisk RiskLevel `json:"computedRisk,omitempty"`
	// Findings are what the linter found in the forward script;
	// IgnoredFindings those an inline `-- hotswap:ignore rule reason`
	// comment silenced, each with its reason.
	Findings        []LintFinding `json:"findings,omitempty"`
	IgnoredFindings []LintFinding `json:"ignoredFindings,omitempty"`
	// RiskOverride is set when an Admin put RiskLevel below ComputedRisk,
	// with who, when and why.
	RiskOverride *RiskOverride `json:"riskOverride,omitempty"`

	// LockPolicy says how the steps treat the sessions holding the
	// tables their DDL needs.
	LockPolicy LockPolicy `json:"lockPolicy,omitzero"`

	// TraceContext is the W3C trace context of the migration.create span
	// (its parse, lint and risk checks): each execution's span links to it.
	TraceContext map[string]string `json:"traceContext,omitempty"`
}

// RiskOverride records a risk lowered below the computed one by an Admin.
type RiskOverride struct {
	By       string    `json:"by"`
	Reason   string    `json:"reason"`
	Computed RiskLevel `json:"computed"`
	At       time.Time `json:"at"`
}

// MigrationSpec is the writable part of a Migration: what POST and PUT take.
type MigrationSpec struct {
	Name              string    `json:"name"`
	Description       string    `json:"description,omitempty"`
	TargetDatabaseID  string    `json:"targetDatabaseId"`
	MigrationScript   string    `json:"migrationScript"`
	RollbackScript    string    `json:"rollbackScript"`
	Strategy          Strategy  `json:"strategy,omitempty"`
	RiskLevel         RiskLevel `json:"riskLevel,omitempty"`
	EstimatedDuration int       `json:"estimatedDuration,omitempty"`
	Dependencies      []string  `json:"dependencies,omitempty"`
	Tags              []string  `json:"tags,omitempty"`
	// RiskReason lets an Admin set RiskLevel below the computed risk: why
	// (kept with the migration and in the audit log's command).
	RiskReason string `json:"riskReason,omitempty"`
	// LockPolicy says how the migration's steps treat the sessions that
	// hold the tables their DDL needs.
	LockPolicy LockPolicy `json:"lockPolicy,omitzero"`
}

// WithDefaults fills the reference's defaults: Phased strategy, Medium risk.
// The API replaces a defaulted risk by the computed one when the engine's
// linter can compute it.
func (s MigrationSpec) WithDefaults() MigrationSpec {
	if s.Strategy == "" {
		s.Strategy = Phased
	}
	if s.RiskLevel == "" {
		s.RiskLevel = RiskMedium
	}
	if s.Dependencies == nil {
		s.Dependencies = []string{}
	}
	if s.Tags == nil {
		s.Tags = []string{}
	}
	return s
}

// Apply copies the spec onto m and derives RequiresApproval from the risk.
func (s MigrationSpec) Apply(m *Migration) {
	m.Name, m.Description, m.TargetDatabaseID = s.Name, s.Description, s.TargetDatabaseID
	m.MigrationScript, m.RollbackScript = s.MigrationScript, s.RollbackScript
	m.Strategy, m.RiskLevel, m.EstimatedDuration = s.Strategy, s.RiskLevel, s.EstimatedDuration
	m.Dependencies, m.Tags, m.LockPolicy = s.Dependencies, s.Tags, s.LockPolicy
	m.RequiresApproval = RequiresApproval(s.RiskLevel)
}

// RequiresApproval reports whether a migration of this risk must be approved
// before it runs: Medium and High do.
func RequiresApproval(r RiskLevel) bool {
	return slices.Index(RiskLevels, r) >= slices.Index(RiskLevels, RiskMedium)
}

// Editable reports whether the migration may still be changed or deleted:
// not while it runs and not once it has succeeded.
func (m *Migration) Editable() bool {
	switch m.Status {
	case MigrationDraft, MigrationPendingApproval, MigrationApproved, MigrationFailed, MigrationRolledBack:
		return true
	}
	return false
}

// Script returns the script that runs in the given direction.
func (m *Migration) Script(dir Direction) string {
	if dir == Rollback {
		return m.RollbackScript
	}
	return m.MigrationScript
}

// Checksum returns the hex SHA-256 of the script of the given direction,
// as recorded in an instance's history table.
func (m *Migration) Checksum(dir Direction) string {
	sum := sha256.Sum256([]byte(m.Script(dir)))
	return hex.EncodeToString(sum[:])
}
