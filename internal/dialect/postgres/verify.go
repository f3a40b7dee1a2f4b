package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/verifypoll"
	"github.com/hotswap-db/hotswap/internal/domain"
)

var _ dialect.Verifier = (*Conn)(nil)

const (
	// verifyPollTimeout bounds one look at the standby, so that a hung
	// session cannot keep the step past its deadline for long.
	verifyPollTimeout = 2 * time.Second
	// verifyLockTimeout bounds the wait for the history table's lock, which
	// the standby's startup process holds while it replays DDL on the
	// table: such a look counts as "not arrived yet".
	verifyLockTimeout = "1s"

	// sqlstateSerializationFailure is also how a standby cancels a query
	// that conflicts with recovery.
	sqlstateSerializationFailure = "40001"
)

// standbyStatusSQL reads what a look needs before the history row. On a
// primary, pg_is_wal_replay_paused() raises an error, hence the CASE.
const standbyStatusSQL = `SELECT pg_is_in_recovery(),
	CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END,
	to_regclass('hotswap.schema_history') IS NOT NULL`

// VerifyStep waits, on a physical standby, for the step req names to arrive
// from the primary, following the dialect.Verifier contract.
//
// Every 100 ms it opens a READ ONLY transaction and looks for the step's
// row in hotswap.schema_history (a missing table means nothing has arrived
// yet: it is never created here) and reads the replay lag as Probe does: 0
// when the standby has replayed all the WAL it received, else the seconds
// since the commit time of the last transaction it replayed, by the
// standby's clock. The step has arrived when the row is visible and the lag
// is at most req.MaxLagSeconds (when set). A look that meets a lock held
// by WAL replay or a recovery conflict counts as "not yet".
//
// The wait is reported in events: once when it starts, every 5 s while it
// goes on (with the lag and whether replay is paused), and on arrival.
// When req.Deadline passes first the outcome's Error says what was missing;
// a database error also ends the step in the outcome. On a primary, an
// unreachable standby or a cancelled ctx, it returns an error.
func (c *Conn) VerifyStep(ctx context.Context, req dialect.VerifyRequest, events func(dialect.StepEvent)) (dialect.StepOutcome, error) {
	v := &verifyRun{c: c, req: req, events: events}
	out, err := v.run(ctx)
	switch {
	case ctx.Err() != nil:
		return dialect.StepOutcome{}, fmt.Errorf("verify step %s: %w", req.StepID, ctx.Err())
	case err != nil:
		return dialect.StepOutcome{}, c.scrub(fmt.Errorf("verify step %s on %s: %w", req.StepID, c.target, err))
	}
	return out, nil
}

// verifyRun is one call of VerifyStep.
type verifyRun struct {
	c      *Conn
	req    dialect.VerifyRequest
	events func(dialect.StepEvent)
}

// standbyState is what one look at the standby found.
type standbyState struct {
	inRecovery    bool
	paused        bool
	historyExists bool
	rowPresent    bool
	lagSeconds    float64
	// busy, when set, is why the look could not finish (a lock held by
	// replay, a recovery conflict): the row counts as not there.
	busy string
}

// run polls the standby under the policy of package verifypoll until the
// step arrives or the deadline passes.
func (v *verifyRun) run(ctx context.Context) (dialect.StepOutcome, error) {
	return verifypoll.Run(ctx, v.req, v.observe, v.emit, v.scrubText)
}

// observe is one look, as verifypoll sees it: an instance out of recovery
// is not a standby.
func (v *verifyRun) observe(ctx context.Context) (verifypoll.Observation, error) {
	st, err := v.look(ctx)
	switch {
	case err != nil:
		return verifypoll.Observation{}, err
	case !st.inRecovery:
		return verifypoll.Observation{}, errors.New(
			"the instance is not a standby (pg_is_in_recovery() is false): verify steps run on physical standbys, the step itself on the primary")
	}
	return verifypoll.Observation{Arrived: st.arrived(v.req.MaxLagSeconds), LagSeconds: st.lagSeconds, Missing: v.describe(st)}, nil
}

