package fsm

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// MessageType identifies a command in the Raft log. Values are only ever
// added: never renumbered, never reused, so old logs stay readable.
type MessageType uint8

// The command types.
const (
	RegisterServerType  MessageType = 1
	CreateAPITokenType  MessageType = 2
	CreateAgentType     MessageType = 3
	DeleteAgentType     MessageType = 4
	ReportAgentType     MessageType = 5
	CreateDatabaseType  MessageType = 6
	UpdateDatabaseType  MessageType = 7
	DeleteDatabaseType  MessageType = 8
	CreateMigrationType MessageType = 9
	UpdateMigrationType MessageType = 10
	DeleteMigrationType MessageType = 11
	CreateExecutionType MessageType = 12
	StartExecutionType  MessageType = 13
	UpdateExecutionType MessageType = 14
	RequestRollbackType MessageType = 15
	AppendSnapshotsType MessageType = 16
	PauseExecutionType  MessageType = 17
	ResumeExecutionType MessageType = 18
	// The changes to an execution, one command per kind, since type 19.
	DispatchStepsType      MessageType = 19
	StepResultType         MessageType = 20
	StepEventsType         MessageType = 21
	CancelPendingStepsType MessageType = 22
	DecisionType           MessageType = 23
	StartRollbackType      MessageType = 24
	EndExecutionType       MessageType = 25
	CreateFleetWaveType    MessageType = 26
	PhaseDoneType          MessageType = 27
	// Users and the login token signing key, since type 28.
	CreateUserType    MessageType = 28
	DeleteUserType    MessageType = 29
	SetSigningKeyType MessageType = 30
	// Approval decisions on migrations, since type 31.
	DecideMigrationType MessageType = 31
	// A command with who asked for it, for the audit log, since type 32.
	AuditedType MessageType = 32
	// An operator's retry of a failed rollback, and an execution marked
	// resolved by hand, since type 33.
	RetryRollbackType    MessageType = 33
	ResolveExecutionType MessageType = 34
	// What an operator did to the cluster itself (a restore, a leadership
	// transfer), recorded for the audit log, since type 35.
	OperatorActionType MessageType = 35
	// A personal or cluster API token revoked, and a login's outcome, since
	// types 36 and 37.
	RevokeAPITokenType MessageType = 36
	RecordLoginType    MessageType = 37
	// A migration submitted for approval, since type 38.
	SubmitApprovalType MessageType = 38
	// Audit entries archived to a file and dropped from the state, since type 39.
	ArchiveAuditType MessageType = 39
)

// Command is anything that can be committed: it knows its type.
type Command interface{ Type() MessageType }

// RegisterServerRequest records a server's addresses.
type RegisterServerRequest struct{ Server domain.Server }

// CreateAPITokenRequest adds an API token (stored by hash).
type CreateAPITokenRequest struct {
	Token domain.APIToken
	Hash  string
}

// CreateAgentRequest registers an agent and the hash of its token.
type CreateAgentRequest struct {
	Agent     domain.Agent
	TokenHash string
}

// DeleteAgentRequest removes an agent; its token stops working.
type DeleteAgentRequest struct{ Name string }

// ReportAgentRequest records what an agent reported about its instances.
type ReportAgentRequest struct {
	Name       string
	Hostname   string
	Version    string
	Instances  []domain.InstanceStatus
	ReportedAt time.Time
	Poolers    []string `json:",omitempty"`
	// PoolerTargets: see domain.Agent.PoolerTargets.
	PoolerTargets map[string][]string `json:",omitempty"`
}

// CreateDatabaseRequest registers a database.
type CreateDatabaseRequest struct{ Database domain.Database }

// UpdateDatabaseRequest replaces a database's registration.
type UpdateDatabaseRequest struct{ Database domain.Database }

// DeleteDatabaseRequest removes a database that has no migrations.
type DeleteDatabaseRequest struct{ DatabaseID string }

// CreateMigrationRequest stores a new migration.
type CreateMigrationRequest struct{ Migration domain.Migration }

// UpdateMigrationRequest replaces an editable migration.
type UpdateMigrationRequest struct{ Migration domain.Migration }

// DeleteMigrationRequest removes an editable migration nothing depends on.
type DeleteMigrationRequest struct{ MigrationID string }

