package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	pgquery "github.com/pganalyze/pg_query_go/v6"
)

// Undoing a partially applied step.
//
// A forward step that cannot run in one transaction may stop half way: its
// completed statements are in hotswap.step_progress, the others never ran
// (a failed CREATE INDEX CONCURRENTLY leaves no index: its invalid index is
// dropped at once). Its rollback must undo what was applied, not more: a
// down script written for the whole step would fail on its first DROP of
// an object that was never created, and leave the rest in place.
//
// So a rollback step that names the forward step it reverts (Reverts) is
// trimmed before it runs: the objects each forward statement creates are
// read from its parse tree (tables, indexes, views, sequences, types,
// columns, constraints), and a down statement whose every removed object
// is created only by forward statements that never completed is skipped,
// with an event saying so. Every other statement runs as written. A
// forward step found in the history (it completed) is undone by the whole
// down script; a transactional forward step that failed applied nothing.
// After the rollback the catalog is checked: an object created by a
// completed forward statement that still exists is reported.

// objectKey names an object a statement creates or removes: its kind and
// bare name ("index:t_nick2", "column:t.nick2").
type objectKey string

// undoScope is what the forward step applied.
type undoScope struct {
	// never holds the objects created only by statements that never ran.
	never map[objectKey]int // the forward statement's index
	// applied holds the objects created by completed statements.
	applied map[objectKey]bool
}

// trimUndo returns the plan of the rollback with the statements for
// never-created objects left out. Without Reverts, or when the forward
// step completed, p is returned as it is.
func (r *stepRun) trimUndo(ctx context.Context, p scriptPlan) (scriptPlan, *undoScope, error) {
	if r.req.Reverts == nil || r.req.DryRun {
		return p, nil, nil
	}
	scope, err := r.undoScope(ctx)
	if err != nil || scope == nil || len(scope.never) == 0 {
		return p, scope, err
	}
	var kept []statement
	for _, s := range p.stmts {
		if idx, skip := scope.skips(s); skip {
			r.emit(levelInfo, fmt.Sprintf("skipping rollback statement %d: statement %d of the forward script, which creates what it removes, never completed",
				s.index+1, idx+1), s.sql)
			continue
		}
		kept = append(kept, s)
	}
	if len(kept) == len(p.stmts) {
		return p, scope, nil
	}
	return replan(kept), scope, nil
}

// undoScope reads which forward statements completed.
func (r *stepRun) undoScope(ctx context.Context) (*undoScope, error) {
	fwd, err := planScript(r.req.Reverts.Script)
	if err != nil {
		r.emit(levelWarn, "the forward script does not parse: the rollback script runs whole", "")
		return nil, nil
	}
	h, err := readStepHistory(ctx, r.conn, r.req.ExecutionID, r.req.Reverts.StepID)
	if err != nil {
		return nil, err
	}
	done := map[int]bool{}
	switch {
	case h.applied:
		for _, s := range fwd.stmts {
			done[s.index] = true
		}
	case !fwd.transactional:
		if done, err = loadProgress(ctx, r.conn, r.req.ExecutionID, r.req.Reverts.StepID); err != nil {
			return nil, err
		}
	}
	scope := &undoScope{never: map[objectKey]int{}, applied: map[objectKey]bool{}}
	for _, s := range fwd.stmts {
		for _, k := range createdObjects(s.sql) {
			if done[s.index] {
				scope.applied[k] = true
			} else if _, seen := scope.never[k]; !seen {
				scope.never[k] = s.index
			}
		}
	}
	for k := range scope.applied {
		delete(scope.never, k)
	}
	return scope, nil
}

// skips reports whether every object s removes was never created, and the
// forward statement that would have created the first of them.
func (u *undoScope) skips(s statement) (int, bool) {
	removed := removedObjects(s.sql)
	if len(removed) == 0 {
		return 0, false
	}
	for _, k := range removed {
		if _, never := u.never[k]; !never {
			return 0, false
		}
	}
	return u.never[removed[0]], true
}

// replan plans kept statements as a script of their own, numbered afresh
// (so a re-delivered rollback, trimmed the same way, resumes correctly).
func replan(kept []statement) scriptPlan {
	var p scriptPlan
	for i, s := range kept {
		s.index = i
		p.stmts = append(p.stmts, s)
	}
	p.transactional, p.reason = transactional(p.stmts)
	p.units = groupUnits(p.stmts)
	return p
}

// createdObjects lists the objects a statement creates.
func createdObjects(sql string) []objectKey {
	var out []objectKey
	forEachNode(sql, func(n *pgquery.Node) {
		switch {
		case n.GetIndexStmt() != nil && n.GetIndexStmt().GetIdxname() != "":
			out = append(out, key("index", n.GetIndexStmt().GetIdxname()))
		case n.GetCreateStmt() != nil:
			out = append(out, key("table", n.GetCreateStmt().GetRelation().GetRelname()))
		case n.GetViewStmt() != nil:
			out = append(out, key("view", n.GetViewStmt().GetView().GetRelname()))
		case n.GetCreateSeqStmt() != nil:
			out = append(out, key("sequence", n.GetCreateSeqStmt().GetSequence().GetRelname()))
		case n.GetCreateEnumStmt() != nil:
			out = append(out, key("type", lastName(n.GetCreateEnumStmt().GetTypeName())))
		case n.GetAlterTableStmt() != nil:
			out = append(out, alterObjects(n.GetAlterTableStmt(), true)...)
		}
	})
	return out
}

