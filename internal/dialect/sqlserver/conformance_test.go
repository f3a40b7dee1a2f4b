//go:build sqlserver

// The conformance suite against a real SQL Server. No SQL Server can be
// installed on the machines this project is tested on, so this file is
// built only with the tag sqlserver (it is not part of make test):
//
//	HOTSWAP_SQLSERVER_DSN='sqlserver://sa:Passw0rd!@127.0.0.1:1433?database=master' \
//	  go test -tags sqlserver -run TestConformance ./internal/dialect/sqlserver
//
// The DSN's login must be allowed to create databases. The test fails
// when the variable is unset: it never passes by skipping.

package sqlserver_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/microsoft/go-mssqldb"

	"github.com/hotswap-db/hotswap/internal/dialect/conformance"
	"github.com/hotswap-db/hotswap/internal/dialect/sqlserver"
)

// TestConformance runs the suite every engine's executor must pass, each
// case in a database of its own.
func TestConformance(t *testing.T) {
	admin := os.Getenv("HOTSWAP_SQLSERVER_DSN")
	if admin == "" {
		t.Fatal("HOTSWAP_SQLSERVER_DSN is not set: this test needs a SQL Server 2019 or 2022")
	}
	conformance.Run(t, conformance.Factory{New: func(t *testing.T) conformance.Instance { return msInstance(t, admin) }, SQL: msSQL})
}

// msSQL is SQL Server's side of the suite's statements.
var msSQL = conformance.SQL{
	CreateTable:   func(table string) string { return "CREATE TABLE " + table + " (id int)" },
	AddColumn:     func(table, column string) string { return "ALTER TABLE " + table + " ADD " + column + " int NULL" },
	NoTransaction: func(string) string { return "ALTER DATABASE CURRENT SET RECOVERY FULL" },
	Sleep:         func(seconds int) string { return fmt.Sprintf("WAITFOR DELAY '00:00:%02d'", seconds) },
	Read:          func(table string) string { return "SELECT count(*) FROM " + table },
	Begin:         "BEGIN TRANSACTION",
	Commit:        "COMMIT TRANSACTION",
	HoldLock:      func(table string) string { return "SELECT count(*) FROM " + table + " WITH (TABLOCK, HOLDLOCK)" },
	WithLiteral:   func(literal string) string { return "SELECT '" + literal + "' FROM hotswap_no_such_table" },
}

// msInstance creates a database named after the test, with a Conn on it.
func msInstance(t *testing.T, adminDSN string) conformance.Instance {
	name := "hs_" + strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name()))
	name = name[:min(len(name), 100)]
	admin := openDB(t, adminDSN)
	if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE ["+name+"]"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.ExecContext(context.Background(), "ALTER DATABASE ["+name+"] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE ["+name+"]")
	})
	dsn := withDatabase(t, adminDSN, name)
	c, err := sqlserver.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	u, _ := url.Parse(adminDSN)
	password, _ := u.User.Password()
	return conformance.Instance{
		Conn:     c,
		Password: password,
		Session:  func(t *testing.T) conformance.Session { return msSession{connect(t, dsn)} },
		Active: func(ctx context.Context, text string) (int, error) {
			var n int
			err := admin.QueryRowContext(ctx, `SELECT count(*) FROM sys.dm_exec_requests r
				CROSS APPLY sys.dm_exec_sql_text(r.sql_handle) st
				WHERE r.session_id <> @@SPID AND st.text LIKE N'%' + @p1 + N'%'`, text).Scan(&n)
			return n, err
		},
	}
}

// withDatabase is dsn (a sqlserver:// URL) naming database db.
func withDatabase(t *testing.T, dsn, db string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("database", db)
	u.RawQuery = q.Encode()
	return u.String()
}

// openDB opens a pool on dsn, closed when t ends.
func openDB(t *testing.T, dsn string) *sql.DB {
	db, err := sql.Open("sqlserver", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// connect opens one session on dsn, closed when t ends.
func connect(t *testing.T, dsn string) *sql.Conn {
	conn, err := openDB(t, dsn).Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// msSession is an application session.
type msSession struct{ conn *sql.Conn }

// Exec runs sql, reading and discarding its rows.
func (s msSession) Exec(ctx context.Context, sql string) error {
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
