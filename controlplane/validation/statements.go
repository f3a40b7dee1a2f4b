package validation

import (
	"regexp"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
)

// noTransaction matches the PostgreSQL commands that refuse to run inside
// a transaction block, so that the executor runs the script statement by
// statement when one is there.
var noTransaction = regexp.MustCompile(`(?i)\b(CONCURRENTLY|VACUUM|CREATE\s+DATABASE|DROP\s+DATABASE|ALTER\s+SYSTEM|CREATE\s+TABLESPACE|DROP\s+TABLESPACE)\b`)

// noTransactionSQLServer matches the SQL Server commands that cannot run
// in a user transaction (the executor then runs the script batch by
// batch, see dialect/sqlserver).
var noTransactionSQLServer = regexp.MustCompile(`(?i)\b((CREATE|ALTER|DROP)\s+(DATABASE|FULLTEXT)|BACKUP|RESTORE|RECONFIGURE|RESUMABLE\s*=\s*ON|BEGIN\s+TRAN(SACTION)?|COMMIT|ROLLBACK)\b`)

// statementReports says, for each statement, its lock, transaction, work
// and estimated duration: the costliest finding on it wins.
func statementReports(r lint.Result, cat Catalog, engine domain.DatabaseType) []api.StatementReport {
	inTx := scriptTransactional(r, engine)
	out := make([]api.StatementReport, 0, len(r.Statements))
	for _, s := range r.Statements {
		rep := api.StatementReport{Index: s.Index, SQL: s.SQL, InTransaction: inTx, Work: string(lint.WorkNone),
			TableBytes: domain.UnknownSize, TableRows: domain.UnknownSize, EstimatedSeconds: -1}
		for _, f := range r.Findings {
			if f.Statement == s.Index {
				mergeFinding(&rep, f)
			}
		}
		for _, o := range r.Objects {
			if o.Statement == s.Index && o.Table != "" && rep.Table == "" {
				rep.Table = o.Table
			}
			if o.Statement == s.Index && o.Kind == lint.ObjectIndex && o.Action == lint.ActionCreate {
				rep.Work = string(costlier(lint.Work(rep.Work), lint.WorkBuild))
			}
		}
		estimate(&rep, cat)
		out = append(out, rep)
	}
	return out
}

// scriptTransactional reports whether the executor runs the script in one
// transaction: PostgreSQL does unless a statement refuses it; MySQL's and
// Oracle's DDL commits by itself.
func scriptTransactional(r lint.Result, engine domain.DatabaseType) bool {
	refuses := noTransaction
	switch engine {
	case domain.PostgreSQL:
	case domain.SQLServer:
		refuses = noTransactionSQLServer
	default:
		return false
	}
	for _, s := range r.Statements {
		if refuses.MatchString(s.SQL) {
			return false
		}
	}
	return true
}

// mergeFinding keeps the strongest lock and the costliest work.
func mergeFinding(rep *api.StatementReport, f lint.Finding) {
	if f.Table != "" && rep.Table == "" {
		rep.Table = f.Table
	}
	if f.Effect.Lock != "" && rep.Lock == "" {
		rep.Lock, rep.LockHeld = f.Effect.Lock, f.Effect.Duration
	}
	if f.Effect.Work != "" {
		rep.Work = string(costlier(lint.Work(rep.Work), f.Effect.Work))
	}
}

// estimate fills the table's size and the seconds its work takes.
func estimate(rep *api.StatementReport, cat Catalog) {
	if rep.Table == "" {
		return
	}
	info, ok := cat.Table(lint.SplitName(rep.Table))
	if !ok {
		return
	}
	rep.TableBytes, rep.TableRows = info.Bytes, info.Rows
	secs, _ := cost(lint.Work(rep.Work), info)
	rep.EstimatedSeconds = secs
}
