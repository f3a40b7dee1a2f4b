package orchestrator

import (
	"github.com/hotswap-db/hotswap/controlplane/planner"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/replay"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// recordShadow keeps what a Shadow rollout's capture and replay steps
// reported and, after the second replay, compares it with the first: a p95
// over the limit fails the step, which rolls the shadow back and stops the
// rollout before it reaches production.
func (o *Orchestrator) recordShadow(x *domain.Execution, s *domain.Step, r *agentpb.StepResult) []domain.LogEntry {
	if x.Shadow == nil || s.Status != domain.StepSucceeded {
		return nil
	}
	sh := *x.Shadow
	x.Shadow = &sh
	switch s.Kind {
	case domain.StepCapture:
		sh.Workload = r.GetWorkload()
		if len(sh.Workload) == 0 {
			s.Status, s.Error = domain.StepFailed, &domain.DBError{Message: "no replayable read statement was captured: give a workload file (shadow.workload)"}
			return nil
		}
		return []domain.LogEntry{logEntry(o.now(), "info", "captured %d read statement(s) to replay on the shadow", len(sh.Workload))}
	case domain.StepReplay:
		return o.recordReplay(&sh, s, r.GetReplay())
	}
	return nil
}

func (o *Orchestrator) recordReplay(sh *domain.ShadowRun, s *domain.Step, rr *agentpb.ReplayResult) []domain.LogEntry {
	res := &domain.ReplayResult{Runs: int(rr.GetRuns()), Errors: int(rr.GetErrors()), P50Ms: rr.GetP50Ms(), P95Ms: rr.GetP95Ms(),
		P99Ms: rr.GetP99Ms(), MeanMs: rr.GetMeanMs(), FirstError: rr.GetFirstError()}
	s.Replay = res
	if s.Phase == planner.PhaseReplayBefore {
		sh.Before = res
		return []domain.LogEntry{logEntry(o.now(), "info", "shadow before the change: p95 %.2f ms over %d runs", res.P95Ms, res.Runs)}
	}
	sh.After = res
	if sh.Before == nil {
		return nil
	}
	ok, reason := replay.Compare(toReplay(*sh.Before), toReplay(*res), sh.MaxP95Factor)
	sh.Passed, sh.Verdict = ok, reason
	if !ok {
		s.Status, s.Error = domain.StepFailed, &domain.DBError{Message: "shadow replay: " + reason}
		return []domain.LogEntry{logEntry(o.now(), "error", "shadow replay: %s: the change stops here", reason)}
	}
	return []domain.LogEntry{logEntry(o.now(), "info", "shadow replay: %s: going on", reason)}
}

func toReplay(r domain.ReplayResult) replay.Result {
	return replay.Result{Runs: r.Runs, Errors: r.Errors, P50Ms: r.P50Ms, P95Ms: r.P95Ms, P99Ms: r.P99Ms, MeanMs: r.MeanMs}
}
