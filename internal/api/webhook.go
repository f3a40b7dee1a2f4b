package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

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

// SignWebhook returns the SignatureHeader value of a delivery's body under
// the shared secret: what HotSwap sends, and what a receiver recomputes.
func SignWebhook(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

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
