package replay

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	pgquery "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// Binding says where a normalised statement's parameters can take real
// values from: each $n is compared with a column of Table in a simple
// predicate (col = $n, col < $n, ...), so a value sampled from that column
// makes the statement replayable as the application ran it.
type Binding struct {
	Schema, Table string
	// Columns maps each parameter number to its column.
	Columns map[int]string
}

// Bind finds stmt's Binding; ok is false when the statement reads other
// than one table or a parameter is used other than against a column (LIMIT
// $1, $1 + 1, a function's argument): it cannot be bound by sampling.
func Bind(stmt string) (Binding, bool) {
	tree, err := pgquery.Parse(stmt)
	if err != nil {
		return Binding{}, false
	}
	b := Binding{Columns: map[int]string{}}
	tables, params, paired := 0, 0, 0
	inspect(tree, func(m proto.Message) bool {
		switch n := m.(type) {
		case *pgquery.RangeVar:
			tables++
			b.Schema, b.Table = n.GetSchemaname(), n.GetRelname()
		case *pgquery.ParamRef:
			params++
		case *pgquery.A_Expr:
			if num, col, ok := paramAgainstColumn(n); ok {
				b.Columns[num] = col
				paired++
			}
		}
		return true
	})
	return b, tables == 1 && params > 0 && paired == params
}

// paramAgainstColumn matches "col OP $n" or "$n OP col".
func paramAgainstColumn(e *pgquery.A_Expr) (int, string, bool) {
	if e.GetKind() != pgquery.A_Expr_Kind_AEXPR_OP {
		return 0, "", false
	}
	l, r := e.GetLexpr(), e.GetRexpr()
	if p := r.GetParamRef(); p != nil && l.GetColumnRef() != nil {
		return columnOf(l.GetColumnRef(), int(p.GetNumber()))
	}
	if p := l.GetParamRef(); p != nil && r.GetColumnRef() != nil {
		return columnOf(r.GetColumnRef(), int(p.GetNumber()))
	}
	return 0, "", false
}

func columnOf(c *pgquery.ColumnRef, num int) (int, string, bool) {
	f := c.GetFields()
	if len(f) == 0 || f[len(f)-1].GetString_() == nil {
		return 0, "", false
	}
	return num, f[len(f)-1].GetString_().GetSval(), true
}

var paramToken = regexp.MustCompile(`\$([0-9]+)`)

// Substitute replaces each $n of stmt with values[n] as a quoted literal
// (PostgreSQL casts an untyped literal to the column's type); a missing
// value is an error.
func Substitute(stmt string, values map[int]string) (string, error) {
	var missing []int
	out := paramToken.ReplaceAllStringFunc(stmt, func(tok string) string {
		n, _ := strconv.Atoi(tok[1:])
		v, ok := values[n]
		if !ok {
			missing = append(missing, n)
			return tok
		}
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	})
	if len(missing) > 0 {
		sort.Ints(missing)
		return "", fmt.Errorf("no value for parameter(s) %v", missing)
	}
	return out, nil
}

// SortedColumns lists the binding's parameter numbers in order and their
// columns, for one sampling query.
func (b Binding) SortedColumns() ([]int, []string) {
	nums := make([]int, 0, len(b.Columns))
	for n := range b.Columns {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	cols := make([]string, len(nums))
	for i, n := range nums {
		cols[i] = b.Columns[n]
	}
	return nums, cols
}
