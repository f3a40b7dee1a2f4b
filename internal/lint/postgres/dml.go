package postgres

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// delete: without WHERE it empties the table; with a WHERE that is neither
// a key lookup nor a bounded batch it locks and rewrites an unknown number
// of rows in one transaction.
func (l *linter) delete(s *pg.DeleteStmt) impact {
	if l.isNew(s.Relation) || bounded(s.WhereClause) {
		l.classify(lint.ClassAdditive)
		return impact{}
	}
	t := key(s.Relation)
	rewrite := fmt.Sprintf("-- delete in batches; repeat until it deletes no row\nDELETE FROM %s WHERE ctid = ANY (ARRAY(%s));",
		qname(s.Relation), batchSelect(s.Relation, s.UsingClause, s.WhereClause))
	if s.WhereClause == nil {
		l.classify(lint.ClassDataLoss)
		l.finding(lint.Finding{Rule: "delete-without-where", Severity: lint.Error, Class: lint.ClassDataLoss,
			Message: fmt.Sprintf("DELETE without WHERE removes every row of %s in one transaction", t),
			Effect:  lint.Effect{Lock: "ROW EXCLUSIVE and a lock on every row", Duration: "until the transaction commits", Work: lint.WorkDelete},
			Table:   t, Rewrite: rewrite})
		return impact{long: true}
	}
	l.unbatched("DELETE", t, rewrite)
	return impact{long: true}
}

// update: the same rules as delete, and the batched form also skips rows
// that already hold the new values so it terminates.
func (l *linter) update(s *pg.UpdateStmt) impact {
	if l.isNew(s.Relation) || bounded(s.WhereClause) {
		l.classify(lint.ClassAdditive)
		return impact{}
	}
	t := key(s.Relation)
	rewrite := "-- update in batches; repeat until it updates no row\n" + batchedUpdate(s)
	if s.WhereClause == nil {
		l.classify(lint.ClassDML)
		l.finding(lint.Finding{Rule: "update-without-where", Severity: lint.Warning, Class: lint.ClassDML,
			Message: fmt.Sprintf("UPDATE without WHERE rewrites every row of %s in one transaction, holding a lock on each until it commits", t),
			Effect:  lint.Effect{Lock: "ROW EXCLUSIVE and a lock on every row", Duration: "until the transaction commits", Work: lint.WorkDML},
			Table:   t, SizeDependent: true, Rewrite: rewrite})
		return impact{long: true}
	}
	l.unbatched("UPDATE", t, rewrite)
	return impact{long: true}
}

func (l *linter) unbatched(verb, t, rewrite string) {
	l.classify(lint.ClassDML)
	l.finding(lint.Finding{Rule: "unbatched-dml", Severity: lint.Warning, Class: lint.ClassDML,
		Message: fmt.Sprintf("%s of %s is not batched: its WHERE neither picks rows by key nor bounds a batch, so one transaction may lock and rewrite most of the table", verb, t),
		Effect:  lint.Effect{Lock: "ROW EXCLUSIVE and a lock on every matching row", Duration: "until the transaction commits", Work: lint.WorkDML},
		Table:   t, SizeDependent: true, Rewrite: rewrite})
}

// batchSelect selects the ctids of one batch of the rows a statement
// targets.
func batchSelect(rel *pg.RangeVar, from []*pg.Node, where *pg.Node) string {
	ref := rel.Relname
	if rel.Alias != nil {
		ref = rel.Alias.Aliasname
	}
	ctid := &pg.Node{Node: &pg.Node_ColumnRef{ColumnRef: &pg.ColumnRef{Fields: []*pg.Node{pg.MakeStrNode(ref), pg.MakeStrNode("ctid")}}}}
	sel := &pg.SelectStmt{
		TargetList:  []*pg.Node{{Node: &pg.Node_ResTarget{ResTarget: &pg.ResTarget{Val: ctid}}}},
		FromClause:  append([]*pg.Node{{Node: &pg.Node_RangeVar{RangeVar: rel}}}, from...),
		WhereClause: where,
		LimitCount:  pg.MakeAConstIntNode(batchSize, -1),
		LimitOption: pg.LimitOption_LIMIT_OPTION_COUNT,
	}
	return deparse(&pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: sel}})
}

