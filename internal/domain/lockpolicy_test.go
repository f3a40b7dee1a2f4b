package domain

import "testing"

func TestValidateLockPolicy(t *testing.T) {
	cases := []struct {
		name string
		p    LockPolicy
		want string // the field refused, "" for none
	}{
		{"default", LockPolicy{}, ""},
		{"wait", LockPolicy{NeverFree: NeverFreeWait}, ""},
		{"fail and terminate", LockPolicy{NeverFree: NeverFreeFail, TerminateBlockersAfterMs: 30000, TerminatePrivileged: true}, ""},
		{"unknown never-free", LockPolicy{NeverFree: "retry"}, "lockPolicy.neverFree"},
		{"limit too short", LockPolicy{TerminateBlockersAfterMs: 10}, "lockPolicy.terminateBlockersAfterMs"},
		{"negative limit", LockPolicy{TerminateBlockersAfterMs: -1}, "lockPolicy.terminateBlockersAfterMs"},
		{"privileged without a limit", LockPolicy{TerminatePrivileged: true}, "lockPolicy.terminatePrivileged"},
	}
	for _, c := range cases {
		errs := validateLockPolicy(c.p)
		got := ""
		if len(errs) > 0 {
			got = errs[0].Field
		}
		if got != c.want || len(errs) > 1 {
			t.Errorf("%s: got %v, want the field %q refused", c.name, errs, c.want)
		}
	}
}