// look reads the standby's state in one read-only transaction. A lock
// held by replay, a recovery conflict or a look that takes too long leaves
// st.busy set; any other database error comes back as a *statementError.
func (v *verifyRun) look(parent context.Context) (standbyState, error) {
	ctx, cancel := context.WithTimeout(parent, verifyPollTimeout)
	defer cancel()
	conn, err := v.c.pool.Acquire(ctx)
	switch {
	case err != nil && parent.Err() == nil && ctx.Err() != nil:
		// A slow standby (or a busy host) is looked at again, until the
		// step's deadline; a refusal is an answer.
		return standbyState{}.unfinished(fmt.Sprintf("the standby did not accept a session within %s", verifyPollTimeout)), nil
	case err != nil:
		return standbyState{}, fmt.Errorf("%w: %w", dialect.ErrUnreachable, err)
	}
	defer conn.Release()
	var st standbyState
	err = pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		return st.read(ctx, tx, v.req)
	})
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return st, nil
	case errors.As(err, &pgErr) && pgErr.Code == sqlstateLockNotAvailable:
		return st.unfinished("the history table is locked by WAL replay"), nil
	case errors.As(err, &pgErr) && pgErr.Code == sqlstateSerializationFailure:
		return st.unfinished("the look was cancelled by a conflict with recovery"), nil
	case errors.As(err, &pgErr) && pgErr.Code == sqlstateUndefinedTable:
		return st.unfinished("the history table went away during the look"), nil
	case parent.Err() == nil && ctx.Err() != nil:
		return st.unfinished(fmt.Sprintf("the standby did not answer within %s", verifyPollTimeout)), nil
	case errors.As(err, &pgErr):
		return standbyState{}, &statementError{DB: dbFailure(
			fmt.Sprintf("verify step %s on the standby: %s", v.req.StepID, v.scrubText(pgErr.Message)), pgErr.Code), Cause: err}
	default:
		return standbyState{}, err
	}
}

// unfinished is st after a look that could not finish, for reason: the
// look was made on a standby (the status query failed, or it found the
// instance in recovery), and the row counts as not there.
func (st standbyState) unfinished(reason string) standbyState {
	st.busy, st.inRecovery, st.rowPresent = reason, true, false
	return st
}

// read fills st on tx: recovery and pause state, replay lag and the row.
func (st *standbyState) read(ctx context.Context, tx pgx.Tx, req dialect.VerifyRequest) error {
	if err := tx.QueryRow(ctx, standbyStatusSQL).Scan(&st.inRecovery, &st.paused, &st.historyExists); err != nil {
		return fmt.Errorf("standby status: %w", err)
	}
	if !st.inRecovery {
		return nil
	}
	var lag domain.InstanceStatus
	if err := queryStandbyLag(ctx, tx, &lag); err != nil {
		return err
	}
	st.lagSeconds = lag.ReplicationLagSeconds
	if !st.historyExists {
		return nil
	}
	if _, err := tx.Exec(ctx, `SELECT set_config('lock_timeout', $1, true)`, verifyLockTimeout); err != nil {
		return fmt.Errorf("set lock timeout: %w", err)
	}
	const sql = `SELECT EXISTS (SELECT 1 FROM hotswap.schema_history WHERE execution_id = $1 AND step_id = $2)`
	if err := tx.QueryRow(ctx, sql, req.ExecutionID, req.StepID).Scan(&st.rowPresent); err != nil {
		return fmt.Errorf("look up step %s in history: %w", req.StepID, err)
	}
	return nil
}

// arrived reports whether the row is there and the lag within maxLag
// (0: no bound).
func (st standbyState) arrived(maxLag float64) bool {
	return st.rowPresent && (maxLag <= 0 || st.lagSeconds <= maxLag)
}

// describe says what st lacks, for warnings and the timeout's message.
func (v *verifyRun) describe(st standbyState) string {
	var parts []string
	switch {
	case st.busy != "":
		parts = append(parts, "history row not seen ("+st.busy+")")
	case st.rowPresent:
		parts = append(parts, "history row present")
	case !st.historyExists:
		parts = append(parts, "history row not present (no hotswap.schema_history table on the standby yet)")
	default:
		parts = append(parts, "history row not present")
	}
	parts = append(parts, fmt.Sprintf("replay lag %.1f s%s", st.lagSeconds, verifypoll.LagBound(v.req, " (bound %g s)")))
	if st.paused {
		parts = append(parts, "WAL replay is paused (pg_wal_replay_resume() resumes it)")
	} else {
		parts = append(parts, "WAL replay is not paused")
	}
	return strings.Join(parts, "; ")
}

// emit stamps, scrubs and delivers an event.
func (v *verifyRun) emit(level, msg string) {
	if v.events == nil {
		return
	}
	v.events(dialect.StepEvent{Time: time.Now().UTC(), Level: level, Message: v.scrubText(msg)})
}

// scrubText removes the instance's password from text that leaves the agent.
func (v *verifyRun) scrubText(s string) string { return dialect.Scrub(s, v.c.secrets...) }