// batchedUpdate keeps the SET list and targets one batch of ctids of the
// rows that match and do not yet hold the new values.
func batchedUpdate(s *pg.UpdateStmt) string {
	guard := distinctGuard(s.TargetList)
	where := s.WhereClause
	if guard != nil {
		where = and(where, guard)
	}
	head := proto.Clone(s).(*pg.UpdateStmt)
	head.WhereClause, head.ReturningList, head.FromClause = nil, nil, nil
	ref := s.Relation.Relname
	if s.Relation.Alias != nil {
		ref = s.Relation.Alias.Aliasname
	}
	sql := deparse(&pg.Node{Node: &pg.Node_UpdateStmt{UpdateStmt: head}})
	cond := fmt.Sprintf("%s.ctid = ANY (ARRAY(%s))", quoteIdent(ref), batchSelect(s.Relation, s.FromClause, where))
	if len(s.FromClause) > 0 {
		withFrom := proto.Clone(s).(*pg.UpdateStmt)
		withFrom.WhereClause, withFrom.ReturningList = nil, nil
		sql = deparse(&pg.Node{Node: &pg.Node_UpdateStmt{UpdateStmt: withFrom}})
		cond = "(" + exprSQL(s.WhereClause) + ") AND " + cond
	}
	return sql + " WHERE " + cond + ";"
}

// distinctGuard is "(a, b) IS DISTINCT FROM (x, y)" for a SET list.
func distinctGuard(targets []*pg.Node) *pg.Node {
	var cols, vals []*pg.Node
	for _, t := range targets {
		rt := t.GetResTarget()
		if rt == nil || rt.Val.GetMultiAssignRef() != nil || len(rt.Indirection) > 0 || rt.Val.GetSetToDefault() != nil {
			return nil
		}
		cols = append(cols, &pg.Node{Node: &pg.Node_ColumnRef{ColumnRef: &pg.ColumnRef{Fields: []*pg.Node{pg.MakeStrNode(rt.Name)}}}})
		vals = append(vals, rt.Val)
	}
	if len(cols) == 0 {
		return nil
	}
	l, r := cols[0], vals[0]
	if len(cols) > 1 {
		l = &pg.Node{Node: &pg.Node_RowExpr{RowExpr: &pg.RowExpr{Args: cols, RowFormat: pg.CoercionForm_COERCE_IMPLICIT_CAST}}}
		r = &pg.Node{Node: &pg.Node_RowExpr{RowExpr: &pg.RowExpr{Args: vals, RowFormat: pg.CoercionForm_COERCE_IMPLICIT_CAST}}}
	}
	return &pg.Node{Node: &pg.Node_AExpr{AExpr: &pg.A_Expr{Kind: pg.A_Expr_Kind_AEXPR_DISTINCT, Name: []*pg.Node{pg.MakeStrNode("=")}, Lexpr: l, Rexpr: r}}}
}

func and(a, b *pg.Node) *pg.Node {
	if a == nil {
		return b
	}
	return &pg.Node{Node: &pg.Node_BoolExpr{BoolExpr: &pg.BoolExpr{Boolop: pg.BoolExprType_AND_EXPR, Args: []*pg.Node{a, b}}}}
}

