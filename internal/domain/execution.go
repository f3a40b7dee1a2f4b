package domain

import "time"

// ExecutionStatus is where an execution is.
type ExecutionStatus string

// The execution statuses of the reference.
const (
	ExecutionPending    ExecutionStatus = "Pending"
	ExecutionRunning    ExecutionStatus = "Running"
	ExecutionSucceeded  ExecutionStatus = "Succeeded"
	ExecutionFailed     ExecutionStatus = "Failed"
	ExecutionRolledBack ExecutionStatus = "RolledBack"
	ExecutionPaused     ExecutionStatus = "Paused"
)

// Terminal reports whether nothing more will happen to an execution.
func (s ExecutionStatus) Terminal() bool {
	return s == ExecutionSucceeded || s == ExecutionFailed || s == ExecutionRolledBack
}

// Direction says whether a step applies the forward or the rollback script.
type Direction string

// The step directions.
const (
	Forward  Direction = "forward"
	Rollback Direction = "rollback"
)

// StepStatus is where one step is.
type StepStatus string

// The step statuses.
const (
	StepPending   StepStatus = "Pending"
	StepRunning   StepStatus = "Running"
	StepSucceeded StepStatus = "Succeeded"
	StepFailed    StepStatus = "Failed"
	StepCancelled StepStatus = "Cancelled"
)

// DBError is an error as the database reported it.
type DBError struct {
	Message   string `json:"message"`
	SQLState  string `json:"sqlState,omitempty"`
	Statement string `json:"statement,omitempty"`
	// Detail and Hint are the database's DETAIL and HINT, when it gave them
	// (PostgreSQL: "Key (nick2)=(x) is duplicated.").
	Detail string `json:"detail,omitempty"`
	Hint   string `json:"hint,omitempty"`
}

// StatementResult is one statement a step ran.
type StatementResult struct {
	Index        int       `json:"index"`
	SQL          string    `json:"sql"`
	StartedAt    time.Time `json:"startedAt"`
	DurationMs   float64   `json:"durationMs"`
	RowsAffected int64     `json:"rowsAffected"`
	Attempts     int       `json:"attempts"`
}

// LogEntry is one line of an execution's log.
type LogEntry struct {
	Time      time.Time `json:"time"`
	Level     string    `json:"level"`
	Message   string    `json:"message"`
	StepID    string    `json:"stepId,omitempty"`
	Statement string    `json:"statement,omitempty"`
}

// Step kinds.
const (
	// StepApply runs the script on the instance.
	StepApply = "apply"
	// StepVerify waits on a physical standby until a step applied on its
	// primary has arrived through WAL; it runs nothing.
	StepVerify = "verify"
	// StepCapture captures an instance's recent read workload.
	StepCapture = "capture"
	// StepReplay replays the captured (or supplied) read workload.
	StepReplay = "replay"
	// StepSwitch switches a pooler the agent manages to another target.
	StepSwitch = "switch"
)

// Step is one script applied on one instance, or one check on a standby.
type Step struct {
	StepID string `json:"stepId"`
	// Kind is StepApply or StepVerify.
	Kind string `json:"kind"`
	// PhaseIndex orders the phases; the steps of one phase run together.
	PhaseIndex     int               `json:"phaseIndex"`
	Phase          string            `json:"phase"`
	Direction      Direction         `json:"direction"`
	Agent          string            `json:"agent"`
	InstanceID     string            `json:"instanceId"`
	Status         StepStatus        `json:"status"`
	Transactional  bool              `json:"transactional"`
	AlreadyApplied bool              `json:"alreadyApplied,omitempty"`
	Attempt        int               `json:"attempt"`
	Retries        int               `json:"retries"`
	Statements     []StatementResult `json:"statements"`
	RowsAffected   int64             `json:"rowsAffected"`
	Error          *DBError          `json:"error,omitempty"`
	StartedAt      time.Time         `json:"startedAt,omitzero"`
	CompletedAt    time.Time         `json:"completedAt,omitzero"`
	// Reverts names the forward step a rollback step undoes.
	Reverts string `json:"reverts,omitempty"`
	// Verifies names the step whose arrival a verify step checks.
	Verifies string `json:"verifies,omitempty"`
	// LocalOnly keeps the change on the step's instance (MySQL/MariaDB:
	// sql_log_bin=0), for a rolling schema change, replica first.
	LocalOnly bool `json:"localOnly,omitempty"`
	// Replay is what a replay step measured.
	Replay *ReplayResult `json:"replay,omitempty"`
	// Pooler and SwitchTo name, for a switch step, the pooler (on Agent)
	// and the target it switches to.
	Pooler   string `json:"pooler,omitempty"`
	SwitchTo string `json:"switchTo,omitempty"`
	// Baseline is what the step's instance looked like before it started.
	Baseline *Baseline `json:"baseline,omitempty"`
}

