// Package notify tells other systems, by webhook, what happened to
// approvals and executions: submitted, approved, rejected and expired
// approvals, and rollbacks (automatic ones flagged). It runs on the leader
// and follows the audit log, so an event is sent for what was committed,
// whichever server took the request. Deliveries are signed with HMAC-SHA256
// and retried with backoff; a receiver drops repeats by the event's id.
package notify

import (
	"strconv"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// State is what the notifier reads of the committed state.
type State interface {
	AuditSince(seq uint64) []domain.AuditEntry
	LastAuditSeq() uint64
	Migration(id string) (domain.Migration, error)
	Approvals(migrationID string) []domain.Approval
	AllApprovals() map[string][]domain.Approval
	Submission(migrationID string) (by string, at time.Time, notes string)
	Execution(id string) (domain.Execution, error)
}

// eventsOf turns one audit entry into the events it means (none for most).
func eventsOf(st State, e domain.AuditEntry) []api.WebhookEvent {
	if e.Outcome != "ok" {
		return nil
	}
	ev := api.WebhookEvent{ID: "evt-" + strconv.FormatUint(e.Seq, 10), At: e.At, Actor: e.Actor}
	switch e.Action {
	case "submit_approval":
		ev.Type, ev.MigrationID = api.EventApprovalSubmitted, e.Target
		_, _, ev.Detail = st.Submission(e.Target)
	case "decide_migration":
		return decisionEvent(st, ev, e)
	case "start_rollback":
		return rollbackEvent(st, ev, e.Target)
	default:
		return nil
	}
	if m, err := st.Migration(ev.MigrationID); err == nil {
		ev.DatabaseID = m.TargetDatabaseID
	}
	return []api.WebhookEvent{ev}
}

// decisionEvent finds the decision an entry committed: the approver's last.
func decisionEvent(st State, ev api.WebhookEvent, e domain.AuditEntry) []api.WebhookEvent {
	ev.MigrationID = e.Target
	decisions := st.Approvals(e.Target)
	for i := len(decisions) - 1; i >= 0; i-- {
		d := decisions[i]
		if d.Approver != e.Actor {
			continue
		}
		ev.Type, ev.Detail = api.EventApprovalApproved, d.Notes
		if d.Decision == domain.Rejected {
			ev.Type = api.EventApprovalRejected
		}
		if m, err := st.Migration(e.Target); err == nil {
			ev.DatabaseID = m.TargetDatabaseID
		}
		return []api.WebhookEvent{ev}
	}
	return nil // withdrawn since: nothing left to report
}

func rollbackEvent(st State, ev api.WebhookEvent, executionID string) []api.WebhookEvent {
	x, err := st.Execution(executionID)
	if err != nil {
		return nil
	}
	ev.Type, ev.ExecutionID, ev.MigrationID, ev.DatabaseID = api.EventExecutionRollback, x.ExecutionID, x.MigrationID, x.DatabaseID
	ev.Actor, ev.Detail = x.RollbackRequestedBy, x.RollbackReason
	ev.Automatic = strings.HasPrefix(x.RollbackRequestedBy, "hotswap (")
	return []api.WebhookEvent{ev}
}

// expiredSince returns the approvals that expired in (from, to].
func expiredSince(st State, from, to time.Time) []api.WebhookEvent {
	var out []api.WebhookEvent
	for migrationID, decisions := range st.AllApprovals() {
		for _, d := range decisions {
			at := d.At.Add(domain.ApprovalTTL)
			if d.Decision != domain.Approved || !at.After(from) || at.After(to) {
				continue
			}
			ev := api.WebhookEvent{ID: "evt-expired-" + migrationID + "-" + d.Approver + "-" + strconv.FormatInt(d.At.UnixMilli(), 10),
				Type: api.EventApprovalExpired, At: at, Actor: d.Approver, MigrationID: migrationID}
			if m, err := st.Migration(migrationID); err == nil {
				ev.DatabaseID = m.TargetDatabaseID
			}
			out = append(out, ev)
		}
	}
	return out
}
