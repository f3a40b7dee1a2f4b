package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/controlplane/planner"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/replay"
	"github.com/hotswap-db/hotswap/internal/tracing"
)

// Execution defaults, from the reference.
const (
	defaultLockTimeoutMs = 500
	maxLockTimeoutMs     = 60_000
)

func (a *API) executeMigration(w http.ResponseWriter, r *http.Request, p principal) error {
	m, err := a.pathMigration(r)
	if err != nil {
		return err
	}
	body, err := readOptionalBody(r, smallBodyLimit)
	if err != nil {
		return err
	}
	var req api.ExecuteRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	db, err := a.raft.State().Database(m.TargetDatabaseID)
	if err != nil {
		return err
	}
	if err := mayExecuteOn(p, db); err != nil {
		return err
	}
	// A dry run changes nothing: it is how a reviewer sees what would
	// happen before approving, so it needs no approval itself.
	if !req.DryRun {
		if err := a.checkApproved(m); err != nil {
			return err
		}
	}
	if err := a.checkExecute(m, db, &req); err != nil {
		return err
	}
	if req.Selector != nil {
		return a.executeFleet(w, r, m, db, req, p)
	}
	shadow, err := shadowRun(req, db.Type)
	if err != nil {
		return err
	}
	bg, err := blueGreenSpec(db, req)
	if err != nil {
		return err
	}
	if err := a.checkBlueGreenReady(db, bg); err != nil {
		return err
	}
	if err := a.checkBlueGreenConnected(bg); err != nil {
		return err
	}
	var plan domain.Plan
	switch {
	case bg != nil:
		plan, err = a.wrapPlan(planner.BlueGreenPlan(db, *bg))
	case shadow != nil:
		plan, err = a.wrapPlan(planner.ShadowPlan(db, a.raft.State().ReportedInstance, len(shadow.Workload) == 0))
	default:
		plan, err = a.wrapPlan(planner.ForwardScript(db, req.Strategy, a.raft.State().ReportedInstance, m.MigrationScript))
	}
	if err != nil {
		return err
	}
	guardLogs, err := a.checkGuards(plan, req, p)
	if err != nil {
		return err
	}
	e := a.newExecution(m, db, req, plan, p)
	e.Shadow, e.BlueGreen = shadow, bg
	e.TraceContext = tracing.Inject(r.Context()) // the orchestrator's spans join the request's trace
	warnings := stampLogs(&e, guardLogs)
	if err := a.commit(w, r, fsm.CreateExecutionRequest{Execution: e}); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, api.ExecuteResponse{ExecutionID: e.ExecutionID, MigrationID: m.MigrationID,
		Status: e.Status, Queued: e.Queued, CreatedAt: e.CreatedAt, EstimatedDuration: m.EstimatedDuration, Plan: plan,
		Warnings: warnings})
	return nil
}

// checkExecute validates an execute request against the migration and its
// database, filling defaults.
func (a *API) checkExecute(m domain.Migration, db domain.Database, req *api.ExecuteRequest) error {
	var errs []domain.FieldError
	if req.Strategy == "" {
		req.Strategy = m.Strategy
	}
	if !oneOfStrategy(req.Strategy) {
		errs = append(errs, domain.FieldError{Field: "strategy", Message: "unknown strategy " + string(req.Strategy)})
	}
	if req.Environment != "" && req.Environment != db.Environment {
		errs = append(errs, domain.FieldError{Field: "environment",
			Message: fmt.Sprintf("database %s is in %s, not %s", db.Name, db.Environment, req.Environment)})
	}
	if req.LockTimeoutMs == 0 {
		req.LockTimeoutMs = defaultLockTimeoutMs
	}
	if req.LockTimeoutMs < 1 || req.LockTimeoutMs > maxLockTimeoutMs {
		errs = append(errs, domain.FieldError{Field: "lockTimeoutMs", Message: "must be from 1 to 60000"})
	}
	if req.StatementTimeoutMs < 0 {
		errs = append(errs, domain.FieldError{Field: "statementTimeoutMs", Message: "must not be negative"})
	}
	if req.TimeoutSeconds == 0 {
		req.TimeoutSeconds = int64(a.executionDefaults().Timeout / time.Second)
	}
	if req.TimeoutSeconds < 1 || req.TimeoutSeconds > 7*24*3600 {
		errs = append(errs, domain.FieldError{Field: "timeoutSeconds", Message: "must be from 1 to 604800"})
	}
	errs = append(errs, a.monitorDefaults(req)...)
	if err := domain.AsError(errs); err != nil {
		return err
	}
	if m.Status == domain.MigrationInProgress {
		return &apiError{http.StatusConflict, api.CodeConflict, "migration " + m.Name + " is already in progress", nil}
	}
	return a.checkDependenciesSucceeded(m)
}

