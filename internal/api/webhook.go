package api

import "time"

// The webhook events HotSwap sends (WebhookEvent.Type).
const (
	EventApprovalSubmitted = "approval.submitted"
	EventApprovalApproved  = "approval.approved"
	EventApprovalRejected  = "approval.rejected"
	EventApprovalExpired   = "approval.expired"
	EventExecutionRollback = "execution.rollback"
)

// The headers of a webhook delivery. SignatureHeader is "sha256=" and the
// hex HMAC-SHA256 of the body under the shared secret.
const (
	SignatureHeader = "X-Hotswap-Signature"
	EventHeader     = "X-Hotswap-Event"
	DeliveryHeader  = "X-Hotswap-Delivery"
)

// WebhookEvent is the JSON body HotSwap POSTs to each configured webhook.
type WebhookEvent struct {
	ID          string    `json:"id"`   // unique per event: a receiver drops repeats by it
	Type        string    `json:"type"` // one of the Event* constants
	At          time.Time `json:"at"`
	Actor       string    `json:"actor,omitempty"` // who did it; "hotswap (guard)" for an automatic rollback
	MigrationID string    `json:"migrationId,omitempty"`
	ExecutionID string    `json:"executionId,omitempty"`
	DatabaseID  string    `json:"databaseId,omitempty"`
	// Automatic is set on an execution.rollback HotSwap decided itself.
	Automatic bool   `json:"automatic,omitempty"`
	Detail    string `json:"detail,omitempty"` // the notes, the reason
}
