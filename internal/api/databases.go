package api

import (
	"context"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// DatabaseList is the answer of GET /api/v1/databases.
type DatabaseList struct {
	Databases []domain.Database `json:"databases"`
	Total     int               `json:"total"`
}

// DatabaseHealth is the answer of GET /api/v1/databases/{id}/health: the
// live state of a database's instances, with the problems found in words an
// operator can act on.
type DatabaseHealth struct {
	DatabaseID string   `json:"databaseId"`
	Name       string   `json:"name"`
	IsHealthy  bool     `json:"isHealthy"`
	Problems   []string `json:"problems"`
	// Warnings name the guards that cannot work as the agents' roles are
	// set up (failed preflight checks, with their fixes).
	Warnings          []string         `json:"warnings,omitempty"`
	ActiveConnections int              `json:"activeConnections"`
	ReplicationLag    float64          `json:"replicationLag"`
	LastCheck         time.Time        `json:"lastCheck,omitzero"`
	Instances         []InstanceHealth `json:"instances"`
}

// InstanceHealth is the live state of one instance of a database.
type InstanceHealth struct {
	Agent                 string                   `json:"agent"`
	InstanceID            string                   `json:"instanceId"`
	Role                  domain.InstanceRole      `json:"role"`
	DetectedRole          domain.DetectedRole      `json:"detectedRole"`
	AgentConnected        bool                     `json:"agentConnected"`
	Reachable             bool                     `json:"reachable"`
	ServerVersion         string                   `json:"serverVersion,omitempty"`
	ActiveConnections     int                      `json:"activeConnections"`
	ReplicationLagSeconds float64                  `json:"replicationLagSeconds"`
	ReplicationLinks      []domain.ReplicationLink `json:"replicationLinks,omitempty"`
	LastCheck             time.Time                `json:"lastCheck,omitzero"`
	Error                 string                   `json:"error,omitempty"`
	// Counters is the instance's newest sample of native counters.
	Counters *domain.Sample `json:"counters,omitempty"`
	// Preflight is what the agent found about its role's rights.
	Preflight *domain.Preflight `json:"preflight,omitempty"`
}

// DatabaseHistory is the answer of GET /api/v1/databases/{id}/history: each
// instance's history table as its agent read it, compared with what the
// control plane recorded. InSync is false when drift was found or when an
// instance's history could not be read.
type DatabaseHistory struct {
	DatabaseID string            `json:"databaseId"`
	Name       string            `json:"name"`
	InSync     bool              `json:"inSync"`
	Drift      []Drift           `json:"drift"`
	Instances  []InstanceHistory `json:"instances"`
}

// InstanceHistory is one instance's history table; Error says why it could
// not be read (its agent is not connected, say).
type InstanceHistory struct {
	Agent      string              `json:"agent"`
	InstanceID string              `json:"instanceId"`
	Rows       []domain.HistoryRow `json:"rows"`
	Error      string              `json:"error,omitempty"`
	// SchemaError says why the live schema could not be compared with the
	// fingerprints recorded after each step.
	SchemaError string `json:"schemaError,omitempty"`
}

// Drift is one difference between an instance's history table and the
// executions the control plane recorded, or (kind schema) between the
// schema recorded after HotSwap's last step on an object and the live
// catalog.
type Drift struct {
	Kind string `json:"kind"` // missing, unrecorded, unknown, checksum or schema
	// Object, for a schema drift, names the object changed out of band.
	Object      string `json:"object,omitempty"`
	Agent       string `json:"agent"`
	InstanceID  string `json:"instanceId"`
	ExecutionID string `json:"executionId"`
	StepID      string `json:"stepId"`
	MigrationID string `json:"migrationId,omitempty"`
	Message     string `json:"message"`
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

// DeleteDatabaseWithHistory removes a database together with its finished
// migrations and their executions (DELETE ...?force=true); it is refused
// while one of its executions runs.
func (c *Client) DeleteDatabaseWithHistory(ctx context.Context, idOrName string) error {
	p, err := resource("databases", idOrName)
	if err != nil {
		return err
	}
	return c.del(ctx, p+"?force=true")
}

// DatabaseHealth returns the live state of a database's instances.
func (c *Client) DatabaseHealth(ctx context.Context, idOrName string) (DatabaseHealth, error) {
	var h DatabaseHealth
	return h, c.getOne(ctx, "databases", idOrName, "/health", &h)
}

// DatabaseHistory reads the history table of every instance of the
// database through its agent and compares it with the recorded executions.
func (c *Client) DatabaseHistory(ctx context.Context, idOrName string) (DatabaseHistory, error) {
	var h DatabaseHistory
	return h, c.getOne(ctx, "databases", idOrName, "/history", &h)
}
