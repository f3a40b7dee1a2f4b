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
		SystemIdentifier: s.SystemIdentifier,
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
		SystemIdentifier: s.GetSystemIdentifier(),
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
	return &DBError{Message: e.Message, SqlState: e.SQLState, Statement: e.Statement}
}

// DBErrorToDomain converts a wire database error (nil stays nil).
func DBErrorToDomain(e *DBError) *domain.DBError {
	if e == nil {
		return nil
	}
	return &domain.DBError{Message: e.GetMessage(), SQLState: e.GetSqlState(), Statement: e.GetStatement()}
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
