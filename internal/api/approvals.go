package api

import (
	"context"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// ApproveRequest is the body of POST /api/v1/migrations/{id}/approve.
type ApproveRequest struct {
	Notes string `json:"notes,omitempty"`
}

// RejectRequest is the body of POST /api/v1/migrations/{id}/reject; the
// reason is required.
type RejectRequest struct {
	Reason string `json:"reason"`
}

// DecisionResponse is the answer of approve and reject: the decision
// recorded and where the migration now stands.
type DecisionResponse struct {
	ApprovalID  string                `json:"approvalId"`
	MigrationID string                `json:"migrationId"`
	Status      domain.Verdict        `json:"status"`
	ReviewedBy  string                `json:"reviewedBy"`
	ReviewedAt  time.Time             `json:"reviewedAt"`
	Approvals   domain.ApprovalStatus `json:"approvals"`
}

// ApprovalsResponse is the answer of GET /api/v1/migrations/{id}/approvals.
type ApprovalsResponse struct {
	MigrationID string `json:"migrationId"`
	domain.ApprovalStatus
}

// ApproveMigration approves a migration (Admin or DBA, not its author).
func (c *Client) ApproveMigration(ctx context.Context, id string, req ApproveRequest) (DecisionResponse, error) {
	var d DecisionResponse
	return d, c.postOne(ctx, "migrations", id, "/approve", req, &d)
}

// RejectMigration rejects a migration, with a reason.
func (c *Client) RejectMigration(ctx context.Context, id string, req RejectRequest) (DecisionResponse, error) {
	var d DecisionResponse
	return d, c.postOne(ctx, "migrations", id, "/reject", req, &d)
}

// MigrationApprovals says what a migration needs before it runs and the
// decisions on it.
func (c *Client) MigrationApprovals(ctx context.Context, id string) (ApprovalsResponse, error) {
	var a ApprovalsResponse
	return a, c.getOne(ctx, "migrations", id, "/approvals", &a)
}

// SubmitApprovalResponse is the answer of POST
// /api/v1/migrations/{id}/submit-approval: Pending until the approvals the
// policy asks for are in (Approved at once when it asks for none).
type SubmitApprovalResponse struct {
	ApprovalID  string    `json:"approvalId"`
	MigrationID string    `json:"migrationId"`
	Status      string    `json:"status"` // Pending, Approved, Rejected
	SubmittedAt time.Time `json:"submittedAt"`
	ExpiresAt   time.Time `json:"expiresAt"` // approvals given from now hold until then
	domain.ApprovalStatus
}

// SubmitApprovalRequest is the body of POST
// /api/v1/migrations/{id}/submit-approval (optional): a note for the
// approvers, sent with the notification.
type SubmitApprovalRequest struct {
	Notes string `json:"notes,omitempty"`
}

// SubmitApproval submits a migration for approval: the approvers are
// notified (webhooks) and the answer says what the policy asks for.
func (c *Client) SubmitApproval(ctx context.Context, id string, req SubmitApprovalRequest) (SubmitApprovalResponse, error) {
	var out SubmitApprovalResponse
	return out, c.postOne(ctx, "migrations", id, "/submit-approval", req, &out)
}
