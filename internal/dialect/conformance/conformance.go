// Package conformance is the suite every engine's executor must pass, run
// from the engine's own tests against a real server, in golang-migrate's
// dktesting style: the engine gives a Factory (a fresh database, another
// session, and the few statements that differ between engines) and calls
// Run.
//
// The cases are the dialect.Executor contract: exactly once per step,
// re-delivery reports AlreadyApplied, a stale fencing token is refused,
// cancelling ctx cancels the statement in the database, a lock held by
// another session is waited out and retried without blocking the
// application's reads, a script that cannot run in one transaction resumes
// after the last statement done, and no message holds the password.
package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
)

// Instance is one fresh database of the engine under test.
type Instance struct {
	// Conn is the connection under test, opened with a DSN holding
	// Password; the factory closes it when the test ends.
	Conn dialect.Conn
	// Password is the DSN's password: no message may hold it.
	Password string
	// Session opens another session on the database, not the agent's,
	// closed when t ends.
	Session func(t *testing.T) Session
	// Active counts the sessions of the server that are running a
	// statement whose text contains text (the agent's sessions at least).
	Active func(ctx context.Context, text string) (int, error)
}

// Session is a session of the application: it runs statements one by one.
type Session interface {
	Exec(ctx context.Context, sql string) error
}

// SQL is what differs between engines, as statements on tables the suite
// names (plain lower-case identifiers).
type SQL struct {
	// CreateTable creates table with one integer column id.
	CreateTable func(table string) string
	// AddColumn is a DDL that needs an exclusive lock on table.
	AddColumn func(table, column string) string
	// NoTransaction is a statement on table that cannot run in a
	// transaction (the script then runs statement by statement).
	NoTransaction func(table string) string
	// Sleep is a statement that runs for seconds in the server; its text
	// must be told apart by Active.
	Sleep func(seconds int) string
	// Read reads table, as the application would.
	Read func(table string) string
	// Begin opens a transaction on a Session; Commit ends it.
	Begin, Commit string
	// HoldLock, run in a transaction, takes a lock on table that
	// conflicts with AddColumn and keeps it until Commit, while still
	// letting Read through.
	HoldLock func(table string) string
	// WithLiteral is a statement that fails and quotes literal in its text.
	WithLiteral func(literal string) string
}

// Factory makes instances of the engine under test.
type Factory struct {
	// New returns a fresh, empty database; everything it made is removed
	// or closed when t ends.
	New func(t *testing.T) Instance
	SQL SQL
}

// Timing of the suite: loose enough for a loaded machine, tight enough to
// tell a read that waited behind the DDL from one that did not.
const (
	lockTimeout = 200 * time.Millisecond
	holdFor     = 1500 * time.Millisecond
	pollTimeout = 20 * time.Second
	pollEvery   = 20 * time.Millisecond
)

// Run runs every case of the suite, each on a fresh instance.
func Run(t *testing.T, f Factory) {
	cases := []struct {
		name string
		run  func(t *testing.T, c *suite)
	}{
		{"ExactlyOnceAndRedelivery", testExactlyOnce},
		{"StaleFencingToken", testStaleToken},
		{"CancelStopsTheStatement", testCancel},
		{"LockWaitedOutOfTheQueue", testLockWait},
		{"StepwiseResumeAfterCrash", testStepwiseResume},
		{"NoPasswordInMessages", testNoPassword},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, &suite{in: f.New(t), sql: f.SQL})
		})
	}
}