// removedObjects lists the objects a statement drops.
func removedObjects(sql string) []objectKey {
	var out []objectKey
	forEachNode(sql, func(n *pgquery.Node) {
		switch {
		case n.GetDropStmt() != nil:
			kind := dropKinds[n.GetDropStmt().GetRemoveType()]
			for _, o := range n.GetDropStmt().GetObjects() {
				if name := lastName(o.GetList().GetItems()); kind != "" && name != "" {
					out = append(out, key(kind, name))
				}
			}
		case n.GetAlterTableStmt() != nil:
			out = append(out, alterObjects(n.GetAlterTableStmt(), false)...)
		}
	})
	return out
}

// dropKinds maps a DROP's object type to the kinds createdObjects uses.
var dropKinds = map[pgquery.ObjectType]string{
	pgquery.ObjectType_OBJECT_TABLE: "table", pgquery.ObjectType_OBJECT_INDEX: "index",
	pgquery.ObjectType_OBJECT_VIEW: "view", pgquery.ObjectType_OBJECT_SEQUENCE: "sequence",
	pgquery.ObjectType_OBJECT_TYPE: "type",
}

// alterObjects lists the columns and constraints an ALTER TABLE adds
// (adding) or drops. A command of another kind makes the list empty: such
// a statement is never skipped.
func alterObjects(a *pgquery.AlterTableStmt, adding bool) []objectKey {
	table := a.GetRelation().GetRelname()
	var out []objectKey
	for _, c := range a.GetCmds() {
		cmd := c.GetAlterTableCmd()
		switch t := cmd.GetSubtype(); {
		case adding && t == pgquery.AlterTableType_AT_AddColumn:
			out = append(out, key("column", table+"."+cmd.GetDef().GetColumnDef().GetColname()))
		case adding && t == pgquery.AlterTableType_AT_AddConstraint && cmd.GetDef().GetConstraint().GetConname() != "":
			out = append(out, key("constraint", table+"."+cmd.GetDef().GetConstraint().GetConname()))
		case !adding && t == pgquery.AlterTableType_AT_DropColumn:
			out = append(out, key("column", table+"."+cmd.GetName()))
		case !adding && t == pgquery.AlterTableType_AT_DropConstraint:
			out = append(out, key("constraint", table+"."+cmd.GetName()))
		case !adding:
			return nil
		}
	}
	return out
}

// forEachNode calls f on each statement of sql's parse tree; a statement
// that does not parse has none.
func forEachNode(sql string, f func(*pgquery.Node)) {
	tree, err := pgquery.Parse(sql)
	if err != nil {
		return
	}
	for _, raw := range tree.GetStmts() {
		f(raw.GetStmt())
	}
}

// lastName is the bare name of a qualified name's items.
func lastName(items []*pgquery.Node) string {
	if len(items) == 0 {
		return ""
	}
	return items[len(items)-1].GetString_().GetSval()
}

// key builds an objectKey.
func key(kind, name string) objectKey { return objectKey(kind + ":" + strings.ToLower(name)) }

// undoneSQL reports whether an object a forward statement created still
// exists: $1 is its kind, $2 its name, $3 the table of a column or
// constraint.
const undoneSQL = `SELECT CASE $1
	WHEN 'column' THEN EXISTS (SELECT 1 FROM pg_attribute
		WHERE attrelid = to_regclass(quote_ident($3)) AND attname = $2 AND NOT attisdropped)
	WHEN 'constraint' THEN EXISTS (SELECT 1 FROM pg_constraint
		WHERE conrelid = to_regclass(quote_ident($3)) AND conname = $2)
	WHEN 'type' THEN to_regtype(quote_ident($2)) IS NOT NULL
	ELSE to_regclass(quote_ident($2)) IS NOT NULL END`

// checkUndone checks the catalog after a rollback: each object a completed
// forward statement created should be gone. One still there is reported
// (the down script does not undo it), with the object's name.
func (r *stepRun) checkUndone(ctx context.Context, scope *undoScope) {
	var left []string
	for k := range scope.applied {
		kind, name, _ := strings.Cut(string(k), ":")
		table := ""
		if kind == "column" || kind == "constraint" {
			table, name, _ = strings.Cut(name, ".")
		}
		var exists bool
		if err := r.conn.QueryRow(ctx, undoneSQL, kind, name, table).Scan(&exists); err != nil {
			r.emit(levelWarn, "could not check the catalog after the rollback: "+r.scrubText(err.Error()), "")
			return
		}
		if exists {
			left = append(left, kind+" "+strings.TrimPrefix(table+"."+name, "."))
		}
	}
	if len(left) == 0 {
		r.emit(levelInfo, "catalog checked: what the forward step created is gone", "")
		return
	}
	slices.Sort(left)
	r.emit(levelWarn, "catalog checked: the rollback left "+strings.Join(left, ", ")+
		" that the forward step created (the rollback script does not undo it)", "")
}
