package client

import (
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// Health is the answer of GET /health (no token needed).
type Health struct {
	Status   string `json:"status"` // "ok", or "degraded" with a Reason
	Reason   string `json:"reason,omitempty"`
	ServerID string `json:"serverId"`
	State    string `json:"state"`
	Leader   string `json:"leader"`
}

// ClusterStatus is the Raft group as the answering server sees it.
type ClusterStatus struct {
	ServerID     string          `json:"serverId"`
	State        string          `json:"state"`
	Leader       string          `json:"leader"`
	LeaderAddr   string          `json:"leaderAddr,omitempty"`
	Term         uint64          `json:"term"`
	LastIndex    uint64          `json:"lastIndex"`
	CommitIndex  uint64          `json:"commitIndex"`
	AppliedIndex uint64          `json:"appliedIndex"`
	LastContact  string          `json:"lastContact,omitempty"`
	Servers      []ClusterServer `json:"servers"`
}

// ClusterServer is one member of the Raft configuration.
type ClusterServer struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raftAddr"`
	HTTPAddr string `json:"httpAddr,omitempty"`
	RPCAddr  string `json:"rpcAddr,omitempty"`
	Suffrage string `json:"suffrage"`
	Leader   bool   `json:"leader"`
}

// AgentToken is a new agent and its token: the API shows the token once
// and keeps only its hash.
type AgentToken struct {
	Name      string    `json:"name"`
	Token     string    `json:"token"`
	CreatedAt time.Time `json:"createdAt"`
}

// Agent is a registered agent: what it last reported and whether it is
// connected now.
type Agent struct {
	Name        string                  `json:"name"`
	Connected   bool                    `json:"connected"`
	ConnectedAt time.Time               `json:"connectedAt,omitzero"`
	LastSeen    time.Time               `json:"lastSeen,omitzero"`
	Hostname    string                  `json:"hostname,omitempty"`
	Version     string                  `json:"version,omitempty"`
	CreatedAt   time.Time               `json:"createdAt"`
	Instances   []domain.InstanceStatus `json:"instances"`
}

// AgentList is the answer of GET /api/v1/agents.
type AgentList struct {
	Agents []Agent `json:"agents"`
	Total  int     `json:"total"`
}

// DatabaseList is the answer of GET /api/v1/databases.
type DatabaseList struct {
	Databases []domain.Database `json:"databases"`
	Total     int               `json:"total"`
}

// DatabaseHealth is the live state of a database's instances, with the
// problems found in words an operator can act on.
type DatabaseHealth struct {
	DatabaseID        string           `json:"databaseId"`
	Name              string           `json:"name"`
	IsHealthy         bool             `json:"isHealthy"`
	Problems          []string         `json:"problems"`
	ActiveConnections int              `json:"activeConnections"`
	ReplicationLag    float64          `json:"replicationLag"`
	LastCheck         time.Time        `json:"lastCheck,omitzero"`
	Instances         []InstanceHealth `json:"instances"`
}

// InstanceHealth is the live state of one instance of a database.
type InstanceHealth struct {
	Agent                 string                   `json:"agent"`
	InstanceID            string                   `json:"instanceId"`
	Role                  domain.InstanceRole      `json:"role"`
	DetectedRole          domain.DetectedRole      `json:"detectedRole"`
	AgentConnected        bool                     `json:"agentConnected"`
	Reachable             bool                     `json:"reachable"`
	ServerVersion         string                   `json:"serverVersion,omitempty"`
	ActiveConnections     int                      `json:"activeConnections"`
	ReplicationLagSeconds float64                  `json:"replicationLagSeconds"`
	ReplicationLinks      []domain.ReplicationLink `json:"replicationLinks,omitempty"`
	LastCheck             time.Time                `json:"lastCheck,omitzero"`
	Error                 string                   `json:"error,omitempty"`
}

// MigrationSummary is a migration in a list: everything but its scripts.
type MigrationSummary struct {
	MigrationID      string                 `json:"migrationId"`
	Name             string                 `json:"name"`
	Status           domain.MigrationStatus `json:"status"`
	TargetDatabaseID string                 `json:"targetDatabaseId"`
	TargetDatabase   string                 `json:"targetDatabase"`
	Strategy         domain.Strategy        `json:"strategy"`
	RiskLevel        domain.RiskLevel       `json:"riskLevel"`
	RequiresApproval bool                   `json:"requiresApproval"`
	Tags             []string               `json:"tags"`
	CreatedBy        string                 `json:"createdBy"`
	CreatedAt        time.Time              `json:"createdAt"`
}

// MigrationList is one page of GET /api/v1/migrations. Total counts every
// migration matching the filter, not only this page.
type MigrationList struct {
	Migrations []MigrationSummary `json:"migrations"`
	Total      int                `json:"total"`
	Limit      int                `json:"limit"`
	Offset     int                `json:"offset"`
}

// MigrationFilter selects the migrations ListMigrations returns. Zero
// fields are not sent: the server's defaults apply (limit 20, offset 0).
type MigrationFilter struct {
	Status   domain.MigrationStatus
	Database string // id or name
	Limit    int
	Offset   int
}

