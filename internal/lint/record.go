package lint

import "github.com/hotswap-db/hotswap/internal/domain"

// Record is the finding as stored with a migration.
func (f Finding) Record() domain.LintFinding {
	return domain.LintFinding{Rule: f.Rule, Severity: string(f.Severity), Class: f.Class.String(), Statement: f.Statement,
		Line: f.Line, Column: f.Column, Message: f.Message, Lock: f.Effect.Lock, LockHeld: f.Effect.Duration,
		Work: string(f.Effect.Work), Rewrite: f.Rewrite, Table: f.Table, IgnoreReason: f.IgnoreReason}
}

// Records converts a list of findings; none is nil.
func Records(fs []Finding) []domain.LintFinding {
	if len(fs) == 0 {
		return nil
	}
	out := make([]domain.LintFinding, len(fs))
	for i, f := range fs {
		out[i] = f.Record()
	}
	return out
}
