package replay

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCheckReadOnly(t *testing.T) {
	cases := []struct {
		stmt string
		ok   bool
	}{
		{"SELECT 1", true},
		{"/* note */ SELECT * FROM t WHERE id = 1 -- trailing", true},
		{"WITH x AS (SELECT a FROM t) SELECT * FROM x", true},
		{"SELECT 1 UNION ALL SELECT a FROM t", true},
		{"VALUES (1), (2)", true},
		{"SHOW work_mem", true},
		{"EXPLAIN SELECT * FROM t", true},
		{"EXPLAIN (ANALYZE) SELECT * FROM t", true},
		{"EXPLAIN UPDATE t SET a = 1", true},
		{"EXPLAIN (ANALYZE false) DELETE FROM t", true},
		{"SELECT * FROM t WHERE a IN (SELECT b FROM u)", true},
		{"INSERT INTO t VALUES (1)", false},
		{"UPDATE t SET a = 1", false},
		{"DELETE FROM t", false},
		{"WITH i AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM i", false},
		{"WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d", false},
		{"SELECT * FROM t FOR UPDATE", false},
		{"SELECT * FROM (SELECT * FROM t FOR SHARE) s", false},
		{"SELECT * INTO t2 FROM t", false},
		{"DO $$BEGIN DELETE FROM t; END$$", false},
		{"EXPLAIN ANALYZE DELETE FROM t", false},
		{"EXPLAIN (ANALYZE, BUFFERS) INSERT INTO t VALUES (1)", false},
		{"EXPLAIN EXECUTE p", false},
		{"SELECT pg_terminate_backend(123)", false},
		{"SELECT pg_catalog.pg_advisory_lock(1)", false},
		{"SELECT nextval('s')", false},
		{"SELECT 1; SELECT 2", false},
		{"BEGIN", false},
		{"SET work_mem = '1GB'", false},
		{"COPY t TO STDOUT", false},
		{"CALL p()", false},
		{"CREATE TABLE x (a int)", false},
		{"", false},
		{"SELEC 1", false},
	}
	for _, c := range cases {
		err := CheckReadOnly(c.stmt)
		if c.ok && err != nil {
			t.Errorf("CheckReadOnly(%q) = %v, want ok", c.stmt, err)
		}
		if !c.ok && err == nil {
			t.Errorf("CheckReadOnly(%q) = nil, want refused", c.stmt)
		}
	}
	for _, s := range []string{"INSERT INTO t VALUES (1)", "SELECT * FROM t FOR UPDATE", "DO $$BEGIN END$$"} {
		if err := CheckReadOnly(s); !errors.Is(err, ErrNotReadOnly) {
			t.Errorf("CheckReadOnly(%q) = %v, want ErrNotReadOnly", s, err)
		}
	}
	if err := CheckReadOnly("DO $$BEGIN END$$"); err == nil || !strings.Contains(err.Error(), "DO block") {
		t.Errorf("DO refused with %v, want a reason naming the DO block", err)
	}
}

func TestParseFile(t *testing.T) {
	file := `-- morning report
SELECT * FROM orders WHERE id = 1;
/* totals */
WITH t AS (SELECT sum(total) AS s FROM orders) SELECT s FROM t;
UPDATE orders SET total = 0;
SELECT ';' AS semi FROM orders;  -- a semicolon in a string
`
	w, err := ParseFile(strings.NewReader(file), PostgreSQL)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Statements) != 3 || w.Skipped != 1 {
		t.Fatalf("ParseFile = %d statements %q, %d skipped; want 3 and 1 skipped", len(w.Statements), w.Statements, w.Skipped)
	}
	if !strings.Contains(w.Statements[2], "';'") {
		t.Errorf("third statement = %q, want the one with ';' in a string", w.Statements[2])
	}
	if _, err := ParseFile(strings.NewReader("SELECT FROM WHERE;"), PostgreSQL); err == nil {
		t.Error("ParseFile accepted a file that does not parse")
	}
}

