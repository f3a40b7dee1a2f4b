package client

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// resource builds "/api/v1/<kind>/<id>" with id escaped, refusing an empty
// id (it would address the collection instead).
func resource(kind, id string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("client: empty %s id", kind)
	}
	return "/api/v1/" + kind + "/" + url.PathEscape(id), nil
}

// getOne, postOne, putOne and delOne are a verb on one resource; sub, when
// given, addresses something under it ("/health").
func (c *Client) getOne(ctx context.Context, kind, id, sub string, out any) error {
	p, err := resource(kind, id)
	if err != nil {
		return err
	}
	return c.get(ctx, p+sub, out)
}

func (c *Client) postOne(ctx context.Context, kind, id, sub string, in, out any) error {
	p, err := resource(kind, id)
	if err != nil {
		return err
	}
	return c.post(ctx, p+sub, in, out)
}

func (c *Client) putOne(ctx context.Context, kind, id string, in, out any) error {
	p, err := resource(kind, id)
	if err != nil {
		return err
	}
	return c.put(ctx, p, in, out)
}

func (c *Client) delOne(ctx context.Context, kind, id string) error {
	p, err := resource(kind, id)
	if err != nil {
		return err
	}
	return c.del(ctx, p)
}

// Health asks a server whether it knows a leader (GET /health).
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	return h, c.get(ctx, "/health", &h)
}

// ClusterStatus returns the Raft group as the answering server sees it.
func (c *Client) ClusterStatus(ctx context.Context) (ClusterStatus, error) {
	var st ClusterStatus
	return st, c.get(ctx, "/api/v1/cluster", &st)
}

// CreateAgentToken registers an agent called name and returns its token,
// which the API shows only this once.
func (c *Client) CreateAgentToken(ctx context.Context, name string) (AgentToken, error) {
	var t AgentToken
	return t, c.post(ctx, "/api/v1/agents", map[string]string{"name": name}, &t)
}

// ListAgents returns every registered agent, sorted by name.
func (c *Client) ListAgents(ctx context.Context) (AgentList, error) {
	var l AgentList
	return l, c.get(ctx, "/api/v1/agents", &l)
}

// GetAgent returns the agent called name.
func (c *Client) GetAgent(ctx context.Context, name string) (Agent, error) {
	var a Agent
	return a, c.getOne(ctx, "agents", name, "", &a)
}

// DeleteAgent removes an agent and revokes its token.
func (c *Client) DeleteAgent(ctx context.Context, name string) error {
	return c.delOne(ctx, "agents", name)
}

// CreateDatabase registers a database.
func (c *Client) CreateDatabase(ctx context.Context, spec domain.DatabaseSpec) (domain.Database, error) {
	var d domain.Database
	return d, c.post(ctx, "/api/v1/databases", spec, &d)
}

// ListDatabases returns every registered database, oldest first.
func (c *Client) ListDatabases(ctx context.Context) (DatabaseList, error) {
	var l DatabaseList
	return l, c.get(ctx, "/api/v1/databases", &l)
}

// GetDatabase returns the database with this id or name.
func (c *Client) GetDatabase(ctx context.Context, idOrName string) (domain.Database, error) {
	var d domain.Database
	return d, c.getOne(ctx, "databases", idOrName, "", &d)
}

// UpdateDatabase replaces the writable fields of a database with spec.
func (c *Client) UpdateDatabase(ctx context.Context, idOrName string, spec domain.DatabaseSpec) (domain.Database, error) {
	var d domain.Database
	return d, c.putOne(ctx, "databases", idOrName, spec, &d)
}

// DeleteDatabase removes a database that no migration targets.
func (c *Client) DeleteDatabase(ctx context.Context, idOrName string) error {
	return c.delOne(ctx, "databases", idOrName)
}

// DatabaseHealth returns the live state of a database's instances.
func (c *Client) DatabaseHealth(ctx context.Context, idOrName string) (DatabaseHealth, error) {
	var h DatabaseHealth
	return h, c.getOne(ctx, "databases", idOrName, "/health", &h)
}