func oneOfStrategy(s domain.Strategy) bool {
	for _, v := range domain.Strategies {
		if v == s {
			return true
		}
	}
	return false
}

// monitorDefaults fills and checks the execution's monitor settings.
func (a *API) monitorDefaults(req *api.ExecuteRequest) []domain.FieldError {
	m := domain.MonitorSettings{}
	if req.Monitoring != nil {
		m = *req.Monitoring
	}
	d := a.executionDefaults()
	m.Thresholds = m.Thresholds.Or(d.Thresholds)
	if m.BaselineWindowSeconds == 0 {
		m.BaselineWindowSeconds = 60
	}
	if m.MonitorWindowSeconds == 0 {
		m.MonitorWindowSeconds = int(d.MonitorWindow / time.Second)
	}
	if m.MonitorWindowSeconds < 0 {
		m.MonitorWindowSeconds = 0 // -1 asks for no monitor window
	}
	if m.SampleIntervalMs == 0 {
		m.SampleIntervalMs = 250
	}
	req.Monitoring = &m
	var errs []domain.FieldError
	if err := m.Thresholds.Validate(); err != nil {
		errs = append(errs, domain.FieldError{Field: "monitoring.thresholds", Message: err.Error()})
	}
	if m.BaselineWindowSeconds < 1 || m.BaselineWindowSeconds > 3600 {
		errs = append(errs, domain.FieldError{Field: "monitoring.baselineWindowSeconds", Message: "must be from 1 to 3600"})
	}
	if m.MonitorWindowSeconds > 24*3600 {
		errs = append(errs, domain.FieldError{Field: "monitoring.monitorWindowSeconds", Message: "must be at most 86400 (-1 for none)"})
	}
	if m.SampleIntervalMs < 50 || m.SampleIntervalMs > 10_000 {
		errs = append(errs, domain.FieldError{Field: "monitoring.sampleIntervalMs", Message: "must be from 50 to 10000"})
	}
	return errs
}

// checkDependenciesSucceeded refuses with 409 while a migration this one depends on
// has not succeeded on the database.
func (a *API) checkDependenciesSucceeded(m domain.Migration) error {
	for _, id := range m.Dependencies {
		dep, err := a.raft.State().Migration(id)
		if err != nil {
			return &apiError{http.StatusConflict, api.CodeConflict, "dependency " + id + " no longer exists", nil}
		}
		if dep.Status != domain.MigrationSucceeded {
			return &apiError{http.StatusConflict, api.CodeConflict, fmt.Sprintf(
				"dependency %s (%s) has not succeeded on this database (it is %s): execute it first", dep.Name, dep.MigrationID, dep.Status), nil}
		}
	}
	return nil
}