func TestPercentiles(t *testing.T) {
	r := &recorder{}
	for i := 100; i >= 1; i-- {
		r.add(Marker+" SELECT 1", time.Duration(i)*time.Millisecond, nil)
	}
	r.add(Marker+" SELECT 2", 0, errors.New("boom"))
	r.add(Marker+" SELECT 2", 0, errors.New("boom again"))
	res := r.result()
	// The slowest fifth (81-100 ms) is left out of the figures.
	want := Result{Runs: 100, Errors: 2, P50Ms: 40, P95Ms: 76, P99Ms: 80, MeanMs: 40.5}
	if res.Runs != want.Runs || res.Errors != want.Errors || res.P50Ms != want.P50Ms ||
		res.P95Ms != want.P95Ms || res.P99Ms != want.P99Ms || res.MeanMs != want.MeanMs {
		t.Errorf("result = %+v, want %+v", res, want)
	}
	if len(res.Failures) != 1 || res.Failures[0].Count != 2 || res.Failures[0].Statement != "SELECT 2" || res.Failures[0].Error != "boom" {
		t.Errorf("failures = %+v, want SELECT 2 twice, first error boom", res.Failures)
	}
	one := &recorder{}
	one.add(Marker+" SELECT 1", 3*time.Millisecond, nil)
	if r := one.result(); r.P50Ms != 3 || r.P99Ms != 3 {
		t.Errorf("single run: %+v, want every percentile 3 ms", r)
	}
}

// TestStallsLeftOut: a busy host's stalls, a run or two of some
// statements, do not move the figures; a statement slower on every run
// does.
func TestStallsLeftOut(t *testing.T) {
	record := func(slow func(stmt, run int) bool) Result {
		r := &recorder{}
		for run := range 10 {
			for stmt := range 8 {
				d := 100 * time.Microsecond
				if slow(stmt, run) {
					d = 5 * time.Millisecond
				}
				r.add(fmt.Sprintf("%s SELECT %d", Marker, stmt), d, nil)
			}
		}
		return r.result()
	}
	// Six stalls over four statements, at most two runs each: 7.5% of the
	// runs, enough to put the p95 of all runs at 5 ms.
	stalls := record(func(stmt, run int) bool { return stmt < 4 && (run == 3 || (stmt < 2 && run == 7)) })
	if stalls.P95Ms != 0.1 || stalls.Runs != 80 {
		t.Errorf("with stalls: %+v, want p95 0.1 ms over 80 runs", stalls)
	}
	slower := record(func(stmt, _ int) bool { return stmt == 5 })
	if slower.P95Ms != 5 {
		t.Errorf("one statement slower on every run: p95 %.2f ms, want 5", slower.P95Ms)
	}
}

func TestCompare(t *testing.T) {
	base := Result{Runs: 100, P95Ms: 1.2}
	cases := []struct {
		name   string
		before Result
		after  Result
		ok     bool
		reason string
	}{
		{"slower", base, Result{Runs: 100, P95Ms: 9.8}, false, "p95 1.20 ms -> 9.80 ms (8.2x, over the 1.5x limit)"},
		{"same", base, Result{Runs: 100, P95Ms: 1.3}, true, "p95 1.20 ms -> 1.30 ms (1.1x, within the 1.5x limit)"},
		{"noise under the slack", Result{Runs: 10, P95Ms: 0.05}, Result{Runs: 10, P95Ms: 0.4}, true, "(8.0x, within"},
		{"a busy host's hiccup", Result{Runs: 80, P95Ms: 0.26}, Result{Runs: 80, P95Ms: 1.95}, true, "(7.5x, within"},
		{"a scan where an index was", Result{Runs: 80, P95Ms: 0.26}, Result{Runs: 80, P95Ms: 12}, false, "over the 1.5x limit"},
		{"new errors", base, Result{Runs: 90, Errors: 10, P95Ms: 1.2}, false, "10 of 100 statements failed after the change"},
		{"errors before too", Result{Runs: 90, Errors: 10, P95Ms: 1.2}, Result{Runs: 90, Errors: 10, P95Ms: 1.2}, true, "within"},
		{"no baseline", Result{Errors: 5}, base, false, "no baseline"},
		{"nothing after", base, Result{}, false, "no statement was replayed"},
	}
	for _, c := range cases {
		ok, reason := Compare(c.before, c.after, 1.5)
		if ok != c.ok || !strings.Contains(reason, c.reason) {
			t.Errorf("%s: Compare = %v, %q; want %v and a reason with %q", c.name, ok, reason, c.ok, c.reason)
		}
	}
}