// Type implements Command.
func (RegisterServerRequest) Type() MessageType { return RegisterServerType }

// Type implements Command.
func (CreateAPITokenRequest) Type() MessageType { return CreateAPITokenType }

// Type implements Command.
func (CreateAgentRequest) Type() MessageType { return CreateAgentType }

// Type implements Command.
func (DeleteAgentRequest) Type() MessageType { return DeleteAgentType }

// Type implements Command.
func (ReportAgentRequest) Type() MessageType { return ReportAgentType }

// Type implements Command.
func (CreateDatabaseRequest) Type() MessageType { return CreateDatabaseType }

// Type implements Command.
func (UpdateDatabaseRequest) Type() MessageType { return UpdateDatabaseType }

// Type implements Command.
func (DeleteDatabaseRequest) Type() MessageType { return DeleteDatabaseType }

// Type implements Command.
func (CreateMigrationRequest) Type() MessageType { return CreateMigrationType }

// Type implements Command.
func (UpdateMigrationRequest) Type() MessageType { return UpdateMigrationType }

// Type implements Command.
func (DeleteMigrationRequest) Type() MessageType { return DeleteMigrationType }

// Encode turns a command into a Raft log entry: its type byte, then JSON.
func Encode(c Command) ([]byte, error) {
	body, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode command %d: %w", c.Type(), err)
	}
	return append([]byte{byte(c.Type())}, body...), nil
}

// applyFunc decodes one command's body and applies it to the state, which
// the caller has locked for writing.
type applyFunc func(s *State, body []byte) error

// commands maps each message type to its apply function.
var commands = map[MessageType]applyFunc{
	RegisterServerType:  decodeAnd((*State).applyRegisterServer),
	CreateAPITokenType:  decodeAnd((*State).applyCreateAPIToken),
	CreateAgentType:     decodeAnd((*State).applyCreateAgent),
	DeleteAgentType:     decodeAnd((*State).applyDeleteAgent),
	ReportAgentType:     decodeAnd((*State).applyReportAgent),
	CreateDatabaseType:  decodeAnd((*State).applyCreateDatabase),
	UpdateDatabaseType:  decodeAnd((*State).applyUpdateDatabase),
	DeleteDatabaseType:  decodeAnd((*State).applyDeleteDatabase),
	CreateMigrationType: decodeAnd((*State).applyCreateMigration),
	UpdateMigrationType: decodeAnd((*State).applyUpdateMigration),
	DeleteMigrationType: decodeAnd((*State).applyDeleteMigration),
	CreateExecutionType: decodeAnd((*State).applyCreateExecution),
	StartExecutionType:  decodeAnd((*State).applyStartExecution),
	UpdateExecutionType: decodeAnd((*State).applyUpdateExecution),
	RequestRollbackType: decodeAnd((*State).applyRequestRollback),
	AppendSnapshotsType: decodeAnd((*State).applyAppendSnapshots),
	PauseExecutionType:  decodeAnd((*State).applyPauseExecution),
	ResumeExecutionType: decodeAnd((*State).applyResumeExecution),

	DispatchStepsType:      decodeAnd((*State).applyDispatchSteps),
	StepResultType:         decodeAnd((*State).applyStepResult),
	StepEventsType:         decodeAnd((*State).applyStepEvents),
	CancelPendingStepsType: decodeAnd((*State).applyCancelPendingSteps),
	DecisionType:           decodeAnd((*State).applyDecision),
	StartRollbackType:      decodeAnd((*State).applyStartRollback),
	EndExecutionType:       decodeAnd((*State).applyEndExecution),
	CreateFleetWaveType:    decodeAnd((*State).applyCreateFleetWave),
	PhaseDoneType:          decodeAnd((*State).applyPhaseDone),

	CreateUserType:    decodeAnd((*State).applyCreateUser),
	DeleteUserType:    decodeAnd((*State).applyDeleteUser),
	SetSigningKeyType: decodeAnd((*State).applySetSigningKey),

	DecideMigrationType: decodeAnd((*State).applyDecideMigration),

	RetryRollbackType:    decodeAnd((*State).applyRetryRollback),
	ResolveExecutionType: decodeAnd((*State).applyResolveExecution),

	OperatorActionType: decodeAnd((*State).applyOperatorAction),

	RevokeAPITokenType: decodeAnd((*State).applyRevokeAPIToken),
	RecordLoginType:    decodeAnd((*State).applyRecordLogin),

	SubmitApprovalType:        decodeAnd((*State).applySubmitApproval),
	ArchiveAuditType:          decodeAnd((*State).applyArchiveAudit),
	DeleteDatabaseHistoryType: decodeAnd((*State).applyDeleteDatabaseHistory),
}

