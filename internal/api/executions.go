package api

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

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
	// Selector, when set, rolls the migration out over every database whose
	// labels match (Canary waves, one execution per database).
	Selector map[string]string `json:"selector,omitempty"`
	// Shadow tunes a Shadow rollout.
	Shadow *ShadowRequest `json:"shadow,omitempty"`
	// BlueGreen names a BlueGreen rollout's green instance and pooler.
	BlueGreen *BlueGreenRequest `json:"blueGreen,omitempty"`
	// AcceptBlindLockGuard runs the execution although an instance's agent
	// cannot see other sessions (its preflight failed "sessions"), so its
	// DDL may enter the lock queue behind a blocker it cannot wait for.
	// Without it such an execution is refused with a 409; with it, the
	// acceptance is recorded in the execution's log.
	AcceptBlindLockGuard bool `json:"acceptBlindLockGuard,omitempty"`
}

// ShadowRequest tunes a Shadow rollout.
type ShadowRequest struct {
	// Workload is a workload file: read-only SQL statements separated by
	// semicolons. Empty: the master's recent workload is captured.
	Workload     string  `json:"workload,omitempty"`
	Iterations   int     `json:"iterations,omitempty"`   // passes over the workload, default 20
	MaxP95Factor float64 `json:"maxP95Factor,omitempty"` // default 1.5
	// MinWorkloadShare is the least share (0..1) of the master's calls a
	// captured workload must cover; default 0.5.
	MinWorkloadShare float64 `json:"minWorkloadShare,omitempty"`
}

// BlueGreenRequest names the green instance ("agent/instance") and the
// pooler the agent manages ("agent/pooler") of a BlueGreen rollout.
type BlueGreenRequest struct {
	Green  string `json:"green"`
	Pooler string `json:"pooler"`
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
	Plan              domain.Plan            `json:"plan"`
	// Warnings are the guards that cannot work as configured (from the
	// agents' preflights), as recorded in the execution's log.
	Warnings []string `json:"warnings,omitempty"`
}

// PlanResponse is the answer of GET /api/v1/migrations/{id}/plan: the plan
// a strategy would follow, with nothing changed.
type PlanResponse struct {
	MigrationID string      `json:"migrationId"`
	DatabaseID  string      `json:"databaseId"`
	Plan        domain.Plan `json:"plan"`
}

// ExecutionList is the answer of GET /api/v1/migrations/{id}/executions:
// every execution of the migration, oldest first.
type ExecutionList struct {
	Executions []domain.Execution `json:"executions"`
	Total      int                `json:"total"`
}

