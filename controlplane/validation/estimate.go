package validation

import (
	"fmt"
	"math"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/lint"
)

// Throughputs behind the duration estimate: conservative figures for a
// server busy with its own workload. They are estimates, said so in the docs.
const (
	rewriteBytesPerSec = 50 << 20  // a rewrite or copy writes the table and its indexes again
	buildBytesPerSec   = 100 << 20 // an index build reads the table and sorts
	scanBytesPerSec    = 200 << 20 // a validation scan reads the table
	dmlRowsPerSec      = 20_000    // an unbatched UPDATE/DELETE, row by row
)

// work is the estimated cost of a script on the live tables.
type work struct {
	seconds   int
	diskBytes int64
	queueing  []api.ValidationIssue
}

// estimateWork sums, per statement and table, the costliest work the
// findings (and index builds without one) say it does.
func estimateWork(r lint.Result, cat Catalog) work {
	type site struct {
		stmt  int
		table string
	}
	kinds := map[site]lint.Work{}
	for _, f := range r.Findings {
		if f.Table != "" {
			k := site{f.Statement, f.Table}
			kinds[k] = costlier(kinds[k], f.Effect.Work)
		}
	}
	for _, o := range r.Objects {
		if o.Kind == lint.ObjectIndex && o.Action == lint.ActionCreate && o.Table != "" {
			k := site{o.Statement, o.Table}
			kinds[k] = costlier(kinds[k], lint.WorkBuild)
		}
	}
	var w work
	var secs float64
	for k, kind := range kinds {
		info, ok := cat.Table(lint.SplitName(k.table))
		if !ok {
			continue
		}
		s, disk := cost(kind, info)
		secs += s
		w.diskBytes += disk
	}
	if len(r.Statements) > 0 {
		w.seconds = max(1, int(math.Ceil(secs)))
	}
	w.queueing = queueWarnings(r, cat, secs)
	return w
}

// cost is the estimated seconds and extra disk of one kind of work.
func cost(kind lint.Work, t lint.TableInfo) (float64, int64) {
	switch kind {
	case lint.WorkRewrite, lint.WorkCopy, lint.WorkRebuild:
		return float64(t.Bytes) / rewriteBytesPerSec, t.Bytes
	case lint.WorkBuild:
		return float64(t.Bytes) / buildBytesPerSec, t.Bytes / 2
	case lint.WorkScan:
		return float64(t.Bytes) / scanBytesPerSec, 0
	case lint.WorkDML, lint.WorkDelete:
		return float64(t.Rows) / dmlRowsPerSec, 0
	}
	return 0, 0
}

var workRank = map[lint.Work]int{lint.WorkNone: 0, lint.WorkDML: 1, lint.WorkDelete: 1, lint.WorkScan: 2,
	lint.WorkBuild: 3, lint.WorkRebuild: 4, lint.WorkRewrite: 5, lint.WorkCopy: 5}

func costlier(a, b lint.Work) lint.Work {
	if workRank[b] > workRank[a] {
		return b
	}
	return a
}

// queueWarnings says, for each blocking hazard on a table the application
// writes to, how many writes queue behind the lock over the estimate.
func queueWarnings(r lint.Result, cat Catalog, secs float64) []api.ValidationIssue {
	var out []api.ValidationIssue
	for _, f := range r.Findings {
		if f.Severity != lint.Warning || f.Effect.Lock == "" || f.Table == "" {
			continue
		}
		rel, ok := cat.relation(f.Table)
		if !ok || rel.WritesPerSecond <= 0 {
			continue
		}
		out = append(out, api.ValidationIssue{Rule: "writes-blocked", Object: f.Table, Line: f.Line, Column: f.Column,
			Message: fmt.Sprintf("%s takes %s workload writes a second; about %.0f of them would wait behind its %s lock over the estimated %.0fs",
				f.Table, fmtRate(rel.WritesPerSecond), rel.WritesPerSecond*max(secs, 1), f.Effect.Lock, max(secs, 1)),
			Recommendation: "use the finding's rewrite, or run it when the table is quiet"})
	}
	return out
}

func fmtRate(r float64) string { return fmt.Sprintf("%.0f", r) }