// ExecuteRequest is the body of POST /api/v1/migrations/{id}/execute. Zero
// fields are not sent: the server's defaults apply (the migration's
// strategy, a 500 ms lock timeout, the server's execution timeout).
type ExecuteRequest struct {
	// Environment, when set, must be the database's: a guard against
	// running on the wrong one.
	Environment domain.Environment `json:"environment,omitempty"`
	Strategy    domain.Strategy    `json:"strategy,omitempty"`
	// DryRun runs the script in a transaction that is rolled back.
	DryRun bool `json:"dryRun"`
	// Queue waits for the database's lock instead of a 409 while another
	// execution holds it.
	Queue              bool  `json:"queue,omitempty"`
	LockTimeoutMs      int64 `json:"lockTimeoutMs,omitempty"`
	StatementTimeoutMs int64 `json:"statementTimeoutMs,omitempty"`
	TimeoutSeconds     int64 `json:"timeoutSeconds,omitempty"`
	// Phases is accepted by the server, which does not use it yet.
	Phases []string `json:"phases,omitempty"`
	// Monitoring overrides thresholds and windows; zero fields keep the
	// server's defaults.
	Monitoring *domain.MonitorSettings `json:"monitoring,omitempty"`
	// Selector rolls the migration out over every database with these
	// labels, in Canary waves.
	Selector map[string]string `json:"selector,omitempty"`
	// Shadow tunes a Shadow rollout: a workload file, passes, p95 limit.
	Shadow *ShadowRequest `json:"shadow,omitempty"`
	// BlueGreen names a BlueGreen rollout's green instance and pooler.
	BlueGreen *BlueGreenRequest `json:"blueGreen,omitempty"`
}

// ExecutionPlan is the steps the server planned for an execution, with why
// they are in that order.
type ExecutionPlan struct {
	Strategy    domain.Strategy `json:"strategy"`
	Steps       []domain.Step   `json:"steps"`
	Explanation []string        `json:"explanation"`
}

// ExecuteResponse is the answer of POST .../execute (202): the execution
// was created; it runs once an agent picks up its steps.
type ExecuteResponse struct {
	ExecutionID       string                 `json:"executionId"`
	MigrationID       string                 `json:"migrationId"`
	Status            domain.ExecutionStatus `json:"status"`
	Queued            bool                   `json:"queued"`
	CreatedAt         time.Time              `json:"createdAt"`
	EstimatedDuration int                    `json:"estimatedDuration"`
	Plan              ExecutionPlan          `json:"plan"`
}

// ExecutionList is the answer of GET /api/v1/migrations/{id}/executions:
// every execution of the migration, oldest first.
type ExecutionList struct {
	Executions []domain.Execution `json:"executions"`
	Total      int                `json:"total"`
}

// RollbackResponse is the answer of POST .../rollback. The server waits up
// to 60 s for the rollback: Status is terminal when it ended (200), else
// the rollback is still running (202).
type RollbackResponse struct {
	ExecutionID         string                 `json:"executionId"`
	Status              domain.ExecutionStatus `json:"status"`
	RollbackCompletedAt time.Time              `json:"rollbackCompletedAt,omitzero"`
	RollbackDuration    float64                `json:"rollbackDuration,omitempty"` // seconds
}

// DatabaseHistory is the answer of GET /api/v1/databases/{id}/history: each
// instance's history table as its agent read it, compared with what the
// control plane recorded. InSync is false when drift was found or when an
// instance's history could not be read.
type DatabaseHistory struct {
	DatabaseID string            `json:"databaseId"`
	Name       string            `json:"name"`
	InSync     bool              `json:"inSync"`
	Drift      []Drift           `json:"drift"`
	Instances  []InstanceHistory `json:"instances"`
}

// InstanceHistory is one instance's history table; Error says why it could
// not be read (its agent is not connected, say).
type InstanceHistory struct {
	Agent      string              `json:"agent"`
	InstanceID string              `json:"instanceId"`
	Rows       []domain.HistoryRow `json:"rows"`
	Error      string              `json:"error,omitempty"`
}

// Drift is one difference between an instance's history table and the
// executions the control plane recorded.
type Drift struct {
	Kind        string `json:"kind"` // missing, unrecorded, unknown or checksum
	Agent       string `json:"agent"`
	InstanceID  string `json:"instanceId"`
	ExecutionID string `json:"executionId"`
	StepID      string `json:"stepId"`
	MigrationID string `json:"migrationId,omitempty"`
	Message     string `json:"message"`
}

// ExecutionMetrics is an execution's monitoring record: the baseline each
// step was watched against, the samples kept, and the guard's decisions.
type ExecutionMetrics struct {
	ExecutionID string                 `json:"executionId"`
	Status      domain.ExecutionStatus `json:"status"`
	Monitoring  domain.MonitorSettings `json:"monitoring"`
	Baselines   []StepBaseline         `json:"baselines"`
	Snapshots   []domain.Snapshot      `json:"snapshots"`
	Decisions   []domain.Decision      `json:"decisions"`
}

// StepBaseline is the baseline a step was watched against.
type StepBaseline struct {
	StepID     string          `json:"stepId"`
	Agent      string          `json:"agent"`
	InstanceID string          `json:"instanceId"`
	Baseline   domain.Baseline `json:"baseline"`
}

// ShadowRequest tunes a Shadow rollout.
type ShadowRequest struct {
	Workload     string  `json:"workload,omitempty"`
	Iterations   int     `json:"iterations,omitempty"`
	MaxP95Factor float64 `json:"maxP95Factor,omitempty"`
}

// BlueGreenRequest names the green instance ("agent/instance") and the
// pooler ("agent/pooler") of a BlueGreen rollout.
type BlueGreenRequest struct {
	Green  string `json:"green"`
	Pooler string `json:"pooler"`
}
