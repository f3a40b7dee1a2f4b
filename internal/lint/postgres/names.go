package postgres

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// key is the script-wide identity of a relation: "schema.name", with the
// default schema left out.
func key(rv *pg.RangeVar) string {
	if rv == nil {
		return ""
	}
	if rv.Schemaname == "" || rv.Schemaname == "public" {
		return rv.Relname
	}
	return rv.Schemaname + "." + rv.Relname
}

// qname is a relation's name as SQL, quoted where needed.
func qname(rv *pg.RangeVar) string {
	if rv.Schemaname == "" {
		return quoteIdent(rv.Relname)
	}
	return quoteIdent(rv.Schemaname) + "." + quoteIdent(rv.Relname)
}

// literal quotes s as a string constant.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// simpleIdent reports whether s has the shape of an identifier that needs
// no quotes (keywords aside).
func simpleIdent(s string) bool {
	for i, r := range s {
		lower := r == '_' || (r >= 'a' && r <= 'z')
		if !lower && (i == 0 || !(r == '$' || (r >= '0' && r <= '9'))) {
			return false
		}
	}
	return s != ""
}

// quoteIdent quotes an identifier unless it is a plain lower-case name that
// the scanner does not read as a reserved keyword.
func quoteIdent(s string) string {
	if simpleIdent(s) {
		if res, err := pg.Scan(s); err == nil && len(res.Tokens) == 1 {
			switch res.Tokens[0].KeywordKind {
			case pg.KeywordKind_NO_KEYWORD, pg.KeywordKind_UNRESERVED_KEYWORD:
				return s
			}
		}
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// deparse prints one statement node as SQL.
func deparse(stmt *pg.Node) string {
	out, err := pg.Deparse(&pg.ParseResult{Stmts: []*pg.RawStmt{{Stmt: stmt}}})
	if err != nil {
		return ""
	}
	return out
}

// exprSQL prints an expression.
func exprSQL(e *pg.Node) string {
	sel := &pg.SelectStmt{TargetList: []*pg.Node{{Node: &pg.Node_ResTarget{ResTarget: &pg.ResTarget{Val: e}}}}}
	out := deparse(&pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: sel}})
	return strings.TrimPrefix(out, "SELECT ")
}

// walk calls fn on every message under m, depth first.
func walk(m proto.Message, fn func(protoreflect.Message)) {
	if m == nil {
		return
	}
	var visit func(protoreflect.Message)
	visit = func(r protoreflect.Message) {
		if !r.IsValid() {
			return
		}
		fn(r)
		r.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				list := v.List()
				for i := 0; i < list.Len(); i++ {
					visit(list.Get(i).Message())
				}
			case fd.Message() != nil && !fd.IsMap():
				visit(v.Message())
			}
			return true
		})
	}
	visit(m.ProtoReflect())
}

// funcNames lists the (unqualified, lower-case) names of the functions
// called anywhere under n.
func funcNames(n proto.Message) []string {
	var names []string
	walk(n, func(r protoreflect.Message) {
		if fc, ok := r.Interface().(*pg.FuncCall); ok {
			names = append(names, funcName(fc))
		}
	})
	return names
}

func funcName(fc *pg.FuncCall) string {
	if len(fc.Funcname) == 0 {
		return ""
	}
	return strings.ToLower(fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval())
}

// callsSetval reports whether a statement resets a sequence: setval(), or
// ALTER SEQUENCE / ALTER COLUMN ... RESTART.
func callsSetval(n *pg.Node) bool {
	for _, f := range funcNames(n) {
		if f == "setval" {
			return true
		}
	}
	found := false
	walk(n, func(r protoreflect.Message) {
		if d, ok := r.Interface().(*pg.DefElem); ok && d.Defname == "restart" {
			found = true
		}
	})
	return found
}

// strings lists the string constants under n.
func stringConsts(n proto.Message) []string {
	var out []string
	walk(n, func(r protoreflect.Message) {
		if c, ok := r.Interface().(*pg.A_Const); ok {
			if s, ok := c.Val.(*pg.A_Const_Sval); ok {
				out = append(out, s.Sval.Sval)
			}
		}
	})
	return out
}

// typeName is a type's last name part, lower case: "int4", "varchar".
func typeName(t *pg.TypeName) string {
	if t == nil || len(t.Names) == 0 {
		return ""
	}
	return strings.ToLower(t.Names[len(t.Names)-1].GetString_().GetSval())
}

// typeSQL prints a type as SQL.
func typeSQL(t *pg.TypeName) string {
	cast := &pg.Node{Node: &pg.Node_TypeCast{TypeCast: &pg.TypeCast{
		Arg:      &pg.Node{Node: &pg.Node_AConst{AConst: &pg.A_Const{Isnull: true}}},
		TypeName: t,
	}}}
	out := exprSQL(cast)
	if inner, ok := strings.CutPrefix(out, "CAST(NULL AS "); ok {
		return strings.TrimSuffix(inner, ")")
	}
	return strings.TrimPrefix(out, "NULL::")
}
