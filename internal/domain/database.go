package domain

import "time"

// InstanceRef names one database instance by reference: the agent that
// serves it and the instance id in that agent's config. Credentials stay in
// the agent's config file; the control plane never holds them.
type InstanceRef struct {
	Agent      string       `json:"agent"`
	InstanceID string       `json:"instanceId"`
	Role       InstanceRole `json:"role"`
}

// Database is a registered database cluster: a name, an engine, and the
// instances that make it up.
type Database struct {
	DatabaseID  string            `json:"databaseId"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Type        DatabaseType      `json:"type"`
	Environment Environment       `json:"environment"`
	Labels      map[string]string `json:"labels,omitempty"`
	Instances   []InstanceRef     `json:"instances"`
	CreatedAt   time.Time         `json:"createdAt"`
	UpdatedAt   time.Time         `json:"updatedAt"`
}

// Master returns the instance declared as the cluster's master.
func (d *Database) Master() (InstanceRef, bool) {
	for _, in := range d.Instances {
		if in.Role == RoleMaster {
			return in, true
		}
	}
	return InstanceRef{}, false
}

// DatabaseSpec is the writable part of a Database: what POST and PUT take.
type DatabaseSpec struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Type        DatabaseType      `json:"type"`
	Environment Environment       `json:"environment"`
	Labels      map[string]string `json:"labels,omitempty"`
	Instances   []InstanceRef     `json:"instances"`
}

// Apply copies the spec onto d.
func (s DatabaseSpec) Apply(d *Database) {
	d.Name, d.Description, d.Type, d.Environment = s.Name, s.Description, s.Type, s.Environment
	d.Labels, d.Instances = s.Labels, s.Instances
}