func (a *API) newExecution(m domain.Migration, db domain.Database, req api.ExecuteRequest, plan domain.Plan, p principal) domain.Execution {
	now := a.now().UTC().Truncate(time.Millisecond)
	e := domain.Execution{ExecutionID: "exec-" + uuid.NewString(), MigrationID: m.MigrationID, DatabaseID: db.DatabaseID,
		Environment: db.Environment, Strategy: req.Strategy, DryRun: req.DryRun, Status: domain.ExecutionPending,
		InitiatedBy: p.Name, Queued: req.Queue, Steps: plan.Steps, LockTimeoutMs: req.LockTimeoutMs,
		StatementTimeoutMs: req.StatementTimeoutMs, TimeoutSeconds: req.TimeoutSeconds, CreatedAt: now,
		Monitoring: *req.Monitoring, Decisions: []domain.Decision{}, Phases: plan.Phases}
	for _, line := range plan.Explanation {
		e.Logs = append(e.Logs, domain.LogEntry{Time: now, Level: "info", Message: "plan: " + line})
	}
	e.Logs = append(e.Logs, domain.LogEntry{Time: now, Level: "info",
		Message: fmt.Sprintf("execution requested by %s (dry run: %v, lock timeout %dms)", p.Name, req.DryRun, req.LockTimeoutMs)})
	return e
}

// plan plans a strategy on a database from what its agents report.
func (a *API) plan(db domain.Database, strategy domain.Strategy) (domain.Plan, error) {
	return a.wrapPlan(planner.Forward(db, strategy, a.raft.State().ReportedInstance))
}

// wrapPlan turns a planning error into the API's.
func (a *API) wrapPlan(plan domain.Plan, err error) (domain.Plan, error) {
	var unsupported *planner.ErrUnsupported
	switch {
	case errors.As(err, &unsupported):
		return plan, badRequest(err.Error(), domain.FieldError{Field: "strategy", Message: unsupported.Reason})
	case err != nil:
		return plan, badRequest(err.Error())
	}
	return plan, nil
}

// planMigration shows the plan a strategy would follow, changing nothing.
func (a *API) planMigration(w http.ResponseWriter, r *http.Request, _ principal) error {
	m, err := a.pathMigration(r)
	if err != nil {
		return err
	}
	db, err := a.raft.State().Database(m.TargetDatabaseID)
	if err != nil {
		return err
	}
	strategy := domain.Strategy(r.URL.Query().Get("strategy"))
	if strategy == "" {
		strategy = m.Strategy
	}
	if !oneOfStrategy(strategy) {
		return badRequest("unknown strategy", domain.FieldError{Field: "strategy", Message: "must be one of Direct, Phased, Canary, BlueGreen, Shadow"})
	}
	var plan domain.Plan
	if q := r.URL.Query(); strategy == domain.BlueGreen && (q.Get("green") != "" || q.Get("pooler") != "") {
		plan, err = a.planBlueGreen(db, q.Get("green"), q.Get("pooler"))
	} else {
		plan, err = a.wrapPlan(planner.ForwardScript(db, strategy, a.raft.State().ReportedInstance, m.MigrationScript))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.PlanResponse{MigrationID: m.MigrationID, DatabaseID: db.DatabaseID, Plan: plan})
	return nil
}

func (a *API) listExecutions(w http.ResponseWriter, r *http.Request, _ principal) error {
	m, err := a.pathMigration(r)
	if err != nil {
		return err
	}
	list := a.raft.State().Executions(func(e *domain.Execution) bool { return e.MigrationID == m.MigrationID })
	writeJSON(w, http.StatusOK, api.ExecutionList{Executions: list, Total: len(list)})
	return nil
}

