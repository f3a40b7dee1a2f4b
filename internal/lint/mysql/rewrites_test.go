package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	_ "github.com/go-sql-driver/mysql"
	"github.com/pingcap/tidb/pkg/parser"

	"github.com/hotswap-db/hotswap/internal/lint/linttest"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// baseSchema is what the corpus scripts assume exists, with a few rows;
// a script that needs more says so in its -- setup: lines.
var baseSchema = []string{
	"CREATE TABLE users (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, email VARCHAR(255) NOT NULL DEFAULT '', " +
		"first_name VARCHAR(50), name VARCHAR(100), status VARCHAR(20), role VARCHAR(20), handle VARCHAR(50), country CHAR(2), " +
		"created_at DATETIME, legacy_flag TINYINT, fax VARCHAR(30), age INT, newsletter TINYINT, deleted TINYINT NOT NULL DEFAULT 0)",
	"CREATE TABLE orders (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, user_id BIGINT UNSIGNED, " +
		"status ENUM('new','paid','shipped') NOT NULL DEFAULT 'new', total DECIMAL(10,2) NOT NULL DEFAULT 0, amount INT NOT NULL DEFAULT 0, " +
		"created_at DATETIME, archived TINYINT NOT NULL DEFAULT 0, KEY idx_old_status (status), KEY idx_user (user_id))",
	"CREATE TABLE order_items (order_id BIGINT UNSIGNED NOT NULL, line_no INT NOT NULL, sku VARCHAR(32), PRIMARY KEY (order_id, line_no))",
	"CREATE TABLE `order` (id INT PRIMARY KEY)",
	"CREATE TABLE migrations_log (id INT AUTO_INCREMENT PRIMARY KEY, msg TEXT)",
	"CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL DEFAULT 0)",
	"CREATE TABLE audit_log (id INT PRIMARY KEY, msg TEXT)",
	"CREATE TABLE settings (k VARCHAR(64) PRIMARY KEY, v VARCHAR(255))",
	"CREATE TABLE invoices (id INT PRIMARY KEY, amount DECIMAL(10,2))",
	"CREATE TABLE legacy_events (kind VARCHAR(20))",
	"CREATE TABLE comments (id INT PRIMARY KEY, body TEXT) DEFAULT CHARSET=latin1",
	"CREATE TABLE posts (id INT PRIMARY KEY, title VARCHAR(200))",
	"CREATE TABLE articles (id INT PRIMARY KEY, body TEXT)",
	"CREATE TABLE payments (id INT PRIMARY KEY, amount DECIMAL(10,2) NOT NULL)",
	"CREATE TABLE sessions (id INT PRIMARY KEY, user_id BIGINT UNSIGNED, expires_at DATETIME)",
	"CREATE TABLE old_sessions (id INT PRIMARY KEY)",
	"CREATE TABLE legacy_audit (id INT PRIMARY KEY)",
	"CREATE TABLE customers (id INT PRIMARY KEY)",
	"CREATE TABLE metrics (id INT NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (id, created_at)) " +
		"PARTITION BY RANGE (YEAR(created_at)) (PARTITION p2019 VALUES LESS THAN (2020), PARTITION pmax VALUES LESS THAN MAXVALUE)",
	"INSERT INTO users (email, name, status, newsletter) VALUES ('a@example.com', 'a', NULL, 1), ('b@example.com', 'b', 'active', 0)",
	"INSERT INTO orders (user_id, status, total, amount, created_at) VALUES (1, 'paid', 10, 10, '2022-05-01'), (2, 'new', 5, 5, NOW())",
	"INSERT INTO order_items VALUES (1, 1, 'x'), (1, 2, 'y')",
	"INSERT INTO sessions VALUES (1, 1, '2020-01-01'), (2, 2, NOW())",
	"INSERT INTO accounts VALUES (7, 100), (8, 0)",
	"INSERT INTO metrics VALUES (1, '2019-06-01'), (2, '2024-06-01')",
}

// TestRewritesRunOnMariaDB runs, on the test bed's MariaDB, every unsafe
// script with its statements replaced by their rewrites, and every safe
// and bait script as written, each in a fresh database holding the base
// schema. A script whose header says "-- mariadb: skip <reason>" is
// MySQL-only and is reported as skipped with its reason.
func TestRewritesRunOnMariaDB(t *testing.T) {
	t.Parallel()
	cases := linttest.Load(t, "testdata")
	fixed := linttest.Run(t, cases, Lint)
	m := testbed.StartMariaDB(t, testbed.MariaDBOptions{})
	admin, err := m.Admin()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	ran := 0
	for i, c := range cases {
		if reason, skip := mariaDBSkip(c.Script); skip {
			t.Logf("%s: not run on MariaDB: %s", c.Name, reason)
			continue
		}
		script := c.Script
		if c.Kind == "unsafe" {
			script = fixed[c.Name]
		}
		db := fmt.Sprintf("corpus_%d", i)
		if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+db); err != nil {
			t.Fatalf("create %s: %v", db, err)
		}
		n, err := runCase(t.Context(), m.DSN(db), c.Setup, script)
		if err != nil {
			t.Errorf("%s: %v\n%s", c.Name, err, script)
		}
		ran += n
	}
	t.Logf("%d statements of %d scripts ran on MariaDB", ran, len(cases))
	if ran < len(cases) {
		t.Errorf("%d statements ran for %d scripts, want at least one a script", ran, len(cases))
	}
}

// mariaDBSkip reads a "-- mariadb: skip <reason>" header line.
func mariaDBSkip(script string) (string, bool) {
	for _, line := range strings.Split(script, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "-- mariadb: skip"); ok {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

// runCase runs the base schema, the setup and the script on one session,
// and returns how many of the script's statements ran.
func runCase(ctx context.Context, dsn, setup, script string) (int, error) {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	for _, s := range baseSchema {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return 0, fmt.Errorf("base schema: %s: %w", s, err)
		}
	}
	if _, err := runScript(ctx, conn, setup); err != nil {
		return 0, fmt.Errorf("setup: %w", err)
	}
	return runScript(ctx, conn, script)
}

// runScript runs each statement on its own, as the agent does, and
// returns how many ran; a piece that is only comments is not sent.
func runScript(ctx context.Context, conn *sql.Conn, script string) (int, error) {
	pieces, _ := split(script)
	p := parser.New()
	n := 0
	for _, pc := range pieces {
		text := script[pc.start:pc.end]
		if nodes, _, err := p.ParseSQL(text); err == nil && len(nodes) == 0 {
			continue
		}
		if _, err := conn.ExecContext(ctx, text); err != nil {
			return n, fmt.Errorf("%s: %w", strings.TrimSpace(text), err)
		}
		n++
	}
	return n, nil
}
