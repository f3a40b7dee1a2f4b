package oracle

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sijms/go-ora/v2/network"
)

// fakeServer is a database/sql driver double of an Oracle instance: it
// answers the statements of this package the way the server would, keeps
// the history tables in memory, records every statement it is sent, and
// returns go-ora's own error type (*network.OracleError) for server
// errors.
type fakeServer struct {
	t  *testing.T
	mu sync.Mutex
	// log is every statement sent, in order (the session's module set-up
	// left out).
	log []string
	// args are the arguments of each logged statement.
	args [][]driver.Value

	role, openMode string
	// denyDatabase refuses v$database, as for an account without
	// SELECT_CATALOG_ROLE.
	denyDatabase bool
	tables       map[string]bool
	intents      map[int]bool
	progress     map[int]bool
	history      map[string]int64 // execution/step -> fencing token
	checksums    map[string]string
	// ddl answers a statement of the script; nil accepts every one.
	ddl func(ctx context.Context, sql string) error
	// query answers a query the double does not know itself.
	query func(sql string, args []driver.Value) (*fakeRows, error)
	// sessions counts the sessions opened, for their ids.
	sessions int
}

// sessionKey carries the id of the session a statement runs on.
type sessionKey struct{}

// sessionOf is the id of the session running a statement.
func sessionOf(ctx context.Context) int {
	id, _ := ctx.Value(sessionKey{}).(int)
	return id
}

// newFake returns a primary open read write with no history yet.
func newFake(t *testing.T) *fakeServer {
	return &fakeServer{t: t, role: "PRIMARY", openMode: "READ WRITE", tables: map[string]bool{},
		intents: map[int]bool{}, progress: map[int]bool{}, history: map[string]int64{}, checksums: map[string]string{}}
}

// conn opens a Conn on the double, with "s3cret" as its password.
func (f *fakeServer) conn() *Conn {
	c := newConn(sql.OpenDB(moduleConnector{Connector: fakeConnector{f}}), "db.example:1521/ORCLPDB1", []string{"s3cret"})
	f.t.Cleanup(c.Close)
	return c
}

// sent returns the logged statements.
func (f *fakeServer) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

// oraErr is go-ora's error for ORA-code.
func oraErr(code int, msg string) error {
	return &network.OracleError{ErrCode: code, ErrMsg: fmt.Sprintf("ORA-%05d: %s", code, msg)}
}

// exec answers a command.
func (f *fakeServer) exec(ctx context.Context, q string, args []driver.Value) error {
	f.mu.Lock()
	if q == setModuleSQL {
		f.mu.Unlock()
		return nil
	}
	f.log = append(f.log, q)
	f.args = append(f.args, args)
	defer f.mu.Unlock()
	switch {
	case strings.HasPrefix(q, "ALTER SESSION SET ddl_lock_timeout"):
		return nil
	case strings.HasPrefix(q, "CREATE TABLE hotswap."):
		name := strings.ToUpper(strings.Fields(strings.TrimPrefix(q, "CREATE TABLE hotswap."))[0])
		f.tables[name] = true
		return nil
	case q == recordIntentSQL:
		return insertIndex(f.intents, args)
	case q == recordProgressSQL:
		return insertIndex(f.progress, args)
	case q == insertHistorySQL:
		key := args[0].(string) + "/" + args[1].(string)
		if _, dup := f.history[key]; dup {
			return oraErr(1, "unique constraint (HOTSWAP.SCHEMA_HISTORY_PK) violated")
		}
		f.history[key] = args[6].(int64)
		f.checksums[key], _ = args[5].(string)
		return nil
	}
	ddl := f.ddl
	f.mu.Unlock()
	defer f.mu.Lock()
	if ddl == nil {
		return nil
	}
	return ddl(ctx, q)
}

// insertIndex adds a statement index to a bookkeeping table.
func insertIndex(table map[int]bool, args []driver.Value) error {
	i := int(args[2].(int64))
	if table[i] {
		return oraErr(1, "unique constraint violated")
	}
	table[i] = true
	return nil
}

// answer answers a query.
func (f *fakeServer) answer(q string, args []driver.Value) (*fakeRows, error) {
	f.mu.Lock()
	f.log = append(f.log, q)
	f.args = append(f.args, args)
	defer f.mu.Unlock()
	switch q {
	case sessionSQL:
		return rowsOf(row("123", "APP")), nil
	case databaseSQL:
		if f.denyDatabase {
			return nil, oraErr(942, "table or view does not exist")
		}
		return rowsOf(row("19.0.0.0.0", f.role, f.openMode, "1234567", "ORCL")), nil
	case historyTablesSQL:
		var rs [][]driver.Value
		for name := range f.tables {
			rs = append(rs, row(name))
		}
		return rowsOf(rs...), nil
	case stepHistorySQL:
		if !f.tables["SCHEMA_HISTORY"] {
			return nil, oraErr(942, "table or view does not exist")
		}
		var max, applied int64
		for k, tok := range f.history {
			max = maxInt(max, tok)
			if k == args[1].(string)+"/"+args[2].(string) {
				applied = 1
			}
		}
		return rowsOf(row(max, applied)), nil
	case historySQL:
		var rs [][]driver.Value
		for k, tok := range f.history {
			ex, st, _ := strings.Cut(k, "/")
			rs = append(rs, row(ex, st, "m1", "add things", "up", f.checksums[k], tok, time.Now(), 1.5, "alice"))
		}
		return rowsOf(rs...), nil
	case loadIntentsSQL:
		return indexRows(f.intents), nil
	case loadProgressSQL:
		return indexRows(f.progress), nil
	}
	if f.query != nil {
		if r, err := f.query(q, args); r != nil || err != nil {
			return r, err
		}
	}
	switch q {
	case holdersSQL, blockersSQL, unitErrorsSQL:
		return rowsOf(), nil
	case sessionTxSQL:
		return rowsOf(row(int64(0), nil)), nil
	}
	f.t.Errorf("unexpected query: %s", q)
	return nil, errors.New("fake: unexpected query")
}