// Execution is one run of a migration against its database.
type Execution struct {
	ExecutionID  string          `json:"executionId"`
	MigrationID  string          `json:"migrationId"`
	DatabaseID   string          `json:"databaseId"`
	Environment  Environment     `json:"environment"`
	Strategy     Strategy        `json:"strategy"`
	DryRun       bool            `json:"dryRun"`
	Status       ExecutionStatus `json:"status"`
	CurrentPhase string          `json:"currentPhase,omitempty"`
	Progress     int             `json:"progress"`
	FencingToken uint64          `json:"fencingToken,omitempty"`
	InitiatedBy  string          `json:"initiatedBy"`
	Queued       bool            `json:"queued,omitempty"`
	Steps        []Step          `json:"steps"`
	Logs         []LogEntry      `json:"logs"`
	// TraceContext is the W3C trace context (traceparent) of the request
	// that asked for the execution: the orchestrator's and the agents'
	// spans of the execution join that trace.
	TraceContext map[string]string `json:"traceContext,omitempty"`
	// Resolution, on a Failed execution, is an operator's word that the
	// database was put right by hand.
	Resolution    *Resolution `json:"resolution,omitempty"`
	Error         *DBError    `json:"error,omitempty"`
	ErrorMessage  string      `json:"errorMessage,omitempty"`
	LockTimeoutMs int64       `json:"lockTimeoutMs"`
	// StatementTimeoutMs bounds each statement; 0 means the execution timeout.
	StatementTimeoutMs int64 `json:"statementTimeoutMs"`
	TimeoutSeconds     int64 `json:"timeoutSeconds"`
	// Monitoring says how the execution is watched.
	Monitoring MonitorSettings `json:"monitoring"`
	// MonitorUntil is the end of the current step's monitor window.
	MonitorUntil time.Time `json:"monitorUntil,omitzero"`
	// Decisions are what the guard rules concluded, with their reasons.
	Decisions []Decision `json:"decisions"`
	// Phases explains the plan, one entry per phase, with its progress.
	Phases []PhaseView `json:"phases"`
	// PausedBy is set when a person paused the execution: only a person
	// resumes it (a pause for replication lag resumes by itself).
	PausedBy string `json:"pausedBy,omitempty"`
	// Fleet is set on a rollout over many databases; its children are one
	// execution per database, each naming it as ParentID.
	Fleet    *Fleet `json:"fleet,omitempty"`
	ParentID string `json:"parentId,omitempty"`
	// Shadow is set on a Shadow rollout: the workload and its comparison.
	Shadow *ShadowRun `json:"shadow,omitempty"`
	// BlueGreen is set on a BlueGreen rollout.
	BlueGreen *BlueGreenSpec `json:"blueGreen,omitempty"`
	// RollbackRequested is set when someone asked for a rollback; RollingBack
	// once the orchestrator has planned the rollback steps.
	RollbackRequested   bool   `json:"rollbackRequested,omitempty"`
	RollingBack         bool   `json:"rollingBack,omitempty"`
	RollbackReason      string `json:"rollbackReason,omitempty"`
	RollbackRequestedBy string `json:"rollbackRequestedBy,omitempty"`
	// Version is the Raft index of the last change: updates name the
	// version they were computed from, and a stale one is refused.
	Version             uint64    `json:"version"`
	CreatedAt           time.Time `json:"createdAt"`
	StartedAt           time.Time `json:"startedAt,omitzero"`
	CompletedAt         time.Time `json:"completedAt,omitzero"`
	RollbackStartedAt   time.Time `json:"rollbackStartedAt,omitzero"`
	RollbackCompletedAt time.Time `json:"rollbackCompletedAt,omitzero"`
}

