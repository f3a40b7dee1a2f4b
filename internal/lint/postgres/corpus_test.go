package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/hotswap-db/hotswap/internal/lint/linttest"
	"github.com/hotswap-db/hotswap/internal/lint/postgres"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// baseSchema is what the corpus scripts assume exists, with a few rows.
const baseSchema = `
CREATE SCHEMA billing;
CREATE TYPE order_status AS ENUM ('pending', 'paid');
CREATE TABLE orgs (id bigint PRIMARY KEY, name text);
CREATE TABLE users (id bigserial PRIMARY KEY, email text, name text, age integer, org_id bigint, active boolean,
  status text, created_at timestamptz DEFAULT now(), deleted_at timestamptz);
CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint, status text, amount integer, total numeric(10,2),
  created_at timestamptz DEFAULT now(), archived boolean);
CREATE TABLE sessions (id bigserial PRIMARY KEY, user_id bigint, expires_at timestamptz);
CREATE TABLE billing.invoices (id bigserial PRIMARY KEY, order_id bigint, amount_cents integer, note varchar(100), status text);
CREATE TABLE "Accounts" ("Id" bigserial PRIMARY KEY, "DisplayName" text);
CREATE TABLE events (id serial PRIMARY KEY, kind text, payload jsonb);
INSERT INTO orgs VALUES (1, 'a'), (2, 'b');
INSERT INTO users (email, name, age, org_id, active, status)
  SELECT 'u' || g || '@example.com', 'n' || g, g, 1, true, 'active' FROM generate_series(1, 50) g;
INSERT INTO orders (user_id, status, amount, total) SELECT g, 'paid', g, g FROM generate_series(1, 50) g;
INSERT INTO sessions (user_id, expires_at) SELECT g, now() - interval '40 days' FROM generate_series(1, 20) g;
INSERT INTO billing.invoices (order_id, amount_cents, note, status) SELECT g, g, 'n', 'open' FROM generate_series(1, 20) g;
INSERT INTO "Accounts" ("DisplayName") VALUES ('a'), ('b');
INSERT INTO events (kind) VALUES ('a'), ('b'), ('c');
CREATE MATERIALIZED VIEW order_totals AS SELECT user_id, sum(amount) AS total FROM orders GROUP BY user_id;
CREATE UNIQUE INDEX order_totals_user ON order_totals (user_id);
CREATE INDEX idx_orders_status ON orders (status);
`

func TestCorpus(t *testing.T) {
	t.Parallel()
	cases := linttest.Load(t, "testdata")
	linttest.Run(t, cases, postgres.Lint)
	counts := map[string]int{}
	for _, c := range cases {
		counts[c.Kind]++
	}
	if counts["unsafe"] < 30 || counts["safe"]+counts["bait"] < 30 {
		t.Errorf("corpus too small: %v", counts)
	}
}

// TestRewritesRunOnPostgres runs, on a real server, every unsafe script with
// its statements replaced by their rewrites, and every safe and bait script
// as written, each in a fresh database holding the base schema.
func TestRewritesRunOnPostgres(t *testing.T) {
	t.Parallel()
	cases := linttest.Load(t, "testdata")
	fixed := linttest.Run(t, cases, postgres.Lint)
	// Durability is not under test: skip the fsyncs that make CREATE DATABASE slow.
	srv := testbed.StartPostgres(t, testbed.PostgresOptions{Settings: map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}})
	ctx := t.Context()
	admin := connect(t, ctx, srv.DSN(testbed.PostgresDatabase))
	if _, err := admin.Exec(ctx, "CREATE DATABASE corpus_base"); err != nil {
		t.Fatalf("create template: %v", err)
	}
	tmpl := connect(t, ctx, srv.DSN("corpus_base"))
	if err := runScript(ctx, tmpl, baseSchema); err != nil {
		t.Fatalf("base schema: %v", err)
	}
	tmpl.Close(ctx)
	for i, c := range cases {
		script := c.Script
		if c.Kind == "unsafe" {
			script = fixed[c.Name]
		}
		db := fmt.Sprintf("corpus_%d", i)
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+db+" TEMPLATE corpus_base STRATEGY FILE_COPY"); err != nil {
			t.Fatalf("create %s: %v", db, err)
		}
		conn := connect(t, ctx, srv.DSN(db))
		for _, part := range []string{c.Setup, script} {
			if err := runScript(ctx, conn, part); err != nil {
				t.Errorf("%s: %v\n%s", c.Name, err, script)
				break
			}
		}
		conn.Close(ctx)
	}
}

func connect(t *testing.T, ctx context.Context, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.WithoutCancel(ctx)) })
	return conn
}

// runScript runs each statement on its own, as the agent does, so
// CONCURRENTLY statements outside BEGIN ... COMMIT run outside any
// transaction.
func runScript(ctx context.Context, conn *pgx.Conn, script string) error {
	stmts, err := pg.SplitWithParser(script, true)
	if err != nil {
		return fmt.Errorf("split: %w", err)
	}
	for _, s := range stmts {
		if strings.TrimSpace(s) == "" {
			continue
		}
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