// sampleLog is a PostgreSQL stderr log with log_min_duration_statement = 0.
const sampleLog = `2024-05-01 10:00:00.100 UTC [100] LOG:  duration: 0.050 ms  statement: SELECT v FROM items WHERE k = 1
2024-05-01 10:00:01.000 UTC [100] LOG:  duration: 0.050 ms  statement: SELECT v
	FROM items
	WHERE k = 2
2024-05-01 10:00:01.100 UTC [101] LOG:  duration: 0.020 ms  parse stmtcache_1: SELECT v FROM items WHERE k = $1 AND note <> $2
2024-05-01 10:00:01.100 UTC [101] LOG:  duration: 0.020 ms  bind stmtcache_1: SELECT v FROM items WHERE k = $1 AND note <> $2
2024-05-01 10:00:01.100 UTC [101] DETAIL:  parameters: $1 = '3', $2 = 'it''s, $2 = x'
2024-05-01 10:00:01.101 UTC [101] LOG:  duration: 0.020 ms  execute stmtcache_1: SELECT v FROM items WHERE k = $1 AND note <> $2
2024-05-01 10:00:01.101 UTC [101] DETAIL:  parameters: $1 = '3', $2 = 'it''s, $2 = x'
2024-05-01 10:00:01.150 UTC [101] LOG:  duration: 0.020 ms  execute <unnamed>: SELECT '$1' FROM items WHERE k = $1
2024-05-01 10:00:01.150 UTC [101] DETAIL:  Parameters: $1 = NULL
2024-05-01 10:00:01.200 UTC [102] LOG:  duration: 0.020 ms  statement: UPDATE items SET v = 0
2024-05-01 10:00:01.300 UTC [102] LOG:  duration: 0.020 ms  statement: /* hotswap-agent replay */ SELECT v FROM items WHERE k = 9
2024-05-01 10:00:01.400 UTC [102] LOG:  duration: 0.020 ms  statement: SELECT relname FROM pg_class
2024-05-01 10:00:01.500 UTC [103] LOG:  checkpoint starting: time
2024-05-01 10:00:01.600 UTC [101] LOG:  duration: 0.020 ms  execute <unnamed>: SELECT v FROM items WHERE k = $1
2024-05-01 10:00:01.700 UTC [101] LOG:  duration: 0.020 ms  execute <unnamed>: SELECT count(*) FROM items
`

func TestCaptureLogFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "postgres.log")
	if err := os.WriteFile(path, []byte(sampleLog), 0o600); err != nil {
		t.Fatal(err)
	}
	since := time.Date(2024, 5, 1, 10, 0, 0, 500e6, time.UTC)
	w, err := CaptureLog(path, since, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"SELECT v\nFROM items\nWHERE k = 2",
		"SELECT v FROM items WHERE k = '3' AND note <> 'it''s, $2 = x'",
		"SELECT '$1' FROM items WHERE k = NULL",
		"SELECT count(*) FROM items",
	}
	if !slices.Equal(w.Statements, want) {
		t.Errorf("statements:\n%q\nwant\n%q", w.Statements, want)
	}
	// UPDATE, the replay's own, pg_class, and the execute whose $1 has no value.
	if w.Skipped != 4 {
		t.Errorf("skipped %d, want 4", w.Skipped)
	}
	last, err := CaptureLog(path, time.Time{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(last.Statements, want[2:]) {
		t.Errorf("limit 2 kept %q, want the two most recent %q", last.Statements, want[2:])
	}
	if _, err := CaptureLog(filepath.Join(t.TempDir(), "missing.log"), since, 10); err == nil {
		t.Error("CaptureLog of a missing file did not fail")
	}
}

// fakeSession records what Run sends it and times every statement 1 ms.
type fakeSession struct {
	mu   sync.Mutex
	sent []string
}

func (f *fakeSession) Ping(context.Context) error { return nil }

func (f *fakeSession) RunReadOnly(_ context.Context, stmt string, _ time.Duration) (time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, stmt)
	if strings.Contains(stmt, "fails") {
		return 0, errors.New("boom")
	}
	return time.Millisecond, nil
}

func TestRunOnSession(t *testing.T) {
	s := &fakeSession{}
	w := Workload{Statements: []string{"SELECT 1", "SELECT 'fails'", "DELETE FROM t"}}
	res, err := Run(t.Context(), s, w, Options{Iterations: 3, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Runs != 3 || res.Errors != 3 || res.Skipped != 1 || res.P95Ms != 1 {
		t.Errorf("Run = %+v; want 3 runs, 3 errors, 1 skipped, p95 1 ms", res)
	}
	// One unmeasured warm-up pass, then the three measured ones.
	if len(s.sent) != 8 {
		t.Fatalf("sent %d statements, want 8 (a warm-up pass and 3 measured; the DELETE never sent): %q", len(s.sent), s.sent)
	}
	for _, stmt := range s.sent {
		if !strings.HasPrefix(stmt, Marker+" ") || strings.Contains(stmt, "DELETE") {
			t.Errorf("sent %q: want the Marker in front and no DELETE", stmt)
		}
	}
}
