package agentpb

import (
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// FromDomain converts an instance status to its wire form.
func FromDomain(s domain.InstanceStatus) *InstanceStatus {
	out := &InstanceStatus{
		InstanceId: s.InstanceID, Engine: string(s.Engine), ServerVersion: s.ServerVersion, Role: string(s.Role),
		Reachable: s.Reachable, Error: s.Error, ActiveConnections: int32(s.ActiveConnections),
		ReplicationLagSeconds: s.ReplicationLagSeconds, CheckedUnixMs: s.CheckedAt.UnixMilli(),
		SystemIdentifier: s.SystemIdentifier, Preflight: PreflightFromDomain(s.Preflight),
	}
	for _, l := range s.Links {
		out.Links = append(out.Links, &ReplicationLink{Direction: l.Direction, Kind: l.Kind, Peer: l.Peer,
			State: l.State, LagSeconds: l.LagSeconds, Name: l.Name})
	}
	return out
}

// ToDomain converts a wire instance status to the domain type.
func ToDomain(s *InstanceStatus) domain.InstanceStatus {
	out := domain.InstanceStatus{
		InstanceID: s.GetInstanceId(), Engine: domain.DatabaseType(s.GetEngine()), ServerVersion: s.GetServerVersion(),
		Role: domain.DetectedRole(s.GetRole()), Reachable: s.GetReachable(), Error: s.GetError(),
		ActiveConnections: int(s.GetActiveConnections()), ReplicationLagSeconds: s.GetReplicationLagSeconds(),
		SystemIdentifier: s.GetSystemIdentifier(), Preflight: PreflightToDomain(s.GetPreflight()),
	}
	if ms := s.GetCheckedUnixMs(); ms > 0 {
		out.CheckedAt = time.UnixMilli(ms).UTC()
	}
	for _, l := range s.GetLinks() {
		out.Links = append(out.Links, domain.ReplicationLink{Direction: l.GetDirection(), Kind: l.GetKind(),
			Peer: l.GetPeer(), State: l.GetState(), LagSeconds: l.GetLagSeconds(), Name: l.GetName()})
	}
	return out
}

// PreflightFromDomain converts a preflight to its wire form (nil stays nil).
func PreflightFromDomain(p *domain.Preflight) *Preflight {
	if p == nil {
		return nil
	}
	out := &Preflight{CheckedUnixMs: p.CheckedAt.UnixMilli()}
	for _, c := range p.Checks {
		out.Checks = append(out.Checks, &PreflightCheck{Name: c.Name, Ok: c.OK, Detail: c.Detail, Fix: c.Fix})
	}
	return out
}

// PreflightToDomain converts a wire preflight (nil stays nil).
func PreflightToDomain(p *Preflight) *domain.Preflight {
	if p == nil {
		return nil
	}
	out := &domain.Preflight{Checks: []domain.PreflightCheck{}}
	if ms := p.GetCheckedUnixMs(); ms > 0 {
		out.CheckedAt = time.UnixMilli(ms).UTC()
	}
	for _, c := range p.GetChecks() {
		out.Checks = append(out.Checks, domain.PreflightCheck{Name: c.GetName(), OK: c.GetOk(), Detail: c.GetDetail(), Fix: c.GetFix()})
	}
	return out
}

// ToDomainList converts a list of wire instance statuses.
func ToDomainList(in []*InstanceStatus) []domain.InstanceStatus {
	out := make([]domain.InstanceStatus, 0, len(in))
	for _, s := range in {
		out = append(out, ToDomain(s))
	}
	return out
}

// StatementFromDomain converts a statement result to its wire form.
func StatementFromDomain(s domain.StatementResult) *StatementResult {
	return &StatementResult{Index: int32(s.Index), Sql: s.SQL, StartedUnixMs: s.StartedAt.UnixMilli(),
		DurationMs: s.DurationMs, RowsAffected: s.RowsAffected, Attempts: int32(s.Attempts)}
}

// StatementToDomain converts a wire statement result.
func StatementToDomain(s *StatementResult) domain.StatementResult {
	return domain.StatementResult{Index: int(s.GetIndex()), SQL: s.GetSql(), StartedAt: time.UnixMilli(s.GetStartedUnixMs()).UTC(),
		DurationMs: s.GetDurationMs(), RowsAffected: s.GetRowsAffected(), Attempts: int(s.GetAttempts())}
}

// DBErrorFromDomain converts a database error to its wire form (nil stays nil).
func DBErrorFromDomain(e *domain.DBError) *DBError {
	if e == nil {
		return nil
	}
	return &DBError{Message: e.Message, SqlState: e.SQLState, Statement: e.Statement, Detail: e.Detail, Hint: e.Hint}
}

// DBErrorToDomain converts a wire database error (nil stays nil).
func DBErrorToDomain(e *DBError) *domain.DBError {
	if e == nil {
		return nil
	}
	return &domain.DBError{Message: e.GetMessage(), SQLState: e.GetSqlState(), Statement: e.GetStatement(),
		Detail: e.GetDetail(), Hint: e.GetHint()}
}

// HistoryFromDomain converts a history row to its wire form.
func HistoryFromDomain(r domain.HistoryRow) *HistoryRow {
	return &HistoryRow{ExecutionId: r.ExecutionID, StepId: r.StepID, MigrationId: r.MigrationID,
		MigrationName: r.MigrationName, Direction: string(r.Direction), Checksum: r.Checksum,
		FencingToken: r.FencingToken, AppliedUnixMs: r.AppliedAt.UnixMilli(), DurationMs: r.DurationMs, AppliedBy: r.AppliedBy}
}

// HistoryToDomain converts a wire history row.
func HistoryToDomain(r *HistoryRow) domain.HistoryRow {
	return domain.HistoryRow{ExecutionID: r.GetExecutionId(), StepID: r.GetStepId(), MigrationID: r.GetMigrationId(),
		MigrationName: r.GetMigrationName(), Direction: domain.Direction(r.GetDirection()), Checksum: r.GetChecksum(),
		FencingToken: r.GetFencingToken(), AppliedAt: time.UnixMilli(r.GetAppliedUnixMs()).UTC(),
		DurationMs: r.GetDurationMs(), AppliedBy: r.GetAppliedBy()}
}

// SampleFromDomain converts a sample to its wire form.
func SampleFromDomain(s domain.Sample) *Sample {
	return &Sample{InstanceId: s.InstanceID, AtUnixMs: s.At.UnixMilli(), IntervalMs: s.IntervalMs,
		AvgLatencyMs: s.AvgLatencyMs, P95LatencyMs: s.P95LatencyMs, P99LatencyMs: s.P99LatencyMs, Calls: s.Calls,
		Tps: s.TPS, ActiveConnections: int32(s.ActiveConnections), ActiveSessions: int32(s.ActiveSessions),
		LockWaiters: int32(s.LockWaiters), LockWaitMs: s.LockWaitMs, ReplicationLagSeconds: s.ReplicationLagSeconds,
		Deadlocks: s.Deadlocks, CpuPercent: s.CPUPercent, DiskIops: s.DiskIOPS,
		Statements: statementSamplesFromDomain(s.Statements), QueuedBehindAgent: int32(s.QueuedBehindAgent)}
}

// SampleToDomain converts a wire sample.
func SampleToDomain(s *Sample) domain.Sample {
	return domain.Sample{InstanceID: s.GetInstanceId(), At: time.UnixMilli(s.GetAtUnixMs()).UTC(), IntervalMs: s.GetIntervalMs(),
		AvgLatencyMs: s.GetAvgLatencyMs(), P95LatencyMs: s.GetP95LatencyMs(), P99LatencyMs: s.GetP99LatencyMs(),
		Calls: s.GetCalls(), TPS: s.GetTps(), ActiveConnections: int(s.GetActiveConnections()),
		ActiveSessions: int(s.GetActiveSessions()), LockWaiters: int(s.GetLockWaiters()), LockWaitMs: s.GetLockWaitMs(),
		ReplicationLagSeconds: s.GetReplicationLagSeconds(), Deadlocks: s.GetDeadlocks(), CPUPercent: s.GetCpuPercent(),
		DiskIOPS: s.GetDiskIops(), Statements: statementSamplesToDomain(s.GetStatements()),
		QueuedBehindAgent: int(s.GetQueuedBehindAgent())}
}

// GuardFromDomain builds the guard a step is watched against.
func GuardFromDomain(th domain.Thresholds, base domain.Baseline, interval time.Duration) *Guard {
	return &Guard{BaselineLatencyMs: base.AvgLatencyMs, LatencyFactor: th.LatencyFactor, MinLatencyDeltaMs: th.MinLatencyDeltaMs,
		LockWaitMs: th.LockWaitMs, CpuPercent: th.CPUPercent, CpuForMs: th.CPUForMs, ConfirmSamples: int32(th.ConfirmSamples),
		SampleIntervalMs: interval.Milliseconds(), Statements: statementBaselinesFromDomain(base.Statements),
		LatencyNotArmed: base.LatencyNotArmed}
}

// GuardToDomain reads a guard's thresholds and baseline.
func GuardToDomain(g *Guard) (domain.Thresholds, domain.Baseline) {
	th := domain.Thresholds{LatencyFactor: g.GetLatencyFactor(), MinLatencyDeltaMs: g.GetMinLatencyDeltaMs(),
		LockWaitMs: g.GetLockWaitMs(), CPUPercent: g.GetCpuPercent(), CPUForMs: g.GetCpuForMs(),
		ConfirmSamples: int(g.GetConfirmSamples())}
	return th, domain.Baseline{AvgLatencyMs: g.GetBaselineLatencyMs(), Statements: statementBaselinesToDomain(g.GetStatements()),
		LatencyNotArmed: g.GetLatencyNotArmed()}
}

// BreachFromDecision converts a guard's decision to a breach report.
func BreachFromDecision(execID, stepID string, d domain.Decision) *GuardBreach {
	return &GuardBreach{ExecutionId: execID, StepId: stepID, InstanceId: d.InstanceID, Counter: d.Counter,
		Value: d.Value, Threshold: d.Threshold, DetectedUnixMs: d.DetectedAt.UnixMilli(), OnsetUnixMs: d.OnsetAt.UnixMilli(),
		Statements: slowStatementsFromDomain(d.Statements)}
}

// BreachToDecision converts a breach report to a rollback decision.
func BreachToDecision(b *GuardBreach) domain.Decision {
	return domain.Decision{Action: "rollback", Counter: b.GetCounter(), InstanceID: b.GetInstanceId(), Value: b.GetValue(),
		Threshold: b.GetThreshold(), DetectedAt: time.UnixMilli(b.GetDetectedUnixMs()).UTC(),
		OnsetAt: time.UnixMilli(b.GetOnsetUnixMs()).UTC(), Statements: slowStatementsToDomain(b.GetStatements())}
}

// SchemaDriftFromDomain converts a schema drift item to its wire form.
func SchemaDriftFromDomain(d domain.SchemaDrift) *SchemaDrift {
	return &SchemaDrift{Object: d.Object, Change: d.Change, Message: d.Message, ExecutionId: d.ExecutionID, StepId: d.StepID}
}

// SchemaDriftToDomain converts a wire schema drift item.
func SchemaDriftToDomain(d *SchemaDrift) domain.SchemaDrift {
	return domain.SchemaDrift{Object: d.GetObject(), Change: d.GetChange(), Message: d.GetMessage(),
		ExecutionID: d.GetExecutionId(), StepID: d.GetStepId()}
}