// bounded reports whether a WHERE clause picks rows by key (equality or IN
// on constants) or bounds one batch (a two-sided range, BETWEEN, or a
// subquery with LIMIT).
func bounded(where *pg.Node) bool {
	if where == nil {
		return false
	}
	lower, upper := map[string]bool{}, map[string]bool{}
	for _, c := range conjuncts(where) {
		if limitedSubquery(c) {
			return true
		}
		e := c.GetAExpr()
		if e == nil {
			continue
		}
		col := lastField(e.Lexpr.GetColumnRef())
		switch e.Kind {
		case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_BETWEEN_SYM:
			return true
		case pg.A_Expr_Kind_AEXPR_IN:
			if col != "" && constant(e.Rexpr) {
				return true
			}
		case pg.A_Expr_Kind_AEXPR_OP, pg.A_Expr_Kind_AEXPR_OP_ANY:
			op := opName(e)
			if col == "" {
				col = lastField(e.Rexpr.GetColumnRef())
				op = flip(op)
				if col == "" || !constant(e.Lexpr) {
					continue
				}
			} else if !constant(e.Rexpr) {
				continue
			}
			switch op {
			case "=":
				return true
			case ">", ">=":
				lower[col] = true
			case "<", "<=":
				upper[col] = true
			}
			if lower[col] && upper[col] {
				return true
			}
		}
	}
	return false
}

func conjuncts(n *pg.Node) []*pg.Node {
	if b := n.GetBoolExpr(); b != nil && b.Boolop == pg.BoolExprType_AND_EXPR {
		var out []*pg.Node
		for _, a := range b.Args {
			out = append(out, conjuncts(a)...)
		}
		return out
	}
	return []*pg.Node{n}
}

// limitedSubquery reports whether n compares against a subquery (IN,
// = ANY (ARRAY(...)), EXISTS) that has a LIMIT.
func limitedSubquery(n *pg.Node) bool {
	if sl := n.GetSubLink(); sl != nil {
		return sl.Subselect.GetSelectStmt().GetLimitCount() != nil
	}
	if e := n.GetAExpr(); e != nil && e.Rexpr != nil {
		if sl := e.Rexpr.GetSubLink(); sl != nil {
			return sl.Subselect.GetSelectStmt().GetLimitCount() != nil
		}
	}
	return false
}

func opName(e *pg.A_Expr) string {
	if len(e.Name) == 0 {
		return ""
	}
	return e.Name[len(e.Name)-1].GetString_().GetSval()
}

func flip(op string) string {
	return map[string]string{">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "="}[op]
}

// constant reports whether n is a constant, a parameter, a cast of one, or
// a list or array of them.
func constant(n *pg.Node) bool {
	switch v := n.GetNode().(type) {
	case *pg.Node_AConst, *pg.Node_ParamRef:
		return true
	case *pg.Node_TypeCast:
		return constant(v.TypeCast.Arg)
	case *pg.Node_List:
		return allConst(v.List.Items)
	case *pg.Node_AArrayExpr:
		return allConst(v.AArrayExpr.Elements)
	}
	return false
}

func allConst(items []*pg.Node) bool {
	for _, i := range items {
		if !constant(i) {
			return false
		}
	}
	return len(items) > 0
}

// finish applies the rules that need the whole script.
func (l *linter) finish() {
	for _, id := range l.identities {
		if l.resetAfter(id.stmt) {
			continue
		}
		l.cur = id.stmt
		l.classify(lint.ClassFailure)
		t, c := id.table, id.column
		l.finding(lint.Finding{Rule: "identity-without-setval", Severity: lint.Error, Class: lint.ClassFailure, Table: t,
			Message: fmt.Sprintf("the identity on %s.%s starts at 1: inserts collide with the existing ids until its sequence is set past max(%s)", t, c, c),
			Rewrite: id.sql + "\n" + fmt.Sprintf("SELECT setval(pg_get_serial_sequence(%s, %s), coalesce(max(%s), 0) + 1, false) FROM %s;",
				literal(t), literal(c), quoteIdent(c), strings.Join(quoteParts(t), "."))})
	}
}

// resetAfter reports whether a statement after index i resets a sequence.
func (l *linter) resetAfter(i int) bool {
	for _, n := range l.resets {
		if n > i {
			return true
		}
	}
	return false
}

func quoteParts(name string) []string {
	schema, rel := lint.SplitName(name)
	if schema == "" {
		return []string{quoteIdent(rel)}
	}
	return []string{quoteIdent(schema), quoteIdent(rel)}
}
