package api

import (
	"context"
	"net/url"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// MigrationSummary is a migration in a list: everything but its scripts.
type MigrationSummary struct {
	MigrationID      string                 `json:"migrationId"`
	Name             string                 `json:"name"`
	Status           domain.MigrationStatus `json:"status"`
	TargetDatabaseID string                 `json:"targetDatabaseId"`
	TargetDatabase   string                 `json:"targetDatabase"`
	Strategy         domain.Strategy        `json:"strategy"`
	RiskLevel        domain.RiskLevel       `json:"riskLevel"`
	RequiresApproval bool                   `json:"requiresApproval"`
	Tags             []string               `json:"tags"`
	CreatedBy        string                 `json:"createdBy"`
	CreatedAt        time.Time              `json:"createdAt"`
}

// MigrationList is one page of GET /api/v1/migrations. Total counts every
// migration matching the filter, not only this page.
type MigrationList struct {
	Migrations []MigrationSummary `json:"migrations"`
	Total      int                `json:"total"`
	Limit      int                `json:"limit"`
	Offset     int                `json:"offset"`
}

// DefaultMigrationPage is how many migrations GET /api/v1/migrations
// answers when the request names no limit.
const DefaultMigrationPage = 20

// ListMigrationsRequest is the query of GET /api/v1/migrations. Zero fields are
// not sent: the server's defaults apply (limit DefaultMigrationPage, offset 0).
type ListMigrationsRequest struct {
	Status   domain.MigrationStatus
	Database string // id or name
	Limit    int
	Offset   int
}

// query encodes the filter's non-zero fields.
func (f ListMigrationsRequest) query() string {
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", string(f.Status))
	}
	if f.Database != "" {
		q.Set("database", f.Database)
	}
	setPage(q, f.Limit, f.Offset)
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// CreateMigration creates a migration in status Draft. The server checks the
// scripts with the target engine's parser.
func (c *Client) CreateMigration(ctx context.Context, spec domain.MigrationSpec) (domain.Migration, error) {
	var m domain.Migration
	return m, c.post(ctx, "/api/v1/migrations", spec, &m)
}

// ListMigrations returns one page of the migrations matching f, oldest first.
func (c *Client) ListMigrations(ctx context.Context, f ListMigrationsRequest) (MigrationList, error) {
	var l MigrationList
	return l, c.get(ctx, "/api/v1/migrations"+f.query(), &l)
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
