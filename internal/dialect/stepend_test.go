package dialect_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// TestFinishStep: each way a step's run can end gets the Executor
// contract's answer, and nothing that leaves holds the password.
func TestFinishStep(t *testing.T) {
	scrub := func(s string) string { return strings.ReplaceAll(s, "s3cret", "***") }
	end := dialect.StepEnd{StepID: "s1", Target: "h1/main", Outcome: dialect.StepOutcome{Transactional: true},
		AppliedDespiteCancel: func() bool { return false },
		ScrubErr:             func(err error) error { return dialect.ScrubError(err, "s3cret") }}
	var events []dialect.StepEvent
	report := dialect.StepReport{Events: func(e dialect.StepEvent) { events = append(events, e) }, Scrub: scrub}
	live := context.Background()

	out, err := dialect.FinishStep(live, fmt.Errorf("wrapped: %w", dialect.ErrAlreadyApplied), end, report)
	if err != nil || !out.AlreadyApplied || !out.Transactional {
		t.Errorf("already applied: %+v, %v", out, err)
	}
	se := &dialect.StatementError{SQL: "ALTER ROLE x PASSWORD 's3cret'", DB: domain.DBError{Message: "refused s3cret",
		SQLState: "42501", Detail: "d", Hint: "h"}}
	out, err = dialect.FinishStep(live, se, end, report)
	if err != nil || out.Error == nil || out.Error.SQLState != "42501" || strings.Contains(out.Error.Message+out.Error.Statement, "s3cret") {
		t.Errorf("statement error: %+v, %v", out.Error, err)
	}
	if last := events[len(events)-1]; last.Level != dialect.LevelError || last.Message != "refused ***; detail: d; hint: h" {
		t.Errorf("statement error event = %+v", last)
	}
	if _, err := dialect.FinishStep(live, dialect.ErrStaleToken, end, report); !errors.Is(err, dialect.ErrStaleToken) {
		t.Errorf("stale token: %v", err)
	}
	if _, err := dialect.FinishStep(live, errors.New("conn to user:s3cret@h lost"), end, report); err == nil ||
		strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "execute step s1 on h1/main") {
		t.Errorf("other error: %v", err)
	}
	cancelled, cancel := context.WithCancel(live)
	cancel()
	if _, err := dialect.FinishStep(cancelled, nil, end, report); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	end.AppliedDespiteCancel = func() bool { return true }
	if out, err := dialect.FinishStep(cancelled, nil, end, report); err != nil || out.Error != nil {
		t.Errorf("cancelled after the step applied: %+v, %v", out, err)
	}
}