func (a *API) getExecution(w http.ResponseWriter, r *http.Request, _ principal) error {
	e, err := a.execution(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (a *API) rollbackExecution(w http.ResponseWriter, r *http.Request, p principal) error {
	e, err := a.execution(r)
	if err != nil {
		return err
	}
	var req api.RollbackRequest
	if body, err := readBody(r, smallBodyLimit); err != nil {
		return err
	} else if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if req.Reason == "" {
		return badRequest("a reason is required", domain.FieldError{Field: "reason", Message: "say why, for the log"})
	}
	if err := checkNote("reason", req.Reason); err != nil {
		return err
	}
	if e.DryRun {
		return &apiError{http.StatusConflict, api.CodeConflict, "a dry run applies nothing and has nothing to roll back", nil}
	}
	if err := a.checkSwitchBack(e, req); err != nil {
		return err
	}
	if err := a.commit(w, r, fsm.RequestRollbackRequest{ExecutionID: e.ExecutionID, Reason: req.Reason, By: p.Name,
		At: a.now().UTC()}); err != nil {
		return err
	}
	done := a.waitTerminal(r.Context(), e.ExecutionID, 60*time.Second)
	resp := api.RollbackResponse{ExecutionID: done.ExecutionID, Status: done.Status, RollbackCompletedAt: done.RollbackCompletedAt}
	if !done.RollbackCompletedAt.IsZero() {
		resp.RollbackDuration = done.RollbackCompletedAt.Sub(done.RollbackStartedAt).Seconds()
	}
	status := http.StatusOK
	if !done.Status.Terminal() {
		status = http.StatusAccepted
	}
	writeJSON(w, status, resp)
	return nil
}

// waitTerminal polls the state until the execution ends or the wait is over.
func (a *API) waitTerminal(ctx context.Context, id string, wait time.Duration) domain.Execution {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		e, err := a.raft.State().Execution(id)
		if err != nil || e.Status.Terminal() {
			return e
		}
		select {
		case <-ctx.Done():
			return e
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (a *API) executionMetrics(w http.ResponseWriter, r *http.Request, _ principal) error {
	e, err := a.execution(r)
	if err != nil {
		return err
	}
	since, err := queryInt(r.URL.Query().Get("sinceMs"), 0, 0, 1<<62)
	if err != nil {
		return badRequest("bad sinceMs", domain.FieldError{Field: "sinceMs", Message: "a unix time in milliseconds: " + err.Error()})
	}
	writeJSON(w, http.StatusOK, a.metricsOf(e, int64(since)))
	return nil
}

// metricsOf is an execution's monitoring record with the snapshots taken
// after sinceMs (unix milliseconds).
func (a *API) metricsOf(e domain.Execution, sinceMs int64) api.ExecutionMetrics {
	out := api.ExecutionMetrics{ExecutionID: e.ExecutionID, Status: e.Status, Monitoring: e.Monitoring,
		Baselines: []api.StepBaseline{}, Decisions: e.Decisions}
	for _, s := range a.raft.State().Snapshots(e.ExecutionID) {
		if s.At.UnixMilli() > sinceMs {
			out.Snapshots = append(out.Snapshots, s)
		}
	}
	for _, s := range e.Steps {
		if s.Baseline != nil {
			out.Baselines = append(out.Baselines, api.StepBaseline{StepID: s.StepID, Agent: s.Agent, InstanceID: s.InstanceID, Baseline: *s.Baseline})
		}
	}
	if out.Snapshots == nil {
		out.Snapshots = []domain.Snapshot{}
	}
	if out.Decisions == nil {
		out.Decisions = []domain.Decision{}
	}
	return out
}

func (a *API) pauseExecution(w http.ResponseWriter, r *http.Request, p principal) error {
	e, err := a.execution(r)
	if err != nil {
		return err
	}
	var req api.PauseRequest
	if body, err := readOptionalBody(r, smallBodyLimit); err != nil {
		return err
	} else if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if err := checkNote("reason", req.Reason); err != nil {
		return err
	}
	if req.Reason == "" {
		req.Reason = "no reason given"
	}
	if err := a.commit(w, r, fsm.PauseExecutionRequest{ExecutionID: e.ExecutionID, By: p.Name, Reason: req.Reason, At: a.now().UTC()}); err != nil {
		return err
	}
	return a.writeExecution(w, e.ExecutionID)
}

func (a *API) resumeExecution(w http.ResponseWriter, r *http.Request, p principal) error {
	e, err := a.execution(r)
	if err != nil {
		return err
	}
	var req api.ResumeRequest
	if body, err := readOptionalBody(r, smallBodyLimit); err != nil {
		return err
	} else if err := decodeStrict(body, &req); err != nil {
		return err
	}
	cmd := fsm.ResumeExecutionRequest{ExecutionID: e.ExecutionID, By: p.Name, At: a.now().UTC()}
	if req.Strategy != "" {
		if err := canReplan(e, req.Strategy); err != nil {
			return err
		}
		if !oneOfStrategy(req.Strategy) {
			return badRequest("unknown strategy", domain.FieldError{Field: "strategy", Message: "must be one of Direct, Phased, Canary, BlueGreen, Shadow"})
		}
		db, err := a.raft.State().Database(e.DatabaseID)
		if err != nil {
			return err
		}
		plan, err := a.plan(db, req.Strategy)
		if err != nil {
			return err
		}
		cmd.Strategy, cmd.Steps, cmd.Phases = req.Strategy, remaining(e, plan), plan.Phases
	}
	if err := a.commit(w, r, cmd); err != nil {
		return err
	}
	return a.writeExecution(w, e.ExecutionID)
}

// remaining is a new plan less what the execution already applied, its
// step ids made unique; a verify step of an instance already applied
// points at the step that applied it.
func remaining(e domain.Execution, plan domain.Plan) []domain.Step {
	appliedOn := map[string]string{} // agent/instance -> step id
	for _, s := range e.Steps {
		if s.Kind != domain.StepVerify && s.Direction == domain.Forward && s.Status == domain.StepSucceeded {
			appliedOn[s.Agent+"/"+s.InstanceID] = s.StepID
		}
	}
	prefix := fmt.Sprintf("r%d-", e.Version) // versions only grow: ids never repeat
	renamed := map[string]string{}
	var out []domain.Step
	for _, s := range plan.Steps {
		if id, done := appliedOn[s.Agent+"/"+s.InstanceID]; done && s.Kind != domain.StepVerify {
			renamed[s.StepID] = id
			continue
		}
		renamed[s.StepID] = prefix + s.StepID
		s.StepID = prefix + s.StepID
		out = append(out, s)
	}
	for i := range out {
		if out[i].Verifies != "" {
			out[i].Verifies = renamed[out[i].Verifies]
		}
	}
	return out
}

func (a *API) writeExecution(w http.ResponseWriter, id string) error {
	e, err := a.raft.State().Execution(id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// executeFleet starts a Canary rollout of m over the databases matching
// the selector: a parent execution whose children the orchestrator creates
// wave by wave.
func (a *API) executeFleet(w http.ResponseWriter, r *http.Request, m domain.Migration, template domain.Database, req api.ExecuteRequest, p principal) error {
	if req.Strategy != domain.Canary {
		return badRequest("a selector rolls out over a fleet in Canary waves",
			domain.FieldError{Field: "strategy", Message: "use Canary with a selector"})
	}
	var ids []string
	for _, db := range a.raft.State().Databases() {
		if db.MatchesSelector(req.Selector) && db.Type == template.Type && (req.Environment == "" || db.Environment == req.Environment) {
			ids = append(ids, db.DatabaseID)
		}
	}
	if len(ids) == 0 {
		return badRequest("no database matches the selector",
			domain.FieldError{Field: "selector", Message: fmt.Sprintf("no %s database has the labels %v", template.Type, req.Selector)})
	}
	fleet := &domain.Fleet{Selector: req.Selector, Waves: planner.FleetWaves(ids), Children: map[string]string{}}
	plan := domain.Plan{Strategy: domain.Canary}
	for i, wave := range fleet.Waves {
		why := fmt.Sprintf("%d of %d databases, each with its own execution and lock", len(wave), len(ids))
		plan.Phases = append(plan.Phases, domain.PhaseView{Index: i, Name: fmt.Sprintf("wave %d", i+1), Explanation: why, Steps: len(wave)})
		plan.Explanation = append(plan.Explanation, fmt.Sprintf("phase %d (wave %d): %s", i+1, i+1, why))
	}
	e := a.newExecution(m, template, req, plan, p)
	e.DatabaseID, e.Fleet = "fleet:"+e.ExecutionID, fleet
	// Each database gets the execution timeout; the rollout as a whole, as
	// if they ran one after another.
	e.TimeoutSeconds = req.TimeoutSeconds * int64(len(ids))
	if err := a.commit(w, r, fsm.CreateExecutionRequest{Execution: e, Children: a.firstWave(e)}); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, api.ExecuteResponse{ExecutionID: e.ExecutionID, MigrationID: m.MigrationID,
		Status: e.Status, CreatedAt: e.CreatedAt, EstimatedDuration: m.EstimatedDuration, Plan: plan})
	return nil
}

// firstWave plans the executions of a fleet rollout's first wave, to be
// created in the same entry as the rollout. When one cannot be planned, it
// returns none: the orchestrator tries again and stops the rollout with
// the reason.
func (a *API) firstWave(e domain.Execution) []domain.Execution {
	var out []domain.Execution
	for _, id := range e.Fleet.Waves[0] {
		db, err := a.raft.State().Database(id)
		if err != nil {
			return nil
		}
		c, err := planner.FleetChild(e, db, a.raft.State().ReportedInstance, "exec-"+uuid.NewString(), e.CreatedAt)
		if err != nil {
			return nil
		}
		out = append(out, c)
	}
	return out
}

// shadowRun reads a Shadow rollout's settings; nil for other strategies.
// A workload file is read in the SQL of engine, the database's.
func shadowRun(req api.ExecuteRequest, engine domain.DatabaseType) (*domain.ShadowRun, error) {
	if req.Strategy != domain.Shadow {
		if req.Shadow != nil {
			return nil, badRequest("shadow settings need strategy Shadow", domain.FieldError{Field: "shadow", Message: "use strategy Shadow"})
		}
		return nil, nil
	}
	sr := api.ShadowRequest{}
	if req.Shadow != nil {
		sr = *req.Shadow
	}
	run := &domain.ShadowRun{Source: "captured", Iterations: sr.Iterations, MaxP95Factor: sr.MaxP95Factor, MinWorkloadShare: sr.MinWorkloadShare}
	if run.MinWorkloadShare == 0 {
		run.MinWorkloadShare = 0.5
	}
	if run.MinWorkloadShare < 0 || run.MinWorkloadShare > 1 {
		return nil, badRequest("bad shadow settings", domain.FieldError{Field: "shadow.minWorkloadShare", Message: "a share from 0 to 1"})
	}
	if run.Iterations == 0 {
		run.Iterations = 20
	}
	if run.MaxP95Factor == 0 {
		run.MaxP95Factor = 1.5
	}
	if run.Iterations < 1 || run.Iterations > 10_000 || run.MaxP95Factor < 1 {
		return nil, badRequest("bad shadow settings", domain.FieldError{Field: "shadow",
			Message: "iterations from 1 to 10000, maxP95Factor at least 1"})
	}
	if sr.Workload != "" {
		g, err := replay.GrammarFor(engine)
		if err != nil {
			return nil, badRequest("this engine's workloads cannot be read", domain.FieldError{Field: "shadow.workload", Message: err.Error()})
		}
		w, err := replay.ParseFile(strings.NewReader(sr.Workload), g)
		if err != nil || len(w.Statements) == 0 {
			return nil, badRequest("the workload has no replayable statement", domain.FieldError{Field: "shadow.workload",
				Message: fmt.Sprintf("read-only SQL statements separated by semicolons (%d refused as not read-only): %v", w.Skipped, err)})
		}
		run.Workload, run.Source = w.Statements, "file"
	}
	return run, nil
}

// blueGreenSpec reads a BlueGreen rollout's green instance and pooler.
func blueGreenSpec(db domain.Database, req api.ExecuteRequest) (*domain.BlueGreenSpec, error) {
	if req.Strategy != domain.BlueGreen {
		if req.BlueGreen != nil {
			return nil, badRequest("blueGreen settings need strategy BlueGreen", domain.FieldError{Field: "blueGreen", Message: "use strategy BlueGreen"})
		}
		return nil, nil
	}
	if req.BlueGreen == nil {
		return nil, badRequest("BlueGreen needs its green instance and pooler",
			domain.FieldError{Field: "blueGreen", Message: `{"green": "agent/instance", "pooler": "agent/pooler"}`})
	}
	gAgent, gInst, ok1 := strings.Cut(req.BlueGreen.Green, "/")
	pAgent, pID, ok2 := strings.Cut(req.BlueGreen.Pooler, "/")
	if !ok1 || !ok2 || gAgent == "" || gInst == "" || pAgent == "" || pID == "" {
		return nil, badRequest("bad blueGreen settings", domain.FieldError{Field: "blueGreen",
			Message: `green and pooler are "agent/instance" and "agent/pooler"`})
	}
	blue, _ := db.Master()
	green := domain.InstanceRef{Agent: gAgent, InstanceID: gInst}
	for _, in := range db.Instances {
		if in.Agent == gAgent && in.InstanceID == gInst {
			green.Role = in.Role
		}
	}
	return &domain.BlueGreenSpec{Blue: blue, Green: green, Agent: pAgent, Pooler: pID}, nil
}

// canReplan refuses a strategy switch that would lose track of what runs:
// while a step runs (its outcome is not known yet), on a fleet rollout, or
// to a strategy that needs settings given at execute time.
// rolledLocally reports whether a step kept out of replication (a rolling
// schema change's) has been applied: a new plan would replicate the change
// to replicas that already have it.
func rolledLocally(e domain.Execution) bool {
	for _, s := range e.Steps {
		if s.LocalOnly && s.Status == domain.StepSucceeded {
			return true
		}
	}
	return false
}

func canReplan(e domain.Execution, to domain.Strategy) error {
	for _, s := range e.Steps {
		if s.Status == domain.StepRunning {
			return &apiError{http.StatusConflict, api.CodeConflict,
				"step " + s.StepID + " is still running: resume with a new strategy once it has ended", nil}
		}
	}
	switch {
	case rolledLocally(e):
		return badRequest("a rolling schema change cannot switch strategy", domain.FieldError{Field: "strategy",
			Message: "replicas already took the change outside replication: resume it without one"})
	case e.Fleet != nil:
		return badRequest("a fleet rollout cannot switch strategy", domain.FieldError{Field: "strategy", Message: "resume it without one"})
	case to == domain.Shadow || to == domain.BlueGreen:
		return badRequest("cannot switch to "+string(to)+" on resume", domain.FieldError{Field: "strategy",
			Message: "its settings are given at execute time: use Direct, Phased or Canary"})
	}
	return nil
}

// checkSwitchBack refuses the rollback of a succeeded BlueGreen switch
// without Confirm, saying what it would lose, and refuses it once a later
// switch moved the traffic on (green no longer serves it).
func (a *API) checkSwitchBack(e domain.Execution, req api.RollbackRequest) error {
	if e.BlueGreen == nil || e.Status != domain.ExecutionSucceeded {
		return nil
	}
	bg := e.BlueGreen
	db, err := a.raft.State().Database(e.DatabaseID)
	if err != nil {
		return err
	}
	if m, _ := db.Master(); m.Agent != bg.Green.Agent || m.InstanceID != bg.Green.InstanceID {
		return &apiError{http.StatusConflict, api.CodeConflict, fmt.Sprintf(
			"green %s/%s no longer serves %s (its Master is %s/%s): roll back the later switch first",
			bg.Green.Agent, bg.Green.InstanceID, db.Name, m.Agent, m.InstanceID), nil}
	}
	if req.Confirm {
		return nil
	}
	since := "the switch"
	for _, s := range e.Steps {
		if s.Kind == domain.StepSwitch && !s.CompletedAt.IsZero() {
			since += " at " + s.CompletedAt.UTC().Format(time.RFC3339)
		}
	}
	return badRequest(fmt.Sprintf("switching back to blue %s/%s loses what was written to green %s/%s since %s: "+
		"rows inserted, updated or deleted on green are not on blue, and green's schema change is undone",
		bg.Blue.Agent, bg.Blue.InstanceID, bg.Green.Agent, bg.Green.InstanceID, since),
		domain.FieldError{Field: "confirm", Message: "repeat with confirm: true to switch back anyway (CLI: --confirm)"})
}

// checkBlueGreenReady checks, before anything changes, what a BlueGreen
// rollout needs: blue serves the database, green does not and its agent
// reports it reachable, and the pooler's agent reports that pooler.
func (a *API) checkBlueGreenReady(db domain.Database, bg *domain.BlueGreenSpec) error {
	if bg == nil {
		return nil
	}
	field := func(f, msg string) error {
		return badRequest("BlueGreen cannot start: "+msg, domain.FieldError{Field: "blueGreen." + f, Message: msg})
	}
	if bg.Blue.Agent == "" {
		return field("green", "database "+db.Name+" has no Master to switch the clients from")
	}
	if _, err := planner.BlueGreenPlan(db, *bg); err != nil {
		return nil // the planner says why, with the plan
	}
	if _, ok := a.raft.State().ReportedInstance(bg.Green); !ok {
		return field("green", fmt.Sprintf("agent %s does not report green %s reachable", bg.Green.Agent, bg.Green.InstanceID))
	}
	ag, err := a.raft.State().Agent(bg.Agent)
	if err != nil {
		return field("pooler", "no agent named "+bg.Agent+" manages the pooler")
	}
	if !slices.Contains(ag.Poolers, bg.Pooler) {
		return field("pooler", fmt.Sprintf("agent %s manages no pooler %q (it reports: %s)", bg.Agent, bg.Pooler, orNone(ag.Poolers)))
	}
	return checkPoolerTargets(ag, bg, field)
}

// checkBlueGreenConnected refuses to start a BlueGreen rollout while an
// agent it needs (blue's, green's, the pooler's) is not connected to this
// leader: green would be changed and the switch then wait for an agent
// that may not come back. Only the leader knows who is connected, and only
// the leader executes; a plan (any server) does not check it.
func (a *API) checkBlueGreenConnected(bg *domain.BlueGreenSpec) error {
	if bg == nil || a.presence == nil {
		return nil
	}
	live := a.presence.Presence()
	for _, need := range []struct{ agent, what string }{{bg.Blue.Agent, "blue's"}, {bg.Green.Agent, "green's"},
		{bg.Agent, "the pooler's"}} {
		if !live[need.agent].Connected {
			return &apiError{http.StatusConflict, api.CodeConflict,
				fmt.Sprintf("BlueGreen cannot start: %s agent %s is not connected; nothing was changed", need.what, need.agent),
				[]domain.FieldError{{Field: "blueGreen", Message: "agent " + need.agent + " is not connected"}}}
		}
	}
	return nil
}

// checkPoolerTargets checks that the pooler can send the clients to green
// and back to blue: its agent's config has a target for each (skipped for
// an agent that does not report its targets).
func checkPoolerTargets(ag domain.Agent, bg *domain.BlueGreenSpec, field func(f, msg string) error) error {
	targets, reported := ag.PoolerTargets[bg.Pooler]
	if !reported {
		return nil
	}
	for _, in := range []domain.InstanceRef{bg.Green, bg.Blue} {
		if !slices.Contains(targets, in.InstanceID) {
			return field("pooler", fmt.Sprintf("pooler %s/%s has no target %q for %s/%s in its agent's config (its targets: %s; "+
				"they are named by the instance id of the database registration)", bg.Agent, bg.Pooler, in.InstanceID,
				in.Agent, in.InstanceID, orNone(targets)))
		}
	}
	return nil
}

func orNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

// planBlueGreen shows a BlueGreen plan (green and pooler as the execute
// request's blueGreen takes them), with the checks an execute would make.
func (a *API) planBlueGreen(db domain.Database, green, pooler string) (domain.Plan, error) {
	bg, err := blueGreenSpec(db, api.ExecuteRequest{Strategy: domain.BlueGreen,
		BlueGreen: &api.BlueGreenRequest{Green: green, Pooler: pooler}})
	if err != nil {
		return domain.Plan{}, err
	}
	if err := a.checkBlueGreenReady(db, bg); err != nil {
		return domain.Plan{}, err
	}
	return a.wrapPlan(planner.BlueGreenPlan(db, *bg))
}
