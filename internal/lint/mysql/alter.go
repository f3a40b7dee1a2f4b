package mysql

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// verdict is what one ALTER TABLE part needs from the server.
type verdict struct {
	work    lint.Work // none, rebuild or copy
	instant bool      // INSTANT is possible
	blocks  bool      // no concurrent DML even in place
	hazard  bool      // a finding was recorded for it
	fixed   bool      // the part was changed in place into its safe form
	fixSQL  []string  // statements to run around the fixed ALTER (before, after)
}

// alterState gathers the verdicts of one ALTER TABLE.
type alterState struct {
	stmt        *ast.AlterTableStmt
	table       string
	algo        ast.AlgorithmType
	lock        ast.LockType
	addsPK      bool
	work        lint.Work
	instant     bool
	blocks      bool
	hazards     int
	unfixable   bool
	before      []string
	after       []string
	changedSpec bool
	ack         string // a data-loss rule the rewrite acknowledges
}

func (l *linter) alterTable(s *ast.AlterTableStmt) {
	t := tableKey(s.Table)
	if l.created[fold(t)] {
		for _, sp := range s.Specs {
			if sp.Tp == ast.AlterTableRenameTable {
				l.created[fold(tableKey(sp.NewTable))] = true
			}
		}
		l.classify(lint.ClassAdditive)
		return
	}
	st := &alterState{stmt: s, table: t, work: lint.WorkNone, instant: true}
	for _, sp := range s.Specs {
		switch sp.Tp {
		case ast.AlterTableAlgorithm:
			st.algo = sp.Algorithm
		case ast.AlterTableLock:
			st.lock = sp.LockType
		case ast.AlterTableAddConstraint:
			st.addsPK = st.addsPK || sp.Constraint.Tp == ast.ConstraintPrimaryKey
		}
	}
	first := len(l.findings)
	for _, sp := range s.Specs {
		if sp.Tp == ast.AlterTableAlgorithm || sp.Tp == ast.AlterTableLock {
			continue
		}
		st.add(l.spec(st, sp))
	}
	l.classify(lint.ClassAdditive)
	l.algorithmRules(st)
	l.alterRewrite(st, first)
}

func (st *alterState) add(v verdict) {
	st.instant = st.instant && v.instant
	st.blocks = st.blocks || v.blocks
	if rank(v.work) > rank(st.work) {
		st.work = v.work
	}
	if v.hazard {
		st.hazards++
		if !v.fixed {
			st.unfixable = true
		}
	}
	if v.fixed {
		st.changedSpec = true
		if len(v.fixSQL) == 2 {
			st.before = append(st.before, v.fixSQL[0])
			st.after = append(st.after, v.fixSQL[1])
		}
	}
}

func rank(w lint.Work) int {
	switch w {
	case lint.WorkCopy:
		return 2
	case lint.WorkRebuild:
		return 1
	}
	return 0
}

// spec judges one part of an ALTER TABLE.
func (l *linter) spec(st *alterState, sp *ast.AlterTableSpec) verdict {
	switch sp.Tp {
	case ast.AlterTableAddColumns:
		return l.addColumns(st, sp)
	case ast.AlterTableDropColumn:
		v := verdict{work: lint.WorkNone, instant: instantAddAnywhere(l.target)}
		note := ""
		if !v.instant {
			v.work, note = lint.WorkRebuild, "; on this server it also rebuilds the table"
		}
		l.finding(lint.Finding{Rule: "ban-drop-column", Severity: lint.Error, Class: lint.ClassDataLoss, Table: st.table,
			Message: fmt.Sprintf("DROP COLUMN deletes %s.%s and its data; releases still reading it fail%s", st.table, sp.OldColumnName.Name.O, note),
			Effect:  lint.Effect{Lock: "exclusive metadata lock", Duration: "brief", Work: lint.WorkDelete}})
		st.ack = "ban-drop-column"
		return v
	case ast.AlterTableModifyColumn, ast.AlterTableChangeColumn:
		return l.changeColumn(st, sp)
	case ast.AlterTableRenameColumn:
		l.renameColumn(st, sp.OldColumnName.Name.O, sp.NewColumnName.Name.O, nil)
		return verdict{work: lint.WorkNone, instant: instantRename(l.target)}
	case ast.AlterTableRenameTable:
		l.renameTable(st.table, tableKey(sp.NewTable), sp.NewTable)
		return verdict{work: lint.WorkNone, instant: true}
	case ast.AlterTableAddConstraint:
		return l.addConstraint(st, sp.Constraint)
	case ast.AlterTableDropPrimaryKey:
		if st.addsPK {
			return l.rebuild(st, "replacing the primary key rebuilds the table (online, but it reads and rewrites every row)")
		}
		return l.copyTable(st, "mysql-drop-primary-key", lint.ClassRewrite, "dropping the primary key without adding one in the same ALTER needs ALGORITHM=COPY: writes are blocked until the copy ends")
	case ast.AlterTableOption:
		return l.tableOptions(st, sp.Options)
	case ast.AlterTableForce:
		return l.rebuild(st, "FORCE rebuilds the table")
	case ast.AlterTableDropPartition, ast.AlterTableTruncatePartition:
		l.dataLoss("ban-drop-partition", "DROP/TRUNCATE PARTITION deletes the rows of those partitions", st.table, l.sql())
		return verdict{work: lint.WorkNone}
	case ast.AlterTablePartition, ast.AlterTableRemovePartitioning, ast.AlterTableReorganizePartition, ast.AlterTableCoalescePartitions:
		return l.copyTable(st, "mysql-partitioning-copy", lint.ClassRewrite, "repartitioning copies the whole table with ALGORITHM=COPY: writes are blocked until the copy ends")
	case ast.AlterTableAlterColumn, ast.AlterTableRenameIndex, ast.AlterTableIndexInvisible, ast.AlterTableDropIndex, ast.AlterTableDropForeignKey:
		return verdict{work: lint.WorkNone, instant: sp.Tp == ast.AlterTableAlterColumn || sp.Tp == ast.AlterTableRenameIndex || sp.Tp == ast.AlterTableIndexInvisible}
	}
	return verdict{work: lint.WorkNone}
}