// Step returns the step with id.
func (e *Execution) Step(id string) (*Step, bool) {
	for i := range e.Steps {
		if e.Steps[i].StepID == id {
			return &e.Steps[i], true
		}
	}
	return nil, false
}

// Deadline is when the execution times out.
func (e *Execution) Deadline() time.Time {
	return e.StartedAt.Add(time.Duration(e.TimeoutSeconds) * time.Second)
}

// HistoryRow is one applied step recorded in an instance's history table
// (hotswap.schema_history on PostgreSQL).
type HistoryRow struct {
	ExecutionID   string    `json:"executionId"`
	StepID        string    `json:"stepId"`
	MigrationID   string    `json:"migrationId"`
	MigrationName string    `json:"migrationName"`
	Direction     Direction `json:"direction"`
	Checksum      string    `json:"checksum"`
	FencingToken  uint64    `json:"fencingToken"`
	AppliedAt     time.Time `json:"appliedAt"`
	DurationMs    float64   `json:"durationMs"`
	AppliedBy     string    `json:"appliedBy"`
}

// PhaseView is one phase of a plan: its name, why it is there, and how far
// it got.
type PhaseView struct {
	Index       int    `json:"index"`
	Name        string `json:"name"`
	Explanation string `json:"explanation"`
	Steps       int    `json:"steps"`
	Done        int    `json:"done"`
	Progress    int    `json:"progress"`
}

// Fleet is a rollout of one migration over the databases matching a label
// selector, in waves; each database gets its own execution (and lock).
type Fleet struct {
	Selector map[string]string `json:"selector"`
	// Waves lists the database ids of each wave: 10%, 50%, 100%.
	Waves [][]string `json:"waves"`
	// Wave is the index of the wave running.
	Wave int `json:"wave"`
	// Children maps a database id to the id of its execution.
	Children map[string]string `json:"children"`
}

// MatchesSelector reports whether every key=value of sel is a label of d.
func (d *Database) MatchesSelector(sel map[string]string) bool {
	for k, v := range sel {
		if d.Labels[k] != v {
			return false
		}
	}
	return true
}

// ReplayResult is what replaying a workload on an instance measured.
type ReplayResult struct {
	Runs       int     `json:"runs"`
	Errors     int     `json:"errors"`
	P50Ms      float64 `json:"p50Ms"`
	P95Ms      float64 `json:"p95Ms"`
	P99Ms      float64 `json:"p99Ms"`
	MeanMs     float64 `json:"meanMs"`
	FirstError string  `json:"firstError,omitempty"`
}

// ShadowRun is a Shadow rollout's workload and verdict: the workload is
// replayed on the shadow before and after the change, and the rollout goes
// on only if p95 latency stays within MaxP95Factor.
type ShadowRun struct {
	// Workload is the read-only statements replayed: from a workload file,
	// or captured from the master.
	Workload     []string `json:"workload"`
	Source       string   `json:"source"` // file or captured
	Iterations   int      `json:"iterations"`
	MaxP95Factor float64  `json:"maxP95Factor"`
	// MinWorkloadShare is the least share (0..1) of the master's calls a
	// captured workload must cover.
	MinWorkloadShare float64       `json:"minWorkloadShare,omitempty"`
	Before           *ReplayResult `json:"before,omitempty"`
	After            *ReplayResult `json:"after,omitempty"`
	Verdict          string        `json:"verdict,omitempty"`
	Passed           bool          `json:"passed"`
}

// BlueGreenSpec names the green instance and the pooler switched to it.
type BlueGreenSpec struct {
	Blue   InstanceRef `json:"blue"`
	Green  InstanceRef `json:"green"`
	Agent  string      `json:"poolerAgent"`
	Pooler string      `json:"pooler"`
}

// Resolution records who marked a failed execution resolved, and why.
type Resolution struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}
