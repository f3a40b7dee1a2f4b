package dialect

import (
	"errors"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// ErrStaleToken means a step carried a fencing token older than one the
// instance has already recorded in its history: the request comes from a
// control plane leader that has since been superseded, and nothing was run.
var ErrStaleToken = errors.New("dialect: stale fencing token")

// StatementError is a failure of the script itself: the database refused a
// statement, a lock never came before the deadline, a dry-run check failed,
// a standby never showed the step. It ends a step with StepOutcome.Error
// set from DB (and Statement from SQL), not with an error. Cause is the
// driver's error, if any.
type StatementError struct {
	SQL   string
	DB    domain.DBError
	Cause error
}

// Error returns the database's message.
func (e *StatementError) Error() string { return e.DB.Message }

// Unwrap returns the driver's error, if any.
func (e *StatementError) Unwrap() error { return e.Cause }

// Failure returns a StatementError for sql with the database's message and
// code.
func Failure(sql, msg, code string, cause error) *StatementError {
	return &StatementError{SQL: sql, DB: domain.DBError{Message: msg, SQLState: code}, Cause: cause}
}