// copyTable records a change that only ALGORITHM=COPY can do.
func (l *linter) copyTable(st *alterState, rule string, class lint.Class, msg string) verdict {
	l.finding(lint.Finding{Rule: rule, Severity: lint.Warning, Class: class, Message: msg, Table: st.table, SizeDependent: true,
		Effect: lint.Effect{Lock: "shared metadata lock: reads only", Duration: "until the copy ends", Work: lint.WorkCopy}})
	return verdict{work: lint.WorkCopy, hazard: true}
}

// rebuild records an online change that still rebuilds the whole table.
func (l *linter) rebuild(st *alterState, msg string) verdict {
	l.finding(lint.Finding{Rule: "mysql-online-rebuild", Severity: lint.Warning, Class: lint.ClassBlocking, Table: st.table, SizeDependent: true,
		Message: msg + "; it runs online but reads and rewrites every row, and replicas apply it serially, lagging for as long",
		Effect:  lint.Effect{Lock: "exclusive metadata lock at start and end", Duration: "brief at both ends; the rebuild lasts as long as a copy", Work: lint.WorkRebuild}})
	return verdict{work: lint.WorkRebuild, hazard: true}
}

func (l *linter) tableOptions(st *alterState, opts []*ast.TableOption) verdict {
	v := verdict{work: lint.WorkNone, instant: true}
	for _, o := range opts {
		switch o.Tp {
		case ast.TableOptionEngine, ast.TableOptionRowFormat, ast.TableOptionKeyBlockSize:
			return l.rebuild(st, "changing the engine, row format or key block size rebuilds the table")
		case ast.TableOptionCharset, ast.TableOptionCollate:
			if o.UintValue == ast.TableOptionCharsetWithConvertTo {
				return l.copyTable(st, "mysql-charset-change", lint.ClassRewrite, "CONVERT TO CHARACTER SET rewrites every text column with ALGORITHM=COPY: writes are blocked until the copy ends")
			}
			v.instant = false
		case ast.TableOptionAutoIncrement, ast.TableOptionComment:
		default:
			v.instant = false
		}
	}
	return v
}

