package fsm

import (
	"strconv"
	"sync/atomic"
)

// commandNames names each message type, for metrics and logs.
var commandNames = map[MessageType]string{
	RegisterServerType: "register_server", CreateAPITokenType: "create_api_token", CreateAgentType: "create_agent",
	DeleteAgentType: "delete_agent", ReportAgentType: "report_agent", CreateDatabaseType: "create_database",
	UpdateDatabaseType: "update_database", DeleteDatabaseType: "delete_database", CreateMigrationType: "create_migration",
	UpdateMigrationType: "update_migration", DeleteMigrationType: "delete_migration", CreateExecutionType: "create_execution",
	StartExecutionType: "start_execution", UpdateExecutionType: "update_execution", RequestRollbackType: "request_rollback",
	AppendSnapshotsType: "append_snapshots", PauseExecutionType: "pause_execution", ResumeExecutionType: "resume_execution",
	DispatchStepsType: "dispatch_steps", StepResultType: "step_result", StepEventsType: "step_events",
	CancelPendingStepsType: "cancel_pending_steps", DecisionType: "decision", StartRollbackType: "start_rollback",
	EndExecutionType: "end_execution", CreateFleetWaveType: "create_fleet_wave", PhaseDoneType: "phase_done",
	CreateUserType: "create_user", DeleteUserType: "delete_user", SetSigningKeyType: "set_signing_key",
	DecideMigrationType: "decide_migration", AuditedType: "audited",
	RetryRollbackType: "retry_rollback", ResolveExecutionType: "resolve_execution",
	OperatorActionType: "operator_action", RevokeAPITokenType: "revoke_api_token", RecordLoginType: "login",
	SubmitApprovalType: "submit_approval", ArchiveAuditType: "archive_audit",
	DeleteDatabaseHistoryType: "delete_database_history",
}

// String names the message type.
func (t MessageType) String() string {
	if n, ok := commandNames[t]; ok {
		return n
	}
	return "type_" + strconv.Itoa(int(t))
}

// AppliedStat is how many log entries of one type this server applied,
// and their size: the type byte and the encoded body, as committed.
type AppliedStat struct {
	Entries uint64
	Bytes   uint64
}

// appliedCounters counts the entries applied since the process started,
// by type. They are not part of the state (a snapshot does not carry
// them): they measure this server's log traffic.
type appliedCounters struct {
	entries [256]atomic.Uint64
	bytes   [256]atomic.Uint64
}

func (c *appliedCounters) add(t MessageType, n int) {
	c.entries[t].Add(1)
	c.bytes[t].Add(uint64(n))
}

// Applied returns, by message type, the command entries this server
// applied since it started and their total size in bytes.
func (f *FSM) Applied() map[MessageType]AppliedStat {
	out := map[MessageType]AppliedStat{}
	for t := range f.counters.entries {
		if n := f.counters.entries[t].Load(); n > 0 {
			out[MessageType(t)] = AppliedStat{Entries: n, Bytes: f.counters.bytes[t].Load()}
		}
	}
	return out
}
