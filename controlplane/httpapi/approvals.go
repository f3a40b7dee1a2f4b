package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

func (a *API) approveMigration(w http.ResponseWriter, r *http.Request, p principal) error {
	var req api.ApproveRequest
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	return a.decide(w, r, p, domain.Approved, req.Notes)
}

func (a *API) rejectMigration(w http.ResponseWriter, r *http.Request, p principal) error {
	var req api.RejectRequest
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return badRequest("a rejection needs a reason", domain.FieldError{Field: "reason", Message: "is required"})
	}
	return a.decide(w, r, p, domain.Rejected, req.Reason)
}

func decodeOptional(r *http.Request, dst any) error {
	body, err := readOptionalBody(r, smallBodyLimit)
	if err != nil {
		return err
	}
	return decodeStrict(body, dst)
}

// decide commits an approver's decision, stamped here before the Raft call.
func (a *API) decide(w http.ResponseWriter, r *http.Request, p principal, v domain.Verdict, notes string) error {
	field := "notes"
	if v == domain.Rejected {
		field = "reason"
	}
	if err := checkNote(field, notes); err != nil {
		return err
	}
	m, err := a.pathMigration(r)
	if err != nil {
		return err
	}
	if p.Name == m.CreatedBy {
		return forbidden(fmt.Sprintf("%s wrote migration %q and cannot approve or reject it: another Admin or DBA must", p.Name, m.Name))
	}
	d := domain.Approval{ApprovalID: "appr-" + NewToken("")[:16], MigrationID: m.MigrationID, Approver: p.Name,
		Role: domain.Role(p.Role), Decision: v, Notes: notes, At: a.now().UTC().Truncate(time.Millisecond)}
	if err := a.commit(w, r, fsm.DecideMigrationRequest{Approval: d}); err != nil {
		return err
	}
	st, err := a.approvalStatus(m)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.DecisionResponse{ApprovalID: d.ApprovalID, MigrationID: m.MigrationID,
		Status: v, ReviewedBy: p.Name, ReviewedAt: d.At, Approvals: st})
	return nil
}

func (a *API) listApprovals(w http.ResponseWriter, r *http.Request, _ principal) error {
	m, err := a.pathMigration(r)
	if err != nil {
		return err
	}
	st, err := a.approvalStatus(m)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.ApprovalsResponse{MigrationID: m.MigrationID, ApprovalStatus: st})
	return nil
}

// approvalStatus evaluates a migration's decisions against the policy for
// its risk and its target's environment, now.
func (a *API) approvalStatus(m domain.Migration) (domain.ApprovalStatus, error) {
	db, err := a.raft.State().Database(m.TargetDatabaseID)
	if err != nil {
		return domain.ApprovalStatus{}, err
	}
	return domain.EvaluateApprovals(domain.ApprovalPolicy(db.Environment, m.RiskLevel),
		a.raft.State().Approvals(m.MigrationID), a.now()), nil
}

// checkApproved refuses to execute a migration the policy says needs
// approvals it lacks, saying what is missing.
func (a *API) checkApproved(m domain.Migration) error {
	st, err := a.approvalStatus(m)
	if err != nil {
		return err
	}
	if st.Satisfied {
		return nil
	}
	return &apiError{http.StatusConflict, api.CodeConflict,
		fmt.Sprintf("migration %q (risk %s) needs approval before it runs: %s", m.Name, m.RiskLevel, st.Missing),
		[]domain.FieldError{{Field: "approvals", Message: st.Missing}}}
}

// markApproval sets RequiresApproval from the policy for the migration's
// risk and its target's environment, so what the API shows is what
// execute enforces.
func (a *API) markApproval(m *domain.Migration) {
	if db, err := a.raft.State().Database(m.TargetDatabaseID); err == nil {
		m.RequiresApproval = domain.ApprovalPolicy(db.Environment, m.RiskLevel) > 0
	}
}

// checkNote bounds a note a person writes for the log.
func checkNote(field, note string) error {
	if len(note) > domain.MaxNoteBytes {
		return badRequest("the "+field+" is too long", domain.FieldError{Field: field,
			Message: fmt.Sprintf("at most %d bytes (found %d)", domain.MaxNoteBytes, len(note))})
	}
	return nil
}

// submitApproval records that a migration awaits its approvals, so the
// approvers are notified, and says what the policy asks for.
func (a *API) submitApproval(w http.ResponseWriter, r *http.Request, p principal) error {
	var req api.SubmitApprovalRequest
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	if err := checkNote("notes", req.Notes); err != nil {
		return err
	}
	m, err := a.pathMigration(r)
	if err != nil {
		return err
	}
	now := a.now().UTC().Truncate(time.Millisecond)
	c := fsm.SubmitApprovalRequest{MigrationID: m.MigrationID, By: p.Name, At: now, Notes: req.Notes}
	if err := a.commit(w, r, c); err != nil {
		return err
	}
	st, err := a.approvalStatus(m)
	if err != nil {
		return err
	}
	status := "Pending"
	switch {
	case st.Rejected:
		status = "Rejected"
	case st.Satisfied:
		status = "Approved"
	}
	writeJSON(w, http.StatusCreated, api.SubmitApprovalResponse{ApprovalID: "appr-" + strings.TrimPrefix(m.MigrationID, "mig-"),
		MigrationID: m.MigrationID, Status: status, SubmittedAt: now, ExpiresAt: now.Add(domain.ApprovalTTL), ApprovalStatus: st})
	return nil
}