// decodeAnd adapts a typed apply method to an applyFunc. A body that does not
// decode means the log is corrupt or from an unknown future: panic, since
// carrying on would let servers diverge.
func decodeAnd[T any](apply func(*State, T) error) applyFunc {
	return func(s *State, body []byte) error {
		var req T
		if err := json.Unmarshal(body, &req); err != nil {
			panic(fmt.Sprintf("fsm: decode %T: %v", req, err))
		}
		return apply(s, req)
	}
}

func (s *State) applyRegisterServer(r RegisterServerRequest) error {
	s.servers[r.Server.ID] = r.Server
	return nil
}

func (s *State) applyCreateAPIToken(r CreateAPITokenRequest) error {
	if _, ok := s.tokens[r.Token.TokenID]; ok {
		return conflict("token %q already exists", r.Token.TokenID)
	}
	s.tokens[r.Token.TokenID] = tokenRecord{Token: r.Token, Hash: r.Hash}
	return nil
}

func (s *State) applyCreateAgent(r CreateAgentRequest) error {
	if _, ok := s.agents[r.Agent.Name]; ok {
		return conflict("agent %q already exists", r.Agent.Name)
	}
	s.agents[r.Agent.Name] = agentRecord{Agent: r.Agent, TokenHash: r.TokenHash}
	return nil
}

func (s *State) applyDeleteAgent(r DeleteAgentRequest) error {
	if _, ok := s.agents[r.Name]; !ok {
		return notFound("agent", r.Name)
	}
	for _, d := range s.databases {
		for _, in := range d.Instances {
			if in.Agent == r.Name {
				return conflict("agent %q serves database %q: remove it from the database first", r.Name, d.Name)
			}
		}
	}
	delete(s.agents, r.Name)
	return nil
}

func (s *State) applyReportAgent(r ReportAgentRequest) error {
	rec, ok := s.agents[r.Name]
	if !ok {
		return notFound("agent", r.Name)
	}
	rec.Agent.Hostname, rec.Agent.Version = r.Hostname, r.Version
	rec.Agent.Instances, rec.Agent.ReportedAt, rec.Agent.Poolers = r.Instances, r.ReportedAt, r.Poolers
	rec.Agent.PoolerTargets = r.PoolerTargets
	s.agents[r.Name] = rec
	return nil
}

func (s *State) applyCreateDatabase(r CreateDatabaseRequest) error {
	if _, ok := s.databases[r.Database.DatabaseID]; ok {
		return conflict("database id %q already exists", r.Database.DatabaseID)
	}
	if err := s.checkDatabase(r.Database); err != nil {
		return err
	}
	s.databases[r.Database.DatabaseID] = r.Database
	return nil
}

func (s *State) applyUpdateDatabase(r UpdateDatabaseRequest) error {
	if _, ok := s.databases[r.Database.DatabaseID]; !ok {
		return notFound("database", r.Database.DatabaseID)
	}
	if err := s.checkDatabase(r.Database); err != nil {
		return err
	}
	s.databases[r.Database.DatabaseID] = r.Database
	return nil
}

// checkDatabase enforces what needs the whole state: a unique name and
// instances served by registered agents, each in one database only.
func (s *State) checkDatabase(d domain.Database) error {
	for _, other := range s.databases {
		if other.DatabaseID == d.DatabaseID {
			continue
		}
		if other.Name == d.Name {
			return conflict("a database named %q already exists", d.Name)
		}
		for _, in := range d.Instances {
			for _, o := range other.Instances {
				if in.Agent == o.Agent && in.InstanceID == o.InstanceID {
					return conflict("instance %s/%s already belongs to database %q", in.Agent, in.InstanceID, other.Name)
				}
			}
		}
	}
	for _, in := range d.Instances {
		if _, ok := s.agents[in.Agent]; !ok {
			return notFound("agent", in.Agent)
		}
	}
	return nil
}

