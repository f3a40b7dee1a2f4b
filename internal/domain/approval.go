package domain

import (
	"fmt"
	"slices"
	"time"
)

// ApprovalTTL is how long an approval holds: an older one no longer counts.
const ApprovalTTL = 7 * 24 * time.Hour

// Verdict is an approver's verdict on a migration.
type Verdict string

// The decisions.
const (
	Approved Verdict = "Approved"
	Rejected Verdict = "Rejected"
)

// Approval is one approver's decision on a migration, as committed. Changing
// the migration's scripts or target withdraws every approval of it.
type Approval struct {
	ApprovalID  string    `json:"approvalId"`
	MigrationID string    `json:"migrationId"`
	Approver    string    `json:"approver"`
	Role        Role      `json:"role"`
	Decision    Verdict   `json:"decision"`
	Notes       string    `json:"notes,omitempty"`
	At          time.Time `json:"at"`
}

// ApprovalPolicy is how many distinct approvers a migration needs before it
// runs, by its risk and its target's environment:
//
//	              Low  Medium  High
//	Production     0     1      2
//	Staging        0     1      1
//	QA, Development 0    0      0
//
// Approvers are Admins and DBAs, never the migration's author; approvals
// expire after ApprovalTTL; one rejection blocks the migration until it is
// changed (which withdraws every decision).
func ApprovalPolicy(env Environment, risk RiskLevel) int {
	high, medium := risk == RiskHigh, risk == RiskMedium
	switch env {
	case Production:
		if high {
			return 2
		}
		if medium {
			return 1
		}
	case Staging:
		if high || medium {
			return 1
		}
	}
	return 0
}

// ApprovalStatus is where a migration stands against the policy at a time.
type ApprovalStatus struct {
	Required  int        `json:"required"`
	Approvals []Approval `json:"approvals"` // every decision, oldest first
	Valid     int        `json:"valid"`     // distinct approvers whose approval still holds
	Rejected  bool       `json:"rejected"`
	Satisfied bool       `json:"satisfied"`
	Missing   string     `json:"missing,omitempty"` // what is missing, for a person
}

// EvaluateApprovals checks decisions against the policy at now.
func EvaluateApprovals(required int, decisions []Approval, now time.Time) ApprovalStatus {
	st := ApprovalStatus{Required: required, Approvals: decisions}
	if st.Approvals == nil {
		st.Approvals = []Approval{}
	}
	var approvers []string
	var rejectedBy string
	for _, d := range decisions {
		switch {
		case d.Decision == Rejected:
			st.Rejected, rejectedBy = true, d.Approver
		case now.Sub(d.At) < ApprovalTTL && !slices.Contains(approvers, d.Approver):
			approvers = append(approvers, d.Approver)
		}
	}
	st.Valid = len(approvers)
	switch {
	case st.Rejected:
		st.Missing = fmt.Sprintf("rejected by %s: change the migration to withdraw the decisions, then ask again", rejectedBy)
	case st.Valid < required:
		st.Missing = fmt.Sprintf("%d of %d approvals (Admin or DBA, not the author, within %s)", st.Valid, required, "7 days")
	default:
		st.Satisfied = true
	}
	return st
}
