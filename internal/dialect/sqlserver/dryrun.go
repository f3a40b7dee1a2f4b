package sqlserver

import (
	"context"
	"fmt"
)

// dryRun checks the script without applying it: the fencing token against
// the history when one exists, the transactional batches run in a
// transaction that is rolled back, and the others checked against the
// catalog (the tables they name exist) instead of run.
func (r *stepRun) dryRun(ctx context.Context, p scriptPlan) error {
	if ok, err := historyExists(ctx, r.conn); err != nil {
		return err
	} else if ok {
		if err := checkStep(ctx, r.conn, r.req); err != nil && err != errAlreadyApplied {
			return err
		}
	}
	if _, err := r.conn.ExecContext(ctx, beginSQL); err != nil {
		return failedStatement(beginSQL, err)
	}
	defer r.rollback(ctx)
	for _, b := range p.units {
		if !b.transactional {
			if err := r.checkAgainstCatalog(ctx, b); err != nil {
				return err
			}
			continue
		}
		if _, err := r.runBatch(ctx, b, 1); err != nil {
			return err
		}
		r.emit(levelInfo, fmt.Sprintf("dry run: %s ran in a transaction that is rolled back", describeUnit(b)), b.sql)
	}
	return nil
}

// objectExistsSQL reports whether a table exists.
const objectExistsSQL = agentTag + `SELECT CASE WHEN OBJECT_ID(@p1) IS NULL THEN 0 ELSE 1 END`

// checkAgainstCatalog checks, instead of running it, a batch that cannot
// run in a transaction: every table it names exists.
func (r *stepRun) checkAgainstCatalog(ctx context.Context, b unit) error {
	for _, t := range b.targets {
		var ok int
		if err := r.conn.QueryRowContext(ctx, objectExistsSQL, t).Scan(&ok); err != nil {
			return failedStatement(b.sql, err)
		}
		if ok == 0 {
			return &statementError{SQL: b.sql, DB: dbFailure(fmt.Sprintf("dry run: %s names %s, which does not exist", describeUnit(b), t), "")}
		}
	}
	r.emit(levelInfo, fmt.Sprintf("dry run: %s checked against the catalog, not run (%s cannot run in a transaction)",
		describeUnit(b), b.why), b.sql)
	return nil
}