// CreateMigration creates a migration in status Draft. The server checks the
// scripts with the target engine's parser.
func (c *Client) CreateMigration(ctx context.Context, spec domain.MigrationSpec) (domain.Migration, error) {
	var m domain.Migration
	return m, c.post(ctx, "/api/v1/migrations", spec, &m)
}

// ListMigrations returns one page of the migrations matching f, oldest first.
func (c *Client) ListMigrations(ctx context.Context, f MigrationFilter) (MigrationList, error) {
	var l MigrationList
	return l, c.get(ctx, "/api/v1/migrations"+f.query(), &l)
}

// query encodes the filter's non-zero fields.
func (f MigrationFilter) query() string {
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", string(f.Status))
	}
	if f.Database != "" {
		q.Set("database", f.Database)
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Offset != 0 {
		q.Set("offset", strconv.Itoa(f.Offset))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// GetMigration returns the migration with this id, scripts included.
func (c *Client) GetMigration(ctx context.Context, id string) (domain.Migration, error) {
	var m domain.Migration
	return m, c.getOne(ctx, "migrations", id, "", &m)
}

// UpdateMigration replaces the writable fields of a migration with spec,
// while it has not started running.
func (c *Client) UpdateMigration(ctx context.Context, id string, spec domain.MigrationSpec) (domain.Migration, error) {
	var m domain.Migration
	return m, c.putOne(ctx, "migrations", id, spec, &m)
}

// DeleteMigration removes a migration that has not started running and that
// no other migration depends on.
func (c *Client) DeleteMigration(ctx context.Context, id string) error {
	return c.delOne(ctx, "migrations", id)
}

// ExecuteMigration starts an execution of the migration. The answer (202)
// comes once the execution is recorded, before anything ran: follow it
// with GetExecution. A busy database (unless req.Queue) or a dependency that
// has not succeeded is an ErrConflict.
func (c *Client) ExecuteMigration(ctx context.Context, migrationID string, req ExecuteRequest) (ExecuteResponse, error) {
	var r ExecuteResponse
	return r, c.postOne(ctx, "migrations", migrationID, "/execute", req, &r)
}

// ListExecutions returns every execution of the migration, oldest first.
func (c *Client) ListExecutions(ctx context.Context, migrationID string) (ExecutionList, error) {
	var l ExecutionList
	return l, c.getOne(ctx, "migrations", migrationID, "/executions", &l)
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
	var r RollbackResponse
	p, err := executionPath(migrationID, executionID)
	if err != nil {
		return r, err
	}
	return r, c.post(ctx, p+"/rollback", map[string]string{"reason": reason}, &r)
}

// executionPath builds "/api/v1/migrations/<id>/executions/<executionId>",
// refusing empty ids.
func executionPath(migrationID, executionID string) (string, error) {
	p, err := resource("migrations", migrationID)
	if err != nil {
		return "", err
	}
	if executionID == "" {
		return "", errors.New("client: empty execution id")
	}
	return p + "/executions/" + url.PathEscape(executionID), nil
}

// DatabaseHistory reads the history table of every instance of the
// database through its agent and compares it with the recorded executions.
func (c *Client) DatabaseHistory(ctx context.Context, idOrName string) (DatabaseHistory, error) {
	var h DatabaseHistory
	return h, c.getOne(ctx, "databases", idOrName, "/history", &h)
}

// ExecutionMetrics returns an execution's baselines, decisions and the
// snapshots taken after sinceMs (unix milliseconds; 0 for all).
func (c *Client) ExecutionMetrics(ctx context.Context, migrationID, executionID string, sinceMs int64) (ExecutionMetrics, error) {
	var out ExecutionMetrics
	if migrationID == "" || executionID == "" {
		return out, errors.New("a migration id and an execution id are required")
	}
	path := fmt.Sprintf("/api/v1/migrations/%s/executions/%s/metrics?sinceMs=%d",
		url.PathEscape(migrationID), url.PathEscape(executionID), sinceMs)
	return out, c.get(ctx, path, &out)
}
