package validation

import (
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
	"github.com/hotswap-db/hotswap/internal/sqlcheck"
)

// statementReports says, for each statement, its lock, transaction, work
// and estimated duration: the costliest finding on it wins.
// The transaction column comes from the engine's checker, which decides as
// its executor does.
func statementReports(r lint.Result, cat Catalog, engine domain.DatabaseType) ([]api.StatementReport, string) {
	texts := make([]string, len(r.Statements))
	for i, s := range r.Statements {
		texts[i] = s.SQL
	}
	inTx, why, err := sqlcheck.InTransactions(engine, texts)
	if err != nil {
		inTx, why = make([]bool, len(texts)), "unknown: "+err.Error()
	}
	out := make([]api.StatementReport, 0, len(r.Statements))
	for i, s := range r.Statements {
		rep := api.StatementReport{Index: s.Index, SQL: s.SQL, InTransaction: inTx[i], Work: string(lint.WorkNone),
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
	return out, why
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
