package mysql_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"github.com/hotswap-db/hotswap/internal/dialect/conformance"
	"github.com/hotswap-db/hotswap/internal/dialect/mysql"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// TestConformance runs the suite every engine's executor must pass against
// a real MariaDB, each case in a database of its own.
func TestConformance(t *testing.T) {
	m := testbed.StartMariaDB(t, testbed.MariaDBOptions{})
	conformance.Run(t, conformance.Factory{New: func(t *testing.T) conformance.Instance { return myInstance(t, m) }, SQL: mySQL})
}

// mySQL is MySQL/MariaDB's side of the suite's statements.
var mySQL = conformance.SQL{
	CreateTable:   func(table string) string { return "CREATE TABLE " + table + " (id int)" },
	AddColumn:     func(table, column string) string { return "ALTER TABLE " + table + " ADD COLUMN " + column + " int" },
	NoTransaction: func(table string) string { return "CREATE INDEX " + table + "_id ON " + table + " (id)" },
	Sleep:         func(seconds int) string { return fmt.Sprintf("SELECT SLEEP(%d)", seconds) },
	Read:          func(table string) string { return "SELECT count(*) FROM " + table },
	Begin:         "BEGIN",
	Commit:        "COMMIT",
	HoldLock:      func(table string) string { return "SELECT count(*) FROM " + table },
	WithLiteral:   func(literal string) string { return "SELECT '" + literal + "' FROM hotswap_no_such_table" },
}

// testDB is a fresh database of the test bed's server, with a Conn on it.
type testDB struct {
	c   *mysql.Conn
	dsn string
}

// newTestDB creates a database named after the test.
func newTestDB(t *testing.T, m *testbed.MariaDB) testDB {
	t.Helper()
	name := strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name()))
	name = name[max(0, len(name)-60):]
	admin := openDB(t, m.DSN(""))
	if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE `"+name+"`"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`") })
	dsn := m.DSN(name)
	c, err := mysql.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return testDB{c: c, dsn: dsn}
}

// myInstance is one case's instance.
func myInstance(t *testing.T, m *testbed.MariaDB) conformance.Instance {
	db := newTestDB(t, m)
	watcher := openDB(t, m.DSN(""))
	return conformance.Instance{
		Conn:     db.c,
		Password: m.Password(),
		Session:  func(t *testing.T) conformance.Session { return mySession{connect(t, db.dsn)} },
		Active: func(ctx context.Context, text string) (int, error) {
			var n int
			err := watcher.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.PROCESSLIST
				WHERE COMMAND = 'Query' AND INFO = ?`, text).Scan(&n)
			return n, err
		},
	}
}

// openDB opens a pool on dsn, closed when t ends.
func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// connect opens one session on dsn, closed when t ends.
func connect(t *testing.T, dsn string) *sql.Conn {
	t.Helper()
	conn, err := openDB(t, dsn).Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// mySession is an application session.
type mySession struct{ conn *sql.Conn }

// Exec runs sql, reading and discarding its rows.
func (s mySession) Exec(ctx context.Context, sql string) error {
	rows, err := s.conn.QueryContext(ctx, sql)
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}
