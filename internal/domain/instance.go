package domain

import "time"

// ReplicationLink is one replication relationship an instance reported.
// Peer is a host:port or an application name, never a connection string.
type ReplicationLink struct {
	Direction  string  `json:"direction"` // "downstream" (this instance sends) or "upstream"
	Kind       string  `json:"kind"`      // "physical" or "logical"
	Peer       string  `json:"peer"`
	State      string  `json:"state,omitempty"`
	Name       string  `json:"name,omitempty"`
	LagSeconds float64 `json:"lagSeconds"`
}

// InstanceStatus is what an agent learned by asking one database instance.
// It never holds a connection string or a credential.
type InstanceStatus struct {
	InstanceID            string            `json:"instanceId"`
	Engine                DatabaseType      `json:"engine"`
	ServerVersion         string            `json:"serverVersion,omitempty"`
	Role                  DetectedRole      `json:"role"`
	SystemIdentifier      string            `json:"systemIdentifier,omitempty"`
	Reachable             bool              `json:"reachable"`
	Error                 string            `json:"error,omitempty"`
	ActiveConnections     int               `json:"activeConnections"`
	ReplicationLagSeconds float64           `json:"replicationLagSeconds"`
	Links                 []ReplicationLink `json:"replicationLinks,omitempty"`
	CheckedAt             time.Time         `json:"checkedAt"`
	// Preflight is what the agent found about its role's privileges on
	// the instance when it connected; nil until checked.
	Preflight *Preflight `json:"preflight,omitempty"`
}

// SchemaDrift is a difference between the schema an instance had after
// HotSwap's last step on an object and its live catalog: something
// changed out of band. Object names it ("table public.t", "t: column c
// text"); Change is added, removed or changed; StepID and ExecutionID name
// the step whose record it differs from.
type SchemaDrift struct {
	Object      string `json:"object"`
	Change      string `json:"change"`
	Message     string `json:"message"`
	ExecutionID string `json:"executionId,omitempty"`
	StepID      string `json:"stepId,omitempty"`
}
