package replay

import (
	"errors"
	"fmt"
	"strings"

	pgquery "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// ErrNotReadOnly marks a statement the replay refuses because it could
// write, lock rows or have another side effect.
var ErrNotReadOnly = errors.New("not a read-only statement")

// CheckReadOnly returns nil when stmt is exactly one statement the replay
// may run: a SELECT (WITH ... SELECT and VALUES included) without FOR
// UPDATE/SHARE, SELECT INTO, data-modifying WITH or a call to a known
// side-effect function; a SHOW; or an EXPLAIN, whose statement must itself be
// a read when ANALYZE runs it. The decision is taken on PostgreSQL's own
// parse tree. Other errors wrap ErrNotReadOnly, or are parse errors.
//
// The check is the first guard; the second is that the engine's Session
// runs every statement in a READ ONLY transaction, which PostgreSQL
// enforces even inside functions the parse tree cannot see into.
func CheckReadOnly(stmt string) error {
	tree, err := pgquery.Parse(stmt)
	if err != nil {
		return fmt.Errorf("parse statement: %w", err)
	}
	if n := len(tree.GetStmts()); n != 1 {
		return fmt.Errorf("%w: %d statements where one was expected", ErrNotReadOnly, n)
	}
	return checkNode(tree.GetStmts()[0].GetStmt())
}

// checkNode decides on one top-level statement.
func checkNode(n *pgquery.Node) error {
	switch {
	case n.GetSelectStmt() != nil:
		return checkSelect(n.GetSelectStmt())
	case n.GetVariableShowStmt() != nil:
		return nil
	case n.GetExplainStmt() != nil:
		return checkExplain(n.GetExplainStmt())
	}
	return fmt.Errorf("%w: %s", ErrNotReadOnly, kindOf(n))
}

// checkSelect refuses a SELECT that writes, locks rows or creates a table
// anywhere in its tree (sub-queries, CTEs, set operations).
func checkSelect(s *pgquery.SelectStmt) error {
	var err error
	inspect(s, func(m proto.Message) bool {
		err = forbidden(m)
		return err == nil
	})
	return err
}

// forbidden explains why one node of a SELECT's tree makes it unsafe, or
// returns nil.
func forbidden(m proto.Message) error {
	switch n := m.(type) {
	case *pgquery.InsertStmt, *pgquery.UpdateStmt, *pgquery.DeleteStmt, *pgquery.MergeStmt:
		return fmt.Errorf("%w: data-modifying WITH clause (%s)", ErrNotReadOnly, stmtKind(m))
	case *pgquery.LockingClause:
		return fmt.Errorf("%w: SELECT ... FOR %s locks rows", ErrNotReadOnly, lockStrength(n))
	case *pgquery.IntoClause:
		return fmt.Errorf("%w: SELECT INTO creates a table", ErrNotReadOnly)
	case *pgquery.FuncCall:
		if name := funcName(n); sideEffect(name) {
			return fmt.Errorf("%w: calls %s(), which has side effects", ErrNotReadOnly, name)
		}
	}
	return nil
}

// checkExplain accepts EXPLAIN of a read, and EXPLAIN without ANALYZE (which
// only plans) of a write.
func checkExplain(e *pgquery.ExplainStmt) error {
	q := e.GetQuery()
	if explainAnalyze(e.GetOptions()) {
		if err := checkNode(q); err != nil {
			return fmt.Errorf("EXPLAIN ANALYZE runs its statement: %w", err)
		}
		return nil
	}
	switch {
	case q.GetSelectStmt() != nil, q.GetInsertStmt() != nil, q.GetUpdateStmt() != nil,
		q.GetDeleteStmt() != nil, q.GetMergeStmt() != nil, q.GetCreateTableAsStmt() != nil:
		return nil
	}
	return fmt.Errorf("%w: EXPLAIN of %s", ErrNotReadOnly, kindOf(q))
}

// explainAnalyze reports whether EXPLAIN's options turn ANALYZE on.
func explainAnalyze(options []*pgquery.Node) bool {
	on := false
	for _, o := range options {
		if d := o.GetDefElem(); d != nil && strings.EqualFold(d.GetDefname(), "analyze") {
			on = defTrue(d.GetArg())
		}
	}
	return on
}

// defTrue reads a boolean option's argument the way PostgreSQL does; no
// argument means true.
func defTrue(arg *pgquery.Node) bool {
	switch {
	case arg == nil:
		return true
	case arg.GetBoolean() != nil:
		return arg.GetBoolean().GetBoolval()
	case arg.GetInteger() != nil:
		return arg.GetInteger().GetIval() != 0
	case arg.GetString_() != nil:
		switch strings.ToLower(arg.GetString_().GetSval()) {
		case "false", "off", "no", "0":
			return false
		}
	}
	return true
}

// sideEffectNames are built-in functions that change server state without
// writing a table, so a READ ONLY transaction would not stop them (or that
// would fail in one anyway: refusing them early keeps the replay clean).
var sideEffectNames = map[string]bool{
	"pg_terminate_backend": true, "pg_cancel_backend": true, "pg_reload_conf": true,
	"pg_rotate_logfile": true, "pg_switch_wal": true, "pg_promote": true,
	"pg_create_restore_point": true, "pg_notify": true, "set_config": true,
	"pg_stat_statements_reset": true, "nextval": true, "setval": true,
	"pg_log_backend_memory_contexts": true, "pg_wal_replay_pause": true,
	"pg_wal_replay_resume": true,
}

// sideEffectPrefixes name families of such functions.
var sideEffectPrefixes = []string{
	"pg_advisory_", "pg_try_advisory_", "pg_stat_reset", "pg_create_", "pg_drop_",
	"pg_replication_origin_", "pg_import_", "dblink", "lo_",
}

// sideEffect reports whether a built-in function is known to have side
// effects.
func sideEffect(name string) bool {
	if sideEffectNames[name] {
		return true
	}
	for _, p := range sideEffectPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// funcName is a call's function name, lower case, without its schema when
// the schema is pg_catalog; a function of another schema is returned
// qualified, so it never matches a built-in.
func funcName(f *pgquery.FuncCall) string {
	var parts []string
	for _, n := range f.GetFuncname() {
		parts = append(parts, strings.ToLower(n.GetString_().GetSval()))
	}
	if len(parts) == 2 && parts[0] == "pg_catalog" {
		parts = parts[1:]
	}
	return strings.Join(parts, ".")
}

// lockStrength names a locking clause's strength as SQL spells it.
func lockStrength(l *pgquery.LockingClause) string {
	switch l.GetStrength() {
	case pgquery.LockClauseStrength_LCS_FORKEYSHARE:
		return "KEY SHARE"
	case pgquery.LockClauseStrength_LCS_FORSHARE:
		return "SHARE"
	case pgquery.LockClauseStrength_LCS_FORNOKEYUPDATE:
		return "NO KEY UPDATE"
	}
	return "UPDATE"
}

// stmtNames spell the usual statement kinds as SQL does.
var stmtNames = map[string]string{
	"InsertStmt": "INSERT", "UpdateStmt": "UPDATE", "DeleteStmt": "DELETE", "MergeStmt": "MERGE",
	"DoStmt": "DO block", "CallStmt": "CALL", "CopyStmt": "COPY", "TransactionStmt": "transaction control",
	"VariableSetStmt": "SET", "CreateTableAsStmt": "CREATE TABLE AS", "ExecuteStmt": "EXECUTE",
	"PrepareStmt": "PREPARE", "DeclareCursorStmt": "DECLARE CURSOR", "LockStmt": "LOCK",
	"VacuumStmt": "VACUUM/ANALYZE",
}

// kindOf names the statement a node holds.
func kindOf(n *pgquery.Node) string {
	r := n.ProtoReflect()
	od := r.Descriptor().Oneofs().ByName("node")
	if od == nil {
		return "empty statement"
	}
	fd := r.WhichOneof(od)
	if fd == nil {
		return "empty statement"
	}
	return stmtKind(r.Get(fd).Message().Interface())
}

// stmtKind names a statement message.
func stmtKind(m proto.Message) string {
	name := string(m.ProtoReflect().Descriptor().Name())
	if s, ok := stmtNames[name]; ok {
		return s
	}
	return name
}

// inspect calls visit on m and on every message below it, depth first, until
// visit returns false.
func inspect(m proto.Message, visit func(proto.Message) bool) {
	walk(m.ProtoReflect(), visit)
}

// walk is inspect on reflected messages; it reports whether to go on.
func walk(m protoreflect.Message, visit func(proto.Message) bool) bool {
	if !m.IsValid() {
		return true
	}
	if !visit(m.Interface()) {
		return false
	}
	more := true
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Message() == nil || fd.IsMap():
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len() && more; i++ {
				more = walk(l.Get(i).Message(), visit)
			}
		default:
			more = walk(v.Message(), visit)
		}
		return more
	})
	return more
}
