package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/dialect/conformance"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// TestConformance runs the suite every engine's executor must pass against
// a real PostgreSQL, each case in a database of its own.
func TestConformance(t *testing.T) {
	p := testbed.StartPostgres(t, testbed.PostgresOptions{Settings: map[string]string{"max_connections": "200"}})
	conformance.Run(t, conformance.Factory{New: func(t *testing.T) conformance.Instance { return pgInstance(t, p) }, SQL: pgSQL})
}

// pgSQL is PostgreSQL's side of the suite's statements.
var pgSQL = conformance.SQL{
	CreateTable:   func(table string) string { return "CREATE TABLE " + table + " (id int)" },
	AddColumn:     func(table, column string) string { return "ALTER TABLE " + table + " ADD COLUMN " + column + " int" },
	NoTransaction: func(table string) string { return "CREATE INDEX CONCURRENTLY " + table + "_id ON " + table + " (id)" },
	Sleep:         func(seconds int) string { return fmt.Sprintf("SELECT pg_sleep(%d)", seconds) },
	Read:          func(table string) string { return "SELECT count(*) FROM " + table },
	Begin:         "BEGIN",
	Commit:        "COMMIT",
	HoldLock:      func(table string) string { return "LOCK TABLE " + table + " IN ACCESS SHARE MODE" },
	WithLiteral:   func(literal string) string { return "SELECT '" + literal + "' FROM hotswap_no_such_table" },
}

// pgInstance creates a database named after the test, with a Conn on it.
func pgInstance(t *testing.T, p *testbed.Postgres) conformance.Instance {
	db := newTestDB(t, p)
	watcher := connectTo(t, p.DSN(testbed.PostgresDatabase))
	return conformance.Instance{
		Conn:     db.c,
		Password: p.Password(),
		Session:  func(t *testing.T) conformance.Session { return pgSession{connectTo(t, db.dsn)} },
		Active: func(ctx context.Context, text string) (int, error) {
			return countActive(ctx, watcher, text)
		},
	}
}

// pgSession is an application session.
type pgSession struct{ conn *pgx.Conn }

// Exec runs sql.
func (s pgSession) Exec(ctx context.Context, sql string) error {
	_, err := s.conn.Exec(ctx, sql)
	return err
}