// algorithmRules checks the ALGORITHM and LOCK clauses against what the
// parts of the ALTER need.
func (l *linter) algorithmRules(st *alterState) {
	canInplace := st.work != lint.WorkCopy
	switch {
	case st.algo == ast.AlgorithmTypeCopy:
		l.finding(lint.Finding{Rule: "mysql-algorithm-copy", Severity: lint.Warning, Class: lint.ClassRewrite, Table: st.table, SizeDependent: true,
			Message: "ALGORITHM=COPY copies the table row by row and blocks writes until it ends",
			Effect:  lint.Effect{Lock: "shared metadata lock: reads only", Duration: "until the copy ends", Work: lint.WorkCopy}})
		if !canInplace {
			st.unfixable = true
		}
		st.hazards++
		st.changedSpec = true
	case st.algo == ast.AlgorithmTypeInstant && !st.instant, st.algo == ast.AlgorithmTypeInplace && !canInplace:
		l.finding(lint.Finding{Rule: "mysql-algorithm-unsupported", Severity: lint.Error, Class: lint.ClassFailure, Table: st.table,
			Message: fmt.Sprintf("ALGORITHM=%s is not supported for this change on %s: the statement fails", st.algo, l.target)})
		st.hazards++
		st.changedSpec = true
		if !canInplace {
			st.unfixable = true
		}
	case st.lock == ast.LockTypeNone && (st.blocks || !canInplace):
		l.finding(lint.Finding{Rule: "mysql-algorithm-unsupported", Severity: lint.Error, Class: lint.ClassFailure, Table: st.table,
			Message: "LOCK=NONE is not supported for this change: the statement fails"})
		st.hazards++
		st.unfixable = true
	case st.lock == ast.LockTypeShared || st.lock == ast.LockTypeExclusive:
		l.finding(lint.Finding{Rule: "mysql-lock-blocks-writes", Severity: lint.Warning, Class: lint.ClassBlocking, Table: st.table, SizeDependent: true,
			Message: fmt.Sprintf("LOCK=%s blocks writes to %s for the whole operation", st.lock, st.table),
			Effect:  lint.Effect{Lock: st.lock.String(), Duration: "until the ALTER ends", Work: st.work}})
		st.hazards++
		st.changedSpec = true
		if st.blocks || !canInplace {
			st.unfixable = true
		}
	case st.algo == ast.AlgorithmTypeDefault && st.hazards == 0 && !l.hazardHere():
		l.finding(lint.Finding{Rule: "mysql-prefer-explicit-algorithm", Severity: lint.Info, Class: lint.ClassNone, Table: st.table,
			Message: "state the algorithm (ALGORITHM=INSTANT, or ALGORITHM=INPLACE, LOCK=NONE) so the server refuses the change instead of silently falling back to a blocking one",
			Rewrite: l.withAlgorithm(st)})
	}
}

// withAlgorithm restores the ALTER with the best algorithm the change
// allows and the fixed parts.
func (l *linter) withAlgorithm(st *alterState) string {
	var specs []*ast.AlterTableSpec
	for _, sp := range st.stmt.Specs {
		if sp.Tp != ast.AlterTableAlgorithm && sp.Tp != ast.AlterTableLock {
			specs = append(specs, sp)
		}
	}
	if st.instant {
		specs = append(specs, &ast.AlterTableSpec{Tp: ast.AlterTableAlgorithm, Algorithm: ast.AlgorithmTypeInstant})
	} else {
		specs = append(specs, &ast.AlterTableSpec{Tp: ast.AlterTableAlgorithm, Algorithm: ast.AlgorithmTypeInplace})
		if !st.blocks {
			specs = append(specs, &ast.AlterTableSpec{Tp: ast.AlterTableLock, LockType: ast.LockTypeNone})
		}
	}
	saved := st.stmt.Specs
	st.stmt.Specs = specs
	out := terminate(restore(st.stmt))
	st.stmt.Specs = saved
	return out
}

// alterRewrite gives every hazard of the ALTER one rewrite: the fixed
// statement when every unsafe part has a safe form, else an online schema
// change.
func (l *linter) alterRewrite(st *alterState, first int) {
	var rewrite string
	switch {
	case st.hazards == 0 && st.ack == "":
		return
	case st.hazards == 0:
		rewrite = acknowledge(st.ack, l.sql())
	case st.unfixable || !st.changedSpec:
		rewrite = ghost(st.stmt.Table.Name.O, alterSpecs(st.stmt))
	default:
		parts := append(append(append([]string{}, st.before...), l.withAlgorithm(st)), st.after...)
		rewrite = strings.Join(parts, "\n")
		if st.ack != "" {
			rewrite = acknowledge(st.ack, rewrite)
		}
	}
	for i := first; i < len(l.findings); i++ {
		if l.findings[i].Rewrite == "" && l.findings[i].Severity.Hazard() {
			l.findings[i].Rewrite = rewrite
		}
	}
}

// alterSpecs is the ALTER's change list without the table name, for an
// online schema change tool.
func alterSpecs(s *ast.AlterTableStmt) string {
	saved := s.Specs
	s.Specs = nil
	for _, sp := range saved {
		if sp.Tp != ast.AlterTableAlgorithm && sp.Tp != ast.AlterTableLock {
			s.Specs = append(s.Specs, sp)
		}
	}
	full := restore(s)
	s.Specs = saved
	prefix := "ALTER TABLE " + restore(s.Table) + " "
	return strings.TrimPrefix(full, prefix)
}

// hazardHere reports whether the current statement has a hazard already.
func (l *linter) hazardHere() bool {
	for _, f := range l.findings {
		if f.Statement == l.cur+1 && f.Severity.Hazard() {
			return true
		}
	}
	return false
}