// RollbackRequest is the body of POST .../executions/{executionId}/rollback.
type RollbackRequest struct {
	Reason string `json:"reason"`
	// Confirm accepts what a switch back of a succeeded BlueGreen rollout
	// loses: what was written to green since the switch is not on blue.
	Confirm bool `json:"confirm,omitempty"`
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

// PauseRequest is the body of POST .../executions/{executionId}/pause.
type PauseRequest struct {
	Reason string `json:"reason"`
}

// ResumeRequest is the body of POST .../executions/{executionId}/resume.
type ResumeRequest struct {
	// Strategy, when set, re-plans what is left with another strategy;
	// what was applied stays applied.
	Strategy domain.Strategy `json:"strategy,omitempty"`
}

// ExecutionMetrics is the answer of GET .../executions/{executionId}/metrics:
// an execution's monitoring record, the baseline each step was watched
// against, the samples kept, and the guard's decisions.
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

// ExecuteMigration starts an execution of the migration. The answer (202)
// comes once the execution is recorded, before anything ran: follow it
// with GetExecution. A busy database (unless req.Queue) or a dependency that
// has not succeeded is an ErrConflict.
func (c *Client) ExecuteMigration(ctx context.Context, migrationID string, req ExecuteRequest) (ExecuteResponse, error) {
	var r ExecuteResponse
	return r, c.postOne(ctx, "migrations", migrationID, "/execute", req, &r)
}

// PlanMigration returns the plan the migration would follow with strategy
// (empty: the migration's own), changing nothing.
func (c *Client) PlanMigration(ctx context.Context, migrationID string, strategy domain.Strategy) (PlanResponse, error) {
	return c.PlanMigrationWith(ctx, migrationID, strategy, nil)
}

// PlanMigrationWith is PlanMigration with a BlueGreen rollout's green and
// pooler (bg may be nil).
func (c *Client) PlanMigrationWith(ctx context.Context, migrationID string, strategy domain.Strategy, bg *BlueGreenRequest) (PlanResponse, error) {
	var r PlanResponse
	q := url.Values{}
	if strategy != "" {
		q.Set("strategy", string(strategy))
	}
	if bg != nil {
		q.Set("green", bg.Green)
		q.Set("pooler", bg.Pooler)
	}
	sub := "/plan"
	if len(q) > 0 {
		sub += "?" + q.Encode()
	}
	return r, c.getOne(ctx, "migrations", migrationID, sub, &r)
}

// ListExecutions returns every execution of the migration, oldest first.
func (c *Client) ListExecutions(ctx context.Context, migrationID string) (ExecutionList, error) {
	var l ExecutionList
	return l, c.getOne(ctx, "migrations", migrationID, "/executions", &l)
}

// FindExecution returns the execution named by its id or a unique prefix
// of it, without its migration's id: a 404 error for none, a 409 naming
// the candidates when the prefix is ambiguous.
func (c *Client) FindExecution(ctx context.Context, executionID string) (domain.Execution, error) {
	var e domain.Execution
	return e, c.getOne(ctx, "executions", executionID, "", &e)
}

// GetExecution returns one execution of the migration: its steps, log and
// error.
func (c *Client) GetExecution(ctx context.Context, migrationID, executionID string) (domain.Execution, error) {
	var e domain.Execution
	p, err := executionPath(migrationID, executionID)
	if err != nil {
		return e, err
	}
	return e, c.get(ctx, p, &e)
}

// RollbackExecution asks for the rollback of an execution, reason going to
// its log. The server waits up to 60 s: a Status that is not terminal means
// the rollback is still running.
func (c *Client) RollbackExecution(ctx context.Context, migrationID, executionID, reason string) (RollbackResponse, error) {
	return c.RollbackExecutionWith(ctx, migrationID, executionID, RollbackRequest{Reason: reason})
}

// RollbackExecutionWith is RollbackExecution with every field of the
// request (Confirm for the switch back of a succeeded BlueGreen rollout).
func (c *Client) RollbackExecutionWith(ctx context.Context, migrationID, executionID string, req RollbackRequest) (RollbackResponse, error) {
	var r RollbackResponse
	return r, c.onExecution(ctx, migrationID, executionID, "/rollback", req, &r)
}

// PauseExecution pauses a running execution: running steps finish, the next
// phase waits. It returns the execution as it is now.
func (c *Client) PauseExecution(ctx context.Context, migrationID, executionID string, req PauseRequest) (domain.Execution, error) {
	var e domain.Execution
	return e, c.onExecution(ctx, migrationID, executionID, "/pause", req, &e)
}

// ResumeExecution resumes a paused execution, re-planning what is left when
// req.Strategy is set. It returns the execution as it is now.
func (c *Client) ResumeExecution(ctx context.Context, migrationID, executionID string, req ResumeRequest) (domain.Execution, error) {
	var e domain.Execution
	return e, c.onExecution(ctx, migrationID, executionID, "/resume", req, &e)
}

// ExecutionMetrics returns an execution's baselines, decisions and the
// snapshots taken after sinceMs (unix milliseconds; 0 for all).
func (c *Client) ExecutionMetrics(ctx context.Context, migrationID, executionID string, sinceMs int64) (ExecutionMetrics, error) {
	var out ExecutionMetrics
	p, err := executionPath(migrationID, executionID)
	if err != nil {
		return out, err
	}
	return out, c.get(ctx, p+"/metrics?sinceMs="+strconv.FormatInt(sinceMs, 10), &out)
}

// onExecution posts in to an action of one execution ("/pause").
func (c *Client) onExecution(ctx context.Context, migrationID, executionID, action string, in, out any) error {
	p, err := executionPath(migrationID, executionID)
	if err != nil {
		return err
	}
	return c.post(ctx, p+action, in, out)
}

// RecoveryRequest is the body of POST .../rollback/retry and .../resolve:
// why the operator acts (required to resolve), for the execution's log.
type RecoveryRequest struct {
	Reason string `json:"reason"`
}

// RetryRollback runs the failed rollback steps of a Failed execution
// again, once the operator fixed what made them fail. It returns the
// execution, Running again.
func (c *Client) RetryRollback(ctx context.Context, migrationID, executionID, reason string) (domain.Execution, error) {
	var e domain.Execution
	return e, c.onExecution(ctx, migrationID, executionID, "/rollback/retry", RecoveryRequest{Reason: reason}, &e)
}

// ResolveExecution marks a Failed execution resolved by hand, with why.
func (c *Client) ResolveExecution(ctx context.Context, migrationID, executionID, reason string) (domain.Execution, error) {
	var e domain.Execution
	return e, c.onExecution(ctx, migrationID, executionID, "/resolve", RecoveryRequest{Reason: reason}, &e)
}