// maxInt is the larger of a and b.
func maxInt(a, b int64) int64 { return max(a, b) }

// indexRows lists a bookkeeping table's indexes.
func indexRows(table map[int]bool) *fakeRows {
	var rs [][]driver.Value
	for i, ok := range table {
		if ok {
			rs = append(rs, row(int64(i)))
		}
	}
	return rowsOf(rs...)
}

// row builds one row. Numbers are sent as text, as go-ora v2.8.24 hands
// NUMBER columns to database/sql (Number.String), so every Scan of a
// number goes through database/sql's conversion from a string.
func row(vals ...any) []driver.Value {
	out := make([]driver.Value, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case int:
			out[i] = strconv.Itoa(x)
		case int64:
			out[i] = strconv.FormatInt(x, 10)
		case float64:
			out[i] = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			out[i] = x
		}
	}
	return out
}

// rowsOf builds a result.
func rowsOf(rs ...[]driver.Value) *fakeRows {
	n := 0
	if len(rs) > 0 {
		n = len(rs[0])
	}
	cols := make([]string, n)
	for i := range cols {
		cols[i] = fmt.Sprintf("c%d", i)
	}
	return &fakeRows{cols: cols, rows: rs}
}

// fakeConnector opens sessions on the double.
type fakeConnector struct{ f *fakeServer }

// Connect opens a session.
func (c fakeConnector) Connect(context.Context) (driver.Conn, error) {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	c.f.sessions++
	return &fakeConn{f: c.f, id: c.f.sessions}, nil
}

// Driver returns the double's driver.
func (c fakeConnector) Driver() driver.Driver { return fakeDriver{} }

// fakeDriver is the double's driver.Driver.
type fakeDriver struct{}

// Open is not used: sessions come from the connector.
func (fakeDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("fake: use the connector")
}

// fakeConn is one session of the double.
type fakeConn struct {
	f  *fakeServer
	id int
}

var (
	_ driver.ExecerContext  = (*fakeConn)(nil)
	_ driver.QueryerContext = (*fakeConn)(nil)
	_ driver.Pinger         = (*fakeConn)(nil)
)

// Prepare is not used: statements are sent directly.
func (c *fakeConn) Prepare(string) (driver.Stmt, error) {
	return nil, errors.New("fake: no prepared statements")
}

// Close ends the session.
func (c *fakeConn) Close() error { return nil }

// Begin is not used: DDL commits by itself.
func (c *fakeConn) Begin() (driver.Tx, error) { return nil, errors.New("fake: no transactions") }

// Ping answers.
func (c *fakeConn) Ping(context.Context) error { return nil }

// ExecContext runs a command.
func (c *fakeConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	if err := c.f.exec(context.WithValue(ctx, sessionKey{}, c.id), q, values(args)); err != nil {
		return nil, err
	}
	return driver.RowsAffected(0), nil
}

// QueryContext runs a query.
func (c *fakeConn) QueryContext(_ context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	r, err := c.f.answer(q, values(args))
	if err != nil {
		return nil, err
	}
	return &fakeRows{cols: r.cols, rows: r.rows}, nil
}

// values strips the names of arguments.
func values(args []driver.NamedValue) []driver.Value {
	out := make([]driver.Value, len(args))
	for i, a := range args {
		out[i] = a.Value
	}
	return out
}

// fakeRows is a result of the double.
type fakeRows struct {
	cols []string
	rows [][]driver.Value
	i    int
}

// Columns names the columns.
func (r *fakeRows) Columns() []string { return r.cols }

// Close ends the result.
func (r *fakeRows) Close() error { return nil }

// Next copies the next row.
func (r *fakeRows) Next(dest []driver.Value) error {
	if r.i >= len(r.rows) {
		return io.EOF
	}
	copy(dest, r.rows[r.i])
	r.i++
	return nil
}

// step is a step request for the double.
func step(script string) stepReq {
	return stepReq{ExecutionID: "e1", StepID: "s1", MigrationID: "m1", MigrationName: "add things", Direction: "up",
		Script: script, Checksum: "abc", FencingToken: 7, AppliedBy: "alice", LockTimeout: 500 * time.Millisecond,
		Deadline: time.Now().Add(30 * time.Second)}
}
