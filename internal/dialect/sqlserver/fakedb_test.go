package sqlserver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
)

// fakeDB is a database/sql driver double: every query the package sends
// is logged, and answered by the first rule whose text it contains. A
// rule may fail with go-mssqldb's own error type, as the server would.
type fakeDB struct {
	mu    sync.Mutex
	log   []sent
	rules []*rule
}

// sent is one query and its arguments.
type sent struct {
	sql  string
	args []any
}

// rule answers the queries that contain match.
type rule struct {
	match string
	// answer returns the columns' values of each row, or an error; n is
	// how many times the rule has answered before.
	answer func(n int, args []any) ([][]any, error)
	n      int
}

// on adds a rule answering rows.
func (f *fakeDB) on(match string, rows ...[]any) {
	f.rules = append(f.rules, &rule{match: match, answer: func(int, []any) ([][]any, error) { return rows, nil }})
}

// onFunc adds a rule answered by fn.
func (f *fakeDB) onFunc(match string, fn func(n int, args []any) ([][]any, error)) {
	f.rules = append(f.rules, &rule{match: match, answer: fn})
}

// answer finds the rule for query and logs it.
func (f *fakeDB) answer(query string, args []driver.NamedValue) ([][]any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	vals := make([]any, len(args))
	for i, a := range args {
		vals[i] = a.Value
	}
	f.log = append(f.log, sent{sql: strings.TrimPrefix(query, agentTag), args: vals})
	for _, r := range f.rules {
		if strings.Contains(query, r.match) {
			r.n++
			return r.answer(r.n-1, vals)
		}
	}
	return nil, nil
}

// sentMatching lists the logged queries containing s, in order.
func (f *fakeDB) sentMatching(s string) []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sent
	for _, q := range f.log {
		if strings.Contains(q.sql, s) {
			out = append(out, q)
		}
	}
	return out
}

// sequence lists the logged queries that contain one of the markers,
// each shortened to the first marker it contains.
func (f *fakeDB) sequence(markers ...string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, q := range f.log {
		for _, m := range markers {
			if strings.Contains(q.sql, m) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// conn returns a Conn over the double.
func (f *fakeDB) conn(t *testing.T) *Conn {
	c := newConn(sql.OpenDB(fakeConnector{f}), "db.example:1433/app", []string{"s3cret"})
	t.Cleanup(c.Close)
	return c
}

type fakeConnector struct{ f *fakeDB }

func (c fakeConnector) Connect(context.Context) (driver.Conn, error) { return &fakeConn{f: c.f}, nil }
func (c fakeConnector) Driver() driver.Driver                        { return fakeDriver{} }

type fakeDriver struct{}

func (fakeDriver) Open(string) (driver.Conn, error) { return nil, errors.New("use the connector") }

type fakeConn struct{ f *fakeDB }

func (c *fakeConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("fake: no prepare") }
func (c *fakeConn) Close() error                        { return nil }
func (c *fakeConn) Begin() (driver.Tx, error)           { return nil, errors.New("fake: no driver transactions") }
func (c *fakeConn) Ping(context.Context) error          { return nil }

func (c *fakeConn) ExecContext(_ context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	rows, err := c.f.answer(query, args)
	if err != nil {
		return nil, err
	}
	return driver.RowsAffected(len(rows)), nil
}

func (c *fakeConn) QueryContext(_ context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.f.answer(query, args)
	if err != nil {
		return nil, err
	}
	return &fakeRows{rows: rows}, nil
}

// CheckNamedValue accepts every argument as it is.
func (c *fakeConn) CheckNamedValue(nv *driver.NamedValue) error {
	if v, ok := nv.Value.(int); ok {
		nv.Value = int64(v)
	}
	return nil
}

type fakeRows struct {
	rows [][]any
	i    int
}

func (r *fakeRows) Columns() []string {
	if len(r.rows) == 0 {
		return []string{"c0"}
	}
	cols := make([]string, len(r.rows[0]))
	for i := range cols {
		cols[i] = "c" + string(rune('a'+i))
	}
	return cols
}

func (r *fakeRows) Close() error { return nil }

func (r *fakeRows) Next(dest []driver.Value) error {
	if r.i >= len(r.rows) {
		return io.EOF
	}
	for j, v := range r.rows[r.i] {
		dest[j] = v
	}
	r.i++
	return nil
}
