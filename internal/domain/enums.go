// Package domain holds the types the control plane, the agent and the CLI
// share: databases, migrations, agents and their validation rules. It does no
// I/O.
package domain

import "slices"

// DatabaseType is the engine of a database.
type DatabaseType string

// The engines HotSwap knows.
const (
	PostgreSQL DatabaseType = "PostgreSQL"
	MySQL      DatabaseType = "MySQL"
	SQLServer  DatabaseType = "SqlServer"
	Oracle     DatabaseType = "Oracle"
)

// DatabaseTypes lists every valid DatabaseType.
var DatabaseTypes = []DatabaseType{PostgreSQL, MySQL, SQLServer, Oracle}

// Environment is where a database serves.
type Environment string

// The environments of the reference.
const (
	Development Environment = "Development"
	QA          Environment = "QA"
	Staging     Environment = "Staging"
	Production  Environment = "Production"
)

// Environments lists every valid Environment.
var Environments = []Environment{Development, QA, Staging, Production}

// InstanceRole is the role a database registration declares for an instance.
type InstanceRole string

// The instance roles of the reference.
const (
	RoleMaster        InstanceRole = "Master"
	RoleSyncReplica   InstanceRole = "SyncReplica"
	RoleAsyncReplica  InstanceRole = "AsyncReplica"
	RoleShadowReplica InstanceRole = "ShadowReplica"
)

// InstanceRoles lists every valid InstanceRole.
var InstanceRoles = []InstanceRole{RoleMaster, RoleSyncReplica, RoleAsyncReplica, RoleShadowReplica}

// Strategy is how a migration is rolled out.
type Strategy string

// The rollout strategies.
const (
	Direct    Strategy = "Direct"
	Phased    Strategy = "Phased"
	Canary    Strategy = "Canary"
	BlueGreen Strategy = "BlueGreen"
	Shadow    Strategy = "Shadow"
)

// Strategies lists every valid Strategy.
var Strategies = []Strategy{Direct, Phased, Canary, BlueGreen, Shadow}

// RiskLevel is the assessed risk of a migration.
type RiskLevel string

// The risk levels, from least to most risky.
const (
	RiskLow    RiskLevel = "Low"
	RiskMedium RiskLevel = "Medium"
	RiskHigh   RiskLevel = "High"
)

// RiskLevels lists every valid RiskLevel, least risky first.
var RiskLevels = []RiskLevel{RiskLow, RiskMedium, RiskHigh}

// MigrationStatus is where a migration is in its life.
type MigrationStatus string

// The migration statuses.
const (
	MigrationDraft           MigrationStatus = "Draft"
	MigrationPendingApproval MigrationStatus = "PendingApproval"
	MigrationApproved        MigrationStatus = "Approved"
	MigrationInProgress      MigrationStatus = "InProgress"
	MigrationSucceeded       MigrationStatus = "Succeeded"
	MigrationFailed          MigrationStatus = "Failed"
	MigrationRolledBack      MigrationStatus = "RolledBack"
)

// MigrationStatuses lists every valid MigrationStatus.
var MigrationStatuses = []MigrationStatus{
	MigrationDraft, MigrationPendingApproval, MigrationApproved, MigrationInProgress,
	MigrationSucceeded, MigrationFailed, MigrationRolledBack,
}

// DetectedRole is the role an agent found by asking the database itself.
type DetectedRole string

// The roles an agent can detect.
const (
	DetectedPrimary DetectedRole = "primary"
	DetectedStandby DetectedRole = "standby"
	DetectedUnknown DetectedRole = "unknown"
)

// oneOf reports whether v is among the valid values.
func oneOf[T comparable](v T, valid []T) bool { return slices.Contains(valid, v) }
