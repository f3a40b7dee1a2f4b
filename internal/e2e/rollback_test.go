package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// TestPartialFailureRollsBackToBefore fails a step half way (the column is
// added, the unique index fails on a duplicate key): the automatic
// rollback skips the DROP INDEX of the index never built, drops the
// column, and the execution ends RolledBack with the table as before.
func TestPartialFailureRollsBackToBefore(t *testing.T) {
	b := newBed(t)
	mig := b.migration("add_nick2",
		"ALTER TABLE accounts ADD COLUMN nick2 text DEFAULT 'x'; CREATE UNIQUE INDEX CONCURRENTLY accounts_nick2 ON accounts (nick2);",
		"DROP INDEX CONCURRENTLY accounts_nick2; ALTER TABLE accounts DROP COLUMN nick2;")
	exec := b.execute(mig, map[string]any{"monitoring": map[string]any{"monitorWindowSeconds": -1}})
	e := b.waitTerminal(mig, exec, 60*time.Second)
	logs := logText(e)
	if e.Status != domain.ExecutionRolledBack {
		t.Fatalf("status = %s, want RolledBack\n%s", e.Status, logs)
	}
	if b.hasColumn("accounts", "nick2") || b.query("SELECT to_regclass('accounts_nick2') IS NOT NULL").(bool) {
		t.Errorf("the rollback left nick2 or accounts_nick2 behind\n%s", logs)
	}
	if d := forwardError(e); d == nil || !strings.Contains(d.Detail, "is duplicated") || d.SQLState != "23505" {
		t.Errorf("the failed step's error = %+v, want SQLSTATE 23505 with the database's DETAIL (Key ... is duplicated)", d)
	}
	for _, want := range []string{"skipping rollback statement 1", "catalog checked: what the forward step created is gone",
		"; detail: Key (nick2)=(x) is duplicated."} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not say %q:\n%s", want, logs)
		}
	}
}

// forwardError is the error of the first failed forward step, or nil.
func forwardError(e domain.Execution) *domain.DBError {
	for _, s := range e.Steps {
		if s.Direction == domain.Forward && s.Error != nil {
			return s.Error
		}
	}
	return nil
}

// TestFailedRollbackRetriedOrResolved: a rollback fails (a view made by
// hand depends on the column it drops); once the view is gone, a retry of
// the rollback ends RolledBack. Another failed rollback is marked resolved
// by hand, which a retry then respects. Both are logged with who acted.
func TestFailedRollbackRetriedOrResolved(t *testing.T) {
	b := newBed(t)
	path := func(mig, exec string) string { return "/api/v1/migrations/" + mig + "/executions/" + exec }
	failRollback := func(column string) (string, string) {
		mig := b.migration("add_"+column, "ALTER TABLE accounts ADD COLUMN "+column+" int;", "ALTER TABLE accounts DROP COLUMN "+column+";")
		exec := b.execute(mig, map[string]any{"monitoring": map[string]any{"monitorWindowSeconds": -1}})
		if e := b.waitTerminal(mig, exec, 60*time.Second); e.Status != domain.ExecutionSucceeded {
			t.Fatalf("forward %s: %s\n%s", column, e.Status, logText(e))
		}
		b.exec("CREATE VIEW v_" + column + " AS SELECT " + column + " FROM accounts")
		b.api.do("POST", path(mig, exec)+"/rollback", map[string]string{"reason": "test"})
		if e := b.waitTerminal(mig, exec, 60*time.Second); e.Status != domain.ExecutionFailed {
			t.Fatalf("rollback with a dependent view: %s, want Failed\n%s", e.Status, logText(e))
		}
		return mig, exec
	}

	mig, exec := failRollback("c3")
	b.exec("DROP VIEW v_c3")
	b.api.must(http.StatusOK, "POST", path(mig, exec)+"/rollback/retry", map[string]string{"reason": "dropped the view"})
	e := b.waitTerminal(mig, exec, 60*time.Second)
	if e.Status != domain.ExecutionRolledBack || b.hasColumn("accounts", "c3") || !strings.Contains(logText(e), "rollback retried by") {
		t.Fatalf("retried rollback: %s, column c3 %v\n%s", e.Status, b.hasColumn("accounts", "c3"), logText(e))
	}
	if r := b.api.do("POST", path(mig, exec)+"/resolve", map[string]string{"reason": "x"}); r.Status != http.StatusConflict {
		t.Errorf("resolve of a RolledBack execution = %d, want 409", r.Status)
	}

	mig, exec = failRollback("c4")
	if r := b.api.do("POST", path(mig, exec)+"/resolve", map[string]string{}); r.Status != http.StatusBadRequest {
		t.Errorf("resolve without a reason = %d, want 400", r.Status)
	}
	b.api.must(http.StatusOK, "POST", path(mig, exec)+"/resolve", map[string]string{"reason": "kept c4 for the view"})
	e = b.execution(mig, exec)
	if e.Resolution == nil || e.Resolution.Reason != "kept c4 for the view" || !strings.Contains(logText(e), "marked resolved by hand by") {
		t.Errorf("resolved execution: %+v\n%s", e.Resolution, logText(e))
	}
	if r := b.api.do("POST", path(mig, exec)+"/rollback/retry", nil); r.Status != http.StatusConflict {
		t.Errorf("retry of a resolved execution = %d, want 409", r.Status)
	}
}
