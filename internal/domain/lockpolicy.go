package domain

import "time"

// NeverFreePolicy is what a step does when the tables its DDL needs are
// never free for as long as its lock timeout allows: a stream of
// statements always leaves more to wait than the maximum delay.
type NeverFreePolicy string

// The never-free policies.
const (
	// NeverFreeWait keeps waiting outside the lock queue for a moment,
	// until the execution's deadline (the default).
	NeverFreeWait NeverFreePolicy = "wait"
	// NeverFreeFail fails the step at once, with the figures, once the
	// table has been seen never free.
	NeverFreeFail NeverFreePolicy = "fail"
)

// NeverFreePolicies lists the never-free policies.
var NeverFreePolicies = []NeverFreePolicy{NeverFreeWait, NeverFreeFail}

// MinTerminateBlockersAfterMs is the shortest age limit for terminating
// blockers: a shorter one would end ordinary application transactions.
const MinTerminateBlockersAfterMs = 1000

// LockPolicy is how a migration's steps treat the other sessions that
// hold the tables their DDL needs.
type LockPolicy struct {
	// NeverFree is what a step does when the tables are never free for
	// long enough; empty means NeverFreeWait.
	NeverFree NeverFreePolicy `json:"neverFree,omitempty"`
	// TerminateBlockersAfterMs, above 0, lets a step terminate a session
	// whose transaction holds what the DDL needs and has been open longer
	// than this (PostgreSQL: pg_terminate_backend), recording who in the
	// execution's log. 0 (the default) never terminates anyone.
	TerminateBlockersAfterMs int64 `json:"terminateBlockersAfterMs,omitempty"`
	// TerminatePrivileged lets it terminate superuser and replication
	// sessions too, which it otherwise leaves alone.
	TerminatePrivileged bool `json:"terminatePrivileged,omitempty"`
}

// FailsWhenNeverFree reports whether the policy gives up at once on a
// table never free for long enough.
func (p LockPolicy) FailsWhenNeverFree() bool { return p.NeverFree == NeverFreeFail }

// TerminateAfter is the age past which blockers are terminated; 0 never.
func (p LockPolicy) TerminateAfter() time.Duration {
	return time.Duration(p.TerminateBlockersAfterMs) * time.Millisecond
}

// validateLockPolicy checks a migration's lock policy.
func validateLockPolicy(p LockPolicy) []FieldError {
	var errs []FieldError
	if p.NeverFree != "" && !oneOf(p.NeverFree, NeverFreePolicies) {
		errs = append(errs, FieldError{"lockPolicy.neverFree", "must be one of " + list(NeverFreePolicies)})
	}
	if p.TerminateBlockersAfterMs != 0 && p.TerminateBlockersAfterMs < MinTerminateBlockersAfterMs {
		errs = append(errs, FieldError{"lockPolicy.terminateBlockersAfterMs", "must be 0 (never) or at least 1000"})
	}
	if p.TerminatePrivileged && p.TerminateBlockersAfterMs == 0 {
		errs = append(errs, FieldError{"lockPolicy.terminatePrivileged", "needs terminateBlockersAfterMs"})
	}
	return errs
}
