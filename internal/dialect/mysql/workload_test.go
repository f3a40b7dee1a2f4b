package mysql_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/mysql"
	"github.com/hotswap-db/hotswap/internal/replay"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// TestCaptureAndReplay captures what an application ran from
// events_statements_history_long, falls back to the digests when that
// consumer is off, and replays in read-only transactions that the server
// itself guards.
func TestCaptureAndReplay(t *testing.T) {
	m := testbed.StartMariaDB(t, testbed.MariaDBOptions{Settings: map[string]string{
		"performance-schema-consumer-events-statements-history-long": "ON"}})
	app := openDB(t, m.DSN(testbed.MariaDBDatabase))
	for _, s := range []string{"CREATE TABLE items (id int PRIMARY KEY, k int, KEY items_k (k))",
		"INSERT INTO items VALUES (1, 10), (2, 20), (3, 30)"} {
		if _, err := app.ExecContext(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	for i := range 30 {
		if _, err := app.ExecContext(t.Context(), fmt.Sprintf("SELECT id FROM items WHERE k = %d", 10*(i%3+1))); err != nil {
			t.Fatal(err)
		}
	}
	c := open(t, m.DSN(testbed.MariaDBDatabase))
	got, err := c.CaptureWorkload(t.Context(), dialect.CaptureRequest{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got.Statements, "SELECT id FROM items WHERE k = 20") || !strings.Contains(got.Source, "history_long") {
		t.Fatalf("captured %q from %s; want the point reads as run, from the history", got.Statements, got.Source)
	}
	if share, ok := got.Share(); !ok || share < 0.5 {
		t.Errorf("captured share = %v (%v), want most of the application's calls", share, ok)
	}
	t.Run("replay", func(t *testing.T) { testReplay(t, c, got.Workload) })
	t.Run("digests", func(t *testing.T) {
		if _, err := app.ExecContext(t.Context(), `UPDATE performance_schema.setup_consumers SET ENABLED = 'NO'
			WHERE NAME = 'events_statements_history_long'`); err != nil {
			t.Fatal(err)
		}
		if _, err := app.ExecContext(t.Context(), "SELECT count(*) FROM items"); err != nil {
			t.Fatal(err)
		}
		var got dialect.CapturedWorkload
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			var err error
			got, err = c.CaptureWorkload(t.Context(), dialect.CaptureRequest{Limit: 10})
			if err != nil || !strings.Contains(got.Source, "digests") {
				t.Fatalf("capture with the history off = %q from %s, %v; want the digests", got.Statements, got.Source, err)
			}
			if len(got.Statements) > 0 || time.Now().After(deadline) {
				break
			}
		}
		if len(got.Statements) != 1 || !strings.HasPrefix(got.Statements[0], "SELECT COUNT ( * ) FROM `items`") || got.Skipped == 0 {
			t.Errorf("from the digests: %q, %d skipped; want the count kept and the point read (k = ?) skipped", got.Statements, got.Skipped)
		}
	})
}

// testReplay replays the captured workload, refuses a write, and checks
// that the read-only transaction stops a write that reaches the server.
func testReplay(t *testing.T, c *mysql.Conn, w replay.Workload) {
	w.Statements = append(w.Statements, "UPDATE items SET k = 0", "SELECT id FROM items WHERE k = 10 FOR UPDATE")
	res, err := c.ReplayWorkload(t.Context(), w, replay.Options{Iterations: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Runs != 3*(len(w.Statements)-2) || res.Errors != 0 || res.Skipped != 2 || res.P95Ms <= 0 {
		t.Errorf("replay = %+v; want every read run 3 times, the write and the locking read refused", res)
	}
	s := mysql.ReplaySession{DB: c.DB(), MariaDB: true}
	_, err = s.RunReadOnly(t.Context(), "UPDATE items SET k = 0", time.Second)
	var me *gomysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1792 {
		t.Errorf("a write sent in the replay's transaction = %v, want error 1792 (read-only transaction)", err)
	}
	_, err = s.RunReadOnly(t.Context(), "SELECT SLEEP(5) FROM items", 200*time.Millisecond)
	if err == nil {
		t.Error("a statement longer than the timeout ran to its end")
	}
	var limit float64
	for range 8 { // every session of the pool is back without the limit
		if err := c.DB().QueryRowContext(t.Context(), "SELECT @@SESSION.max_statement_time").Scan(&limit); err != nil || limit != 0 {
			t.Fatalf("a pooled session's max_statement_time = %v, %v; want the default 0", limit, err)
		}
	}
}
