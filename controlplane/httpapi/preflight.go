package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// preflightWarnings words an instance's failed preflight checks.
func preflightWarnings(ref domain.InstanceRef, p *domain.Preflight) []string {
	var out []string
	for _, c := range p.Failures() {
		out = append(out, fmt.Sprintf("%s/%s: %s", ref.Agent, ref.InstanceID, c.Describe()))
	}
	return out
}

// guardReport is what the agents' preflights say about an execution's
// guards: the instances whose lock-queue guard is blind, and the log
// lines to record.
type guardReport struct {
	blind []string
	logs  []domain.LogEntry
}

// assessGuards reads the preflight of every instance a step of the plan
// applies DDL on or is monitored on.
func (a *API) assessGuards(plan domain.Plan) guardReport {
	var r guardReport
	seen := map[domain.InstanceRef]bool{}
	for _, s := range plan.Steps {
		ref := domain.InstanceRef{Agent: s.Agent, InstanceID: s.InstanceID}
		if s.Kind != domain.StepApply || seen[ref] {
			continue
		}
		seen[ref] = true
		st, ok := a.raft.State().ReportedInstance(ref)
		if !ok || st.Preflight == nil {
			r.warn("%s/%s: its agent reported no preflight: the guards' rights are unverified", ref.Agent, ref.InstanceID)
			continue
		}
		if c, _ := st.Preflight.Check(domain.PreflightSessions); !c.OK {
			r.blind = append(r.blind, fmt.Sprintf("%s/%s (%s; fix: %s)", ref.Agent, ref.InstanceID, c.Detail, c.Fix))
		}
		if c, _ := st.Preflight.Check(domain.PreflightLatency); !c.OK {
			r.warn("latency rule disabled on %s/%s: %s (fix: %s)", ref.Agent, ref.InstanceID, c.Detail, c.Fix)
		}
	}
	return r
}

// warn adds a warning to the log lines.
func (r *guardReport) warn(format string, args ...any) {
	r.logs = append(r.logs, domain.LogEntry{Level: "warn", Message: fmt.Sprintf(format, args...)})
}

// checkGuards refuses an execution whose lock-queue guard is blind unless
// the caller accepted it, and returns the lines for the execution's log.
func (a *API) checkGuards(plan domain.Plan, req api.ExecuteRequest, p principal) ([]domain.LogEntry, error) {
	r := a.assessGuards(plan)
	if len(r.blind) == 0 {
		return r.logs, nil
	}
	if !req.AcceptBlindLockGuard {
		return nil, &apiError{http.StatusConflict, api.CodeConflict, "the lock-queue guard would be blind: the agent cannot see " +
			"other sessions on " + strings.Join(r.blind, "; ") + ". Its DDL could queue behind a blocker and stall the " +
			"application for a lock timeout on every retry. Fix the role, or accept it with acceptBlindLockGuard " +
			"(hotswap migration execute --accept-blind-lock-guard)", nil}
	}
	r.warn("lock-queue guard blind on %s: accepted by %s", strings.Join(r.blind, "; "), p.Name)
	return r.logs, nil
}

// stampLogs dates the guard lines and adds them to the execution's log.
func stampLogs(e *domain.Execution, lines []domain.LogEntry) []string {
	var msgs []string
	for _, l := range lines {
		l.Time = e.CreatedAt
		e.Logs = append(e.Logs, l)
		msgs = append(msgs, l.Message)
	}
	return msgs
}
