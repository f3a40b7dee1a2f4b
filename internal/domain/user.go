package domain

import "time"

// Role is what a user or token may do; the HTTP API's rule table maps each
// route to the roles allowed on it.
type Role string

// The roles, per the reference's matrix.
const (
	RoleAdmin     Role = "Admin"     // everything
	RoleDBA       Role = "DBA"       // executes, monitors, rolls back, approves
	RoleDeveloper Role = "Developer" // creates migrations, executes on Development/QA
	RoleViewer    Role = "Viewer"    // reads
)

// Roles lists every valid Role.
var Roles = []Role{RoleAdmin, RoleDBA, RoleDeveloper, RoleViewer}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if v == r {
			return true
		}
	}
	return false
}

// User is a person who logs in with a password; the password is stored
// only as a memory-hard hash, which never leaves the state in a response.
type User struct {
	Username  string    `json:"username"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"createdAt"`
	CreatedBy string    `json:"createdBy,omitempty"`
}
