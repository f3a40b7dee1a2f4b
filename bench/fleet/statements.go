package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/testbed"
)

// resetStatements empties pg_stat_statements before the measured
// migration, when --statements asks for its top statements.
func (e *env) resetStatements(ctx context.Context) error {
	if e.o.statements <= 0 {
		return nil
	}
	return e.onAdmin(ctx, func(conn *pgx.Conn) error {
		if _, err := conn.Exec(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
			return err
		}
		var err error
		e.sessionsBefore, err = tenantSessions(ctx, conn)
		return err
	})
}

// tenantSessions is the number of sessions ever opened to the tenant
// databases (pg_stat_database.sessions).
func tenantSessions(ctx context.Context, conn *pgx.Conn) (int64, error) {
	var n int64
	err := conn.QueryRow(ctx, `SELECT coalesce(sum(sessions), 0)::int8 FROM pg_stat_database WHERE datname LIKE 'tenant%'`).Scan(&n)
	return n, err
}

// printStatements prints the statements that took the server's time since
// resetStatements, over the tenant databases: calls and total time, and
// both per database.
func (e *env) printStatements(ctx context.Context) error {
	if e.o.statements <= 0 {
		return nil
	}
	const sql = `SELECT left(regexp_replace(s.query, '\s+', ' ', 'g'), 110), sum(s.calls)::int8,
			sum(s.total_exec_time)::float8, sum(s.total_plan_time)::float8
		FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
		WHERE d.datname LIKE 'tenant%'
		GROUP BY 1 ORDER BY 3 DESC LIMIT $1`
	return e.onAdmin(ctx, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, sql, e.o.statements)
		if err != nil {
			return fmt.Errorf("read pg_stat_statements: %w", err)
		}
		defer rows.Close()
		n := float64(e.o.databases)
		var b strings.Builder
		var totalCalls, totalMs float64
		for rows.Next() {
			var q string
			var calls int64
			var execMs, planMs float64
			if err := rows.Scan(&q, &calls, &execMs, &planMs); err != nil {
				return err
			}
			totalCalls += float64(calls)
			totalMs += execMs + planMs
			fmt.Fprintf(&b, "  %6.1f calls %8.2f ms  %s\n", float64(calls)/n, (execMs+planMs)/n, q)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		sessions, err := tenantSessions(ctx, conn)
		if err != nil {
			return err
		}
		fmt.Printf("\nstatements of HotSwap's first migration, per database (top %d: %.1f calls, %.1f ms):\n%s",
			e.o.statements, totalCalls/n, totalMs/n, b.String())
		// The bench's own count of the changed databases opens one each.
		fmt.Printf("  sessions opened per database: %.1f (HotSwap's, less the bench's own count of changed databases)\n",
			float64(sessions-e.sessionsBefore)/n-1)
		return nil
	})
}

// onAdmin runs fn on a session of the test bed's own database, where
// pg_stat_statements is created.
func (e *env) onAdmin(ctx context.Context, fn func(*pgx.Conn) error) error {
	conn, err := pgx.Connect(ctx, e.pg.DSN(testbed.PostgresDatabase))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return fn(conn)
}
