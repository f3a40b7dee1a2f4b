package api

import (
	"fmt"
	"net/http"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// Endpoint describes one route of the API: enough to write its OpenAPI
// description from the Go types it reads and writes (internal/api/openapi).
// A test checks the table against the routes the server registers, and the
// server's answers against the description, so a route missing here fails
// the build's tests.
type Endpoint struct {
	Name    string // its operation id: the typed client's method
	Method  string // GET, POST, PUT or DELETE
	Path    string // as the server registers it: "/api/v1/databases/{id}"
	Tag     string // the group it is listed under
	Summary string
	// Public routes need no token.
	Public bool
	// Query lists the query parameters it reads.
	Query []Param
	// Request is a zero value of the JSON body it reads; nil: no body.
	Request any
	// Responses maps each success status to a zero value of its JSON body;
	// a nil value is an answer with no body (204), a string a text body.
	Responses map[int]any
}

// Text is a response body that is not JSON: text in one of Types (media
// types such as "text/csv").
type Text struct{ Types []string }

// Binary is a request or response body that is a file: bytes in one of
// Types (media types such as "application/octet-stream").
type Binary struct{ Types []string }

// Param is a query parameter.
type Param struct {
	Name        string
	Type        string // "string" or "integer"
	Description string
	Enum        []string
}

// The tags endpoints are grouped under.
const (
	TagServer     = "server"
	TagCluster    = "cluster"
	TagAgents     = "agents"
	TagDatabases  = "databases"
	TagMigrations = "migrations"
	TagExecutions = "executions"
	TagUsers      = "users"
	TagAudit      = "audit"
)

// Endpoints returns every route of the API, in the order the server
// registers them. To add a route: add its line here, with its body types,
// beside the handler and the client method.
func Endpoints() []Endpoint {
	var all []Endpoint
	for _, group := range [][]Endpoint{serverEndpoints(), clusterEndpoints(), agentEndpoints(),
		userEndpoints(), auditEndpoints(), databaseEndpoints(), migrationEndpoints(), approvalEndpoints(),
		executionEndpoints()} {
		all = append(all, group...)
	}
	return all
}

func okWith(body any) map[int]any      { return map[int]any{http.StatusOK: body} }
func createdWith(body any) map[int]any { return map[int]any{http.StatusCreated: body} }
func noBody() map[int]any              { return map[int]any{http.StatusNoContent: nil} }

func serverEndpoints() []Endpoint {
	return []Endpoint{
		{Name: "Health", Method: http.MethodGet, Path: "/health", Tag: TagServer, Public: true,
			Summary:   "Whether this server knows a leader (503 with the same body when not), and its version",
			Responses: map[int]any{http.StatusOK: Health{}, http.StatusServiceUnavailable: Health{}}},
		{Name: "Metrics", Method: http.MethodGet, Path: "/metrics", Tag: TagServer, Public: true,
			Summary: "Prometheus metrics (text exposition format)", Responses: okWith("")},
		{Name: "OpenAPI", Method: http.MethodGet, Path: "/openapi.json", Tag: TagServer, Public: true,
			Summary: "This description of the API (OpenAPI 3.1)", Responses: okWith(map[string]any{})},
	}
}

func clusterEndpoints() []Endpoint {
	return []Endpoint{
		{Name: "ClusterStatus", Method: http.MethodGet, Path: "/api/v1/cluster", Tag: TagCluster,
			Summary: "The Raft group as the answering server sees it", Responses: okWith(ClusterStatus{})},
		{Name: "JoinCluster", Method: http.MethodPost, Path: "/api/v1/cluster/join", Tag: TagCluster,
			Summary: "Add a server as a voter", Request: JoinRequest{}, Responses: okWith(domain.Server{})},
		{Name: "RegisterMemberAddresses", Method: http.MethodPut, Path: "/api/v1/cluster/servers/{id}", Tag: TagCluster, Public: true,
			Summary: "Record a member's own HTTP and gRPC addresses (sent by the server itself, signed with a key only members hold; no token)",
			Request: MemberAddresses{}, Responses: okWith(domain.Server{})},
		{Name: "RemoveServer", Method: http.MethodDelete, Path: "/api/v1/cluster/servers/{id}", Tag: TagCluster,
			Summary: "Remove a server from the Raft configuration", Responses: noBody()},
		{Name: "TransferLeadership", Method: http.MethodPost, Path: "/api/v1/cluster/leadership-transfer", Tag: TagCluster,
			Summary: "Hand the leadership to another voter (the most up-to-date one when none is named)",
			Request: LeadershipTransferRequest{}, Responses: okWith(ClusterStatus{})},
		{Name: "SaveSnapshot", Method: http.MethodGet, Path: "/api/v1/operator/snapshot", Tag: TagCluster,
			Summary:   "A snapshot file of the whole committed state (it holds password hashes and the token signing key: keep it secret)",
			Responses: okWith(Binary{Types: []string{SnapshotMediaType}})},
		{Name: "RestoreSnapshot", Method: http.MethodPost, Path: "/api/v1/operator/snapshot", Tag: TagCluster,
			Summary: "Replace the whole state, on every server, with a verified snapshot file's; the cluster keeps its own members",
			Request: Binary{Types: []string{SnapshotMediaType}}, Responses: okWith(SnapshotRestore{})},
	}
}

func agentEndpoints() []Endpoint {
	return []Endpoint{
		{Name: "CreateAgentToken", Method: http.MethodPost, Path: "/api/v1/agents", Tag: TagAgents,
			Summary: "Register an agent; its token is shown only in this answer", Request: AgentTokenRequest{},
			Responses: createdWith(AgentTokenResponse{})},
		{Name: "ListAgents", Method: http.MethodGet, Path: "/api/v1/agents", Tag: TagAgents,
			Summary: "One page of the registered agents, sorted by name, one compact row each (instance counts, " +
				"unreachable instances, preflight in one line), and how many there are",
			Query: pageQuery(DefaultAgentPage), Responses: okWith(AgentList{})},
		{Name: "GetAgent", Method: http.MethodGet, Path: "/api/v1/agents/{name}", Tag: TagAgents,
			Summary:   "One agent: registration, last report with each instance's status and preflight checks, connection",
			Responses: okWith(AgentView{})},
		{Name: "DeleteAgent", Method: http.MethodDelete, Path: "/api/v1/agents/{name}", Tag: TagAgents,
			Summary: "Remove an agent and revoke its token", Responses: noBody()},
	}
}

func databaseEndpoints() []Endpoint {
	return []Endpoint{
		{Name: "CreateDatabase", Method: http.MethodPost, Path: "/api/v1/databases", Tag: TagDatabases,
			Summary: "Register a database", Request: domain.DatabaseSpec{}, Responses: createdWith(domain.Database{})},
		{Name: "ListDatabases", Method: http.MethodGet, Path: "/api/v1/databases", Tag: TagDatabases,
			Summary: "Every registered database, oldest first", Responses: okWith(DatabaseList{})},
		{Name: "GetDatabase", Method: http.MethodGet, Path: "/api/v1/databases/{id}", Tag: TagDatabases,
			Summary: "One database, by id or name", Responses: okWith(domain.Database{})},
		{Name: "UpdateDatabase", Method: http.MethodPut, Path: "/api/v1/databases/{id}", Tag: TagDatabases,
			Summary: "Replace a database's writable fields", Request: domain.DatabaseSpec{}, Responses: okWith(domain.Database{})},
		{Name: "DeleteDatabase", Method: http.MethodDelete, Path: "/api/v1/databases/{id}", Tag: TagDatabases,
			Summary: "Remove a database no migration targets; with force=true, also its finished migrations and their executions " +
				"(the audit log and each instance's history table keep what was applied)",
			Query:     []Param{{Name: "force", Type: "string", Enum: []string{"true", "false"}, Description: "delete its finished migrations too"}},
			Responses: noBody()},
		{Name: "DatabaseHealth", Method: http.MethodGet, Path: "/api/v1/databases/{id}/health", Tag: TagDatabases,
			Summary: "The live state of a database's instances", Responses: okWith(DatabaseHealth{})},
	}
}

func migrationEndpoints() []Endpoint {
	return []Endpoint{
		{Name: "CreateMigration", Method: http.MethodPost, Path: "/api/v1/migrations", Tag: TagMigrations,
			Summary: "Create a migration (Draft); its scripts are parsed and linted", Request: domain.MigrationSpec{},
			Responses: createdWith(domain.Migration{})},
		{Name: "ListMigrations", Method: http.MethodGet, Path: "/api/v1/migrations", Tag: TagMigrations,
			Summary: "One page of the migrations matching the filter, oldest first", Query: listMigrationsQuery(),
			Responses: okWith(MigrationList{})},
		{Name: "GetMigration", Method: http.MethodGet, Path: "/api/v1/migrations/{id}", Tag: TagMigrations,
			Summary: "One migration, scripts included", Responses: okWith(domain.Migration{})},
		{Name: "UpdateMigration", Method: http.MethodPut, Path: "/api/v1/migrations/{id}", Tag: TagMigrations,
			Summary: "Replace a migration's writable fields while it has not run", Request: domain.MigrationSpec{},
			Responses: okWith(domain.Migration{})},
		{Name: "DeleteMigration", Method: http.MethodDelete, Path: "/api/v1/migrations/{id}", Tag: TagMigrations,
			Summary: "Remove a migration that has not run and that none depends on", Responses: noBody()},
		{Name: "ValidateMigration", Method: http.MethodPost, Path: "/api/v1/migrations/{id}/validate", Tag: TagMigrations,
			Summary:   "Validate a migration against its database's live catalog (static when no agent is connected); changes nothing",
			Request:   ValidateRequest{},
			Responses: okWith(ValidateResponse{})},
		{Name: "ExecuteMigration", Method: http.MethodPost, Path: "/api/v1/migrations/{id}/execute", Tag: TagExecutions,
			Summary: "Start an execution; the answer comes once it is recorded", Request: ExecuteRequest{},
			Responses: map[int]any{http.StatusAccepted: ExecuteResponse{}}},
		{Name: "PlanMigration", Method: http.MethodGet, Path: "/api/v1/migrations/{id}/plan", Tag: TagExecutions,
			Summary: "The plan a strategy would follow, changing nothing",
			Query: []Param{{Name: "strategy", Type: "string", Description: "default: the migration's",
				Enum: enumStrings(domain.Strategies)},
				{Name: "green", Type: "string", Description: "BlueGreen: the instance that takes the change (agent/instance)"},
				{Name: "pooler", Type: "string", Description: "BlueGreen: the pooler that switches the clients (agent/pooler)"}},
			Responses: okWith(PlanResponse{})},
	}
}

func executionEndpoints() []Endpoint {
	const exec = "/api/v1/migrations/{id}/executions/{executionId}"
	return []Endpoint{
		{Name: "FindExecution", Method: http.MethodGet, Path: "/api/v1/executions/{executionId}", Tag: TagExecutions,
			Summary:   "One execution by its id or a unique prefix of it, without its migration's id (409 naming the candidates when ambiguous)",
			Responses: okWith(domain.Execution{})},
		{Name: "ListExecutions", Method: http.MethodGet, Path: "/api/v1/migrations/{id}/executions", Tag: TagExecutions,
			Summary: "Every execution of a migration, oldest first", Responses: okWith(ExecutionList{})},
		{Name: "GetExecution", Method: http.MethodGet, Path: exec, Tag: TagExecutions,
			Summary: "One execution: steps, log, error", Responses: okWith(domain.Execution{})},
		{Name: "RollbackExecution", Method: http.MethodPost, Path: exec + "/rollback", Tag: TagExecutions,
			Summary: "Roll an execution back; 200 once it ended within 60 s, else 202", Request: RollbackRequest{},
			Responses: map[int]any{http.StatusOK: RollbackResponse{}, http.StatusAccepted: RollbackResponse{}}},
		{Name: "ExecutionMetrics", Method: http.MethodGet, Path: exec + "/metrics", Tag: TagExecutions,
			Summary:   "An execution's baselines, snapshots and the guard's decisions",
			Query:     []Param{{Name: "sinceMs", Type: "integer", Description: "only snapshots after this time (unix ms)"}},
			Responses: okWith(ExecutionMetrics{})},
		{Name: "WatchExecution", Method: http.MethodGet, Path: exec + "/events", Tag: TagExecutions,
			Summary: "Server-sent events following an execution in the answering server's committed state (a follower serves it too): " +
				"'execution' with the execution at each change, 'metrics' with the snapshots taken since the last one",
			Responses: okWith(Text{Types: []string{EventStreamMediaType}})},
		{Name: "PauseExecution", Method: http.MethodPost, Path: exec + "/pause", Tag: TagExecutions,
			Summary: "Pause a running execution", Request: PauseRequest{}, Responses: okWith(domain.Execution{})},
		{Name: "ResumeExecution", Method: http.MethodPost, Path: exec + "/resume", Tag: TagExecutions,
			Summary: "Resume a paused execution, re-planned when a strategy is given", Request: ResumeRequest{},
			Responses: okWith(domain.Execution{})},
		{Name: "RetryRollback", Method: http.MethodPost, Path: exec + "/rollback/retry", Tag: TagExecutions,
			Summary: "Run the failed rollback steps of a Failed execution again", Request: RecoveryRequest{},
			Responses: okWith(domain.Execution{})},
		{Name: "ResolveExecution", Method: http.MethodPost, Path: exec + "/resolve", Tag: TagExecutions,
			Summary: "Mark a Failed execution resolved by hand, with a reason", Request: RecoveryRequest{},
			Responses: okWith(domain.Execution{})},
		{Name: "DatabaseHistory", Method: http.MethodGet, Path: "/api/v1/databases/{id}/history", Tag: TagDatabases,
			Summary: "Each instance's schema and history table compared with what HotSwap recorded", Responses: okWith(DatabaseHistory{})},
	}
}

func listMigrationsQuery() []Param {
	q := []Param{
		{Name: "status", Type: "string", Enum: enumStrings(domain.MigrationStatuses)},
		{Name: "database", Type: "string", Description: "database id or name"},
	}
	return append(q, pageQuery(DefaultMigrationPage)...)
}

// pageQuery is a paged list's limit and offset, def the default limit.
func pageQuery(def int) []Param {
	return []Param{
		{Name: "limit", Type: "integer", Description: fmt.Sprintf("page size, 1 to %d, default %d", MaxPageSize, def)},
		{Name: "offset", Type: "integer", Description: "items to skip, default 0"},
	}
}

func enumStrings[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

func userEndpoints() []Endpoint {
	return []Endpoint{
		{Name: "Login", Method: http.MethodPost, Path: "/api/v1/authentication/login", Tag: TagUsers, Public: true,
			Summary: "Exchange a user's password for a login token (JWT)", Request: LoginRequest{},
			Responses: okWith(LoginResponse{})},
		{Name: "CreateUser", Method: http.MethodPost, Path: "/api/v1/users", Tag: TagUsers,
			Summary: "Create a user with a role (Admin)", Request: CreateUserRequest{}, Responses: createdWith(domain.User{})},
		{Name: "ListUsers", Method: http.MethodGet, Path: "/api/v1/users", Tag: TagUsers,
			Summary: "Every user, without password hashes", Responses: okWith(UserList{})},
		{Name: "DeleteUser", Method: http.MethodDelete, Path: "/api/v1/users/{username}", Tag: TagUsers,
			Summary: "Delete a user: their login and API tokens stop working at once", Responses: noBody()},
		{Name: "CreateToken", Method: http.MethodPost, Path: "/api/v1/tokens", Tag: TagUsers,
			Summary: "Create a personal API token acting as the calling user (its secret is shown only here)",
			Request: CreateTokenRequest{}, Responses: createdWith(CreateTokenResponse{})},
		{Name: "ListTokens", Method: http.MethodGet, Path: "/api/v1/tokens", Tag: TagUsers,
			Summary: "The caller's API tokens (an Admin's: every token), revoked ones included", Responses: okWith(TokenList{})},
		{Name: "RevokeToken", Method: http.MethodDelete, Path: "/api/v1/tokens/{id}", Tag: TagUsers,
			Summary:   "Revoke an API token (one's own; an Admin: any, the bootstrap token once an Admin user exists)",
			Responses: noBody()},
	}
}

// The audit log's first paths, /api/v1/audit, /api/v1/audit/export,
// /verify and /archive, are still answered as the /api/v1/audit-log
// routes below (the server maps them); they are not listed twice.
func auditEndpoints() []Endpoint {
	return []Endpoint{
		{Name: "ListAudit", Method: http.MethodGet, Path: "/api/v1/audit-log", Tag: TagAudit,
			Summary: "Search the audit log: one page of the entries matching the filter, oldest first, and how many match " +
				"(also served at /api/v1/audit, its earlier path)",
			Query: append(auditQuery(), Param{Name: "limit", Type: "integer", Description: "1 to 1000 (default 100)"},
				Param{Name: "offset", Type: "integer", Description: "matching entries to skip"}),
			Responses: okWith(AuditList{})},
		{Name: "ExportAudit", Method: http.MethodGet, Path: "/api/v1/audit-log/export", Tag: TagAudit,
			Summary: "Every entry matching the filter, streamed as JSON lines or CSV (also at /api/v1/audit/export)",
			Query: append(auditQuery(), Param{Name: "format", Type: "string", Description: "default jsonl",
				Enum: []string{"jsonl", "csv"}}),
			Responses: okWith(Text{Types: []string{"application/x-ndjson", "text/csv"}})},
		{Name: "VerifyAudit", Method: http.MethodGet, Path: "/api/v1/audit-log/verify", Tag: TagAudit,
			Summary: "Check the audit log's hash chain (also at /api/v1/audit/verify)", Responses: okWith(AuditVerification{})},
		{Name: "ArchiveAudit", Method: http.MethodPost, Path: "/api/v1/audit-log/archive", Tag: TagAudit,
			Summary: "Drop entries older than the retention period, once saved to a file (Admin; see hotswap audit archive; " +
				"also at /api/v1/audit/archive)",
			Request: ArchiveAuditRequest{}, Responses: okWith(ArchiveAuditResponse{})},
		{Name: "MigrationAudit", Method: http.MethodGet, Path: "/api/v1/migrations/{id}/audit-log", Tag: TagAudit,
			Summary: "The audit entries about a migration and its executions (FR-MIG-009)",
			Query: []Param{{Name: "limit", Type: "integer", Description: "1 to 1000 (default 100)"},
				{Name: "offset", Type: "integer", Description: "entries to skip"}},
			Responses: okWith(AuditList{})},
	}
}

// auditQuery are the audit log's filters; zero matches everything.
func auditQuery() []Param {
	return []Param{
		{Name: "user", Type: "string", Description: "who asked: a username, a token's name, or system (actor: its earlier name)"},
		{Name: "type", Type: "string", Description: "the event type, e.g. login, create_migration, decide_migration (action: its earlier name)"},
		{Name: "migration", Type: "string", Description: "entries about this migration and its executions"},
		{Name: "database", Type: "string", Description: "entries about this database (id or name), the migrations targeting it and their executions"},
		{Name: "target", Type: "string", Description: "entries about exactly this id or name"},
		{Name: "since", Type: "string", Description: "entries at or after this RFC 3339 time"},
		{Name: "until", Type: "string", Description: "entries before this RFC 3339 time"},
	}
}

func approvalEndpoints() []Endpoint {
	return []Endpoint{
		{Name: "SubmitApproval", Method: http.MethodPost, Path: "/api/v1/migrations/{id}/submit-approval", Tag: TagMigrations,
			Summary: "Submit a migration for approval: approvers are notified; the answer says what the policy asks for",
			Request: SubmitApprovalRequest{}, Responses: createdWith(SubmitApprovalResponse{})},
		{Name: "ApproveMigration", Method: http.MethodPost, Path: "/api/v1/migrations/{id}/approve", Tag: TagMigrations,
			Summary: "Approve a migration (Admin, DBA; not its author)", Request: ApproveRequest{}, Responses: okWith(DecisionResponse{})},
		{Name: "RejectMigration", Method: http.MethodPost, Path: "/api/v1/migrations/{id}/reject", Tag: TagMigrations,
			Summary: "Reject a migration, with a reason", Request: RejectRequest{}, Responses: okWith(DecisionResponse{})},
		{Name: "MigrationApprovals", Method: http.MethodGet, Path: "/api/v1/migrations/{id}/approvals", Tag: TagMigrations,
			Summary: "The approvals a migration has and needs", Responses: okWith(ApprovalsResponse{})},
	}
}