func (s *State) applyDeleteDatabase(r DeleteDatabaseRequest) error {
	d, ok := s.databases[r.DatabaseID]
	if !ok {
		return notFound("database", r.DatabaseID)
	}
	for _, m := range s.migrations {
		if m.TargetDatabaseID == d.DatabaseID {
			return conflict("database %q has migrations (%s): delete those that have not run, or delete the database "+
				"with its finished migrations and their executions (?force=true; hotswap database delete --force)", d.Name, m.Name)
		}
	}
	delete(s.databases, r.DatabaseID)
	return nil
}

func (s *State) applyCreateMigration(r CreateMigrationRequest) error {
	if _, ok := s.migrations[r.Migration.MigrationID]; ok {
		return conflict("migration id %q already exists", r.Migration.MigrationID)
	}
	if err := s.checkMigration(r.Migration); err != nil {
		return err
	}
	s.migrations[r.Migration.MigrationID] = r.Migration
	return nil
}

func (s *State) applyUpdateMigration(r UpdateMigrationRequest) error {
	old, ok := s.migrations[r.Migration.MigrationID]
	if !ok {
		return notFound("migration", r.Migration.MigrationID)
	}
	if !old.Editable() {
		return conflict("migration %q is %s and can no longer be changed", old.Name, old.Status)
	}
	for _, e := range s.executions {
		if e.MigrationID == old.MigrationID && !e.Status.Terminal() {
			return conflict("migration %q has execution %s waiting or running: it would run a script nobody reviewed", old.Name, e.ExecutionID)
		}
	}
	if err := s.checkMigration(r.Migration); err != nil {
		return err
	}
	s.withdrawApprovals(old, r.Migration)
	s.migrations[r.Migration.MigrationID] = r.Migration
	return nil
}

// checkMigration enforces what needs the whole state: the target exists,
// the name is unique on it, dependencies exist on the same database and
// form no cycle.
func (s *State) checkMigration(m domain.Migration) error {
	if _, ok := s.databases[m.TargetDatabaseID]; !ok {
		return notFound("database", m.TargetDatabaseID)
	}
	for _, other := range s.migrations {
		if other.MigrationID != m.MigrationID && other.TargetDatabaseID == m.TargetDatabaseID && other.Name == m.Name {
			return conflict("a migration named %q already exists on this database", m.Name)
		}
	}
	for _, dep := range m.Dependencies {
		d, ok := s.migrations[dep]
		if !ok {
			return notFound("dependency migration", dep)
		}
		if d.TargetDatabaseID != m.TargetDatabaseID {
			return conflict("dependency %q targets another database", dep)
		}
		if s.dependsOn(dep, m.MigrationID, map[string]bool{}) {
			return conflict("dependency %q would form a cycle", dep)
		}
	}
	return nil
}

// dependsOn reports whether migration from depends, directly or not, on target.
func (s *State) dependsOn(from, target string, seen map[string]bool) bool {
	if from == target {
		return true
	}
	if seen[from] {
		return false
	}
	seen[from] = true
	for _, d := range s.migrations[from].Dependencies {
		if s.dependsOn(d, target, seen) {
			return true
		}
	}
	return false
}

func (s *State) applyDeleteMigration(r DeleteMigrationRequest) error {
	m, ok := s.migrations[r.MigrationID]
	if !ok {
		return notFound("migration", r.MigrationID)
	}
	if !m.Editable() {
		return conflict("migration %q is %s and cannot be deleted", m.Name, m.Status)
	}
	for _, e := range s.executions {
		if e.MigrationID == m.MigrationID {
			return conflict("migration %q has executions; its history is kept", m.Name)
		}
	}
	for _, other := range s.migrations {
		for _, d := range other.Dependencies {
			if d == m.MigrationID {
				return conflict("migration %q depends on %q", other.Name, m.Name)
			}
		}
	}
	delete(s.migrations, r.MigrationID)
	delete(s.approvals, r.MigrationID)
	return nil
}
