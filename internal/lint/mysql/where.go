package mysql

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
)

// bounded reports whether a WHERE clause picks rows by key (= or IN on
// constants) or bounds one range (BETWEEN, or both a lower and an upper
// bound on one column).
func bounded(where ast.ExprNode) bool {
	if where == nil {
		return false
	}
	lower, upper := map[string]bool{}, map[string]bool{}
	for _, c := range conjuncts(where) {
		switch e := c.(type) {
		case *ast.BetweenExpr:
			if !e.Not {
				return true
			}
		case *ast.PatternInExpr:
			if _, ok := e.Expr.(*ast.ColumnNameExpr); ok && !e.Not && e.Sel == nil && allConst(e.List) {
				return true
			}
		case *ast.BinaryOperationExpr:
			col, op, ok := columnOp(e)
			if !ok {
				continue
			}
			switch op {
			case opcode.EQ:
				return true
			case opcode.GT, opcode.GE:
				lower[col] = true
			case opcode.LT, opcode.LE:
				upper[col] = true
			}
			if lower[col] && upper[col] {
				return true
			}
		}
	}
	return false
}

// columnOp reads "col op constant" (either way round).
func columnOp(e *ast.BinaryOperationExpr) (string, opcode.Op, bool) {
	if c, ok := e.L.(*ast.ColumnNameExpr); ok && isConst(e.R) {
		return c.Name.Name.L, e.Op, true
	}
	if c, ok := e.R.(*ast.ColumnNameExpr); ok && isConst(e.L) {
		flip := map[opcode.Op]opcode.Op{opcode.GT: opcode.LT, opcode.GE: opcode.LE, opcode.LT: opcode.GT, opcode.LE: opcode.GE, opcode.EQ: opcode.EQ}
		return c.Name.Name.L, flip[e.Op], true
	}
	return "", 0, false
}

func conjuncts(e ast.ExprNode) []ast.ExprNode {
	if p, ok := e.(*ast.ParenthesesExpr); ok {
		return conjuncts(p.Expr)
	}
	if b, ok := e.(*ast.BinaryOperationExpr); ok && b.Op == opcode.LogicAnd {
		return append(conjuncts(b.L), conjuncts(b.R)...)
	}
	return []ast.ExprNode{e}
}

func isConst(e ast.ExprNode) bool {
	switch v := e.(type) {
	case ast.ValueExpr, ast.ParamMarkerExpr:
		return true
	case *ast.UnaryOperationExpr:
		return isConst(v.V)
	}
	return false
}

func allConst(list []ast.ExprNode) bool {
	for _, e := range list {
		if !isConst(e) {
			return false
		}
	}
	return len(list) > 0
}

// guard is "NOT (a <=> x) OR NOT (b <=> y)": the rows that do not yet hold
// the new values.
func guard(list []*ast.Assignment) ast.ExprNode {
	var out ast.ExprNode
	for _, a := range list {
		ne := &ast.UnaryOperationExpr{Op: opcode.Not, V: &ast.ParenthesesExpr{Expr: &ast.BinaryOperationExpr{Op: opcode.NullEQ, L: &ast.ColumnNameExpr{Name: a.Column}, R: a.Expr}}}
		if out == nil {
			out = ne
			continue
		}
		out = &ast.BinaryOperationExpr{Op: opcode.LogicOr, L: out, R: ne}
	}
	return out
}

func andExpr(a, b ast.ExprNode) ast.ExprNode {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return &ast.BinaryOperationExpr{Op: opcode.LogicAnd, L: &ast.ParenthesesExpr{Expr: a}, R: &ast.ParenthesesExpr{Expr: b}}
}
