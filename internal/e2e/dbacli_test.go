package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	wire "github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// cliResult is one run of the hotswap program.
type cliResult struct {
	stdout, stderr string
	code           int
}

// lockedBuffer is a buffer a running program writes while a test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// cli runs the hotswap program against the bed's server.
func (b *bed) cli(ctx context.Context, args ...string) cliResult {
	b.t.Helper()
	return b.cliTo(ctx, &lockedBuffer{}, args...)
}

// cliTo is cli writing its standard output to out as it runs.
func (b *bed) cliTo(ctx context.Context, out *lockedBuffer, args ...string) cliResult {
	b.t.Helper()
	cmd := exec.CommandContext(ctx, bins.CLI, append([]string{"--address", b.srv.URL(), "--token", b.api.token}, args...)...)
	var errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		b.t.Fatalf("run hotswap %v: %v", args, err)
	}
	return cliResult{stdout: out.String(), stderr: errOut.String(), code: cmd.ProcessState.ExitCode()}
}

// TestDBACLI uses the CLI as a DBA would on a real database: -o json holds
// what the API answers (live counters included), the plan says what each
// statement does to the table, a watch exits 0 once the rollback someone
// asked for succeeded, and a database with finished migrations can go.
func TestDBACLI(t *testing.T) {
	b := newBed(t)
	ctx := context.Background()
	eventually(t, 30*time.Second, "live counters in the database's health", func() bool {
		var h wire.DatabaseHealth
		b.api.must(http.StatusOK, "GET", "/api/v1/databases/app/health", nil).decode(t, &h)
		return len(h.Instances) == 1 && h.Instances[0].Counters != nil
	})
	r := b.cli(ctx, "-o", "json", "database", "health", "app")
	raw := b.api.must(http.StatusOK, "GET", "/api/v1/databases/app/health", nil)
	if got, want := jsonKeys(t, []byte(r.stdout)), jsonKeys(t, raw.Body); r.code != 0 || got != want {
		t.Errorf("database health -o json (exit %d) holds\n%s\nwant the API's fields\n%s", r.code, got, want)
	}
	if !strings.Contains(r.stdout, `"counters"`) || !strings.Contains(r.stdout, `"tps"`) {
		t.Errorf("database health -o json has no counters:\n%s", r.stdout)
	}

	checkPlan(t, b)
	checkWatchRollback(t, b)

	del := b.cli(ctx, "database", "delete", "app")
	if del.code != 1 || !strings.Contains(del.stderr, "--force") {
		t.Errorf("database delete of a database with migrations: exit %d, stderr %q; want 1 and a pointer to --force", del.code, del.stderr)
	}
	del = b.cli(ctx, "database", "delete", "app", "--force")
	if del.code != 0 || !strings.Contains(del.stdout, "with its migrations and their executions") {
		t.Fatalf("database delete --force: exit %d\n%s%s", del.code, del.stdout, del.stderr)
	}
	if r := b.api.do("GET", "/api/v1/migrations/plan_me", nil); r.Status != http.StatusNotFound {
		t.Errorf("migration of the deleted database = %d, want 404", r.Status)
	}
}

// checkPlan: the plan shows each statement's lock, transaction, work and an
// estimate from the live table's size.
func checkPlan(t *testing.T, b *bed) {
	b.migration("plan_me", "ALTER TABLE accounts ADD COLUMN note text; "+
		"CREATE INDEX CONCURRENTLY accounts_balance ON accounts (balance); "+
		"ALTER TABLE accounts ALTER COLUMN balance TYPE bigint;", "SELECT 1;")
	r := b.cli(context.Background(), "-o", "json", "migration", "plan", "plan_me")
	var out struct {
		wire.PlanResponse
		Statements []wire.StatementReport `json:"statements"`
		Live       bool                   `json:"live"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 0 {
		t.Fatalf("migration plan -o json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if !out.Live || len(out.Statements) != 3 || len(out.Plan.Steps) == 0 {
		t.Fatalf("plan = live %v, %d statements, %d steps; want the live catalog, 3 statements\n%s", out.Live,
			len(out.Statements), len(out.Plan.Steps), r.stdout)
	}
	build, rewrite := out.Statements[1], out.Statements[2]
	if build.Work != "build" || build.InTransaction || build.TableBytes <= 0 || build.EstimatedSeconds < 0 {
		t.Errorf("CREATE INDEX CONCURRENTLY = %+v, want a build outside a transaction with the table's size and an estimate", build)
	}
	if rewrite.Work != "rewrite" || rewrite.Lock != "ACCESS EXCLUSIVE" || rewrite.TableRows <= 0 {
		t.Errorf("ALTER COLUMN TYPE = %+v, want a rewrite under ACCESS EXCLUSIVE on the sized table", rewrite)
	}
	text := b.cli(context.Background(), "migration", "plan", "plan_me").stdout
	for _, want := range []string{"LOCK", "IN TX", "WORK", "EST. DURATION", "ACCESS EXCLUSIVE", "rewrite", "build", "(estimate)",
		"Not in one transaction: CREATE INDEX CONCURRENTLY (statement 2) cannot run in a transaction block"} {
		if !strings.Contains(text, want) {
			t.Errorf("migration plan does not show %q:\n%s", want, text)
		}
	}
}

// checkWatchRollback: a watch by short id counts the monitor window down
// and exits 0 when the rollback asked for during it succeeds.
func checkWatchRollback(t *testing.T, b *bed) {
	mig := b.migration("watch_me", "CREATE TABLE watched (id int);", "DROP TABLE watched;")
	exec := b.execute(mig, map[string]any{"monitoring": map[string]any{"monitorWindowSeconds": 120}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	done := make(chan cliResult, 1)
	out := &lockedBuffer{}
	go func() {
		done <- b.cliTo(ctx, out, "execution", "watch", strings.TrimPrefix(exec, "exec-")[:8], "--interval", "200ms")
	}()
	eventually(t, 90*time.Second, "the watch to count the monitor window down", func() bool {
		return strings.Contains(out.String(), "monitor window: ")
	})
	b.api.do("POST", "/api/v1/migrations/"+mig+"/executions/"+exec+"/rollback", map[string]string{"reason": "checking the watch"})
	var r cliResult
	select {
	case r = <-done:
	case <-ctx.Done():
		t.Fatal("the watch did not end after the rollback")
	}
	if r.code != 0 {
		t.Errorf("watch of a rollback asked for: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"monitor window: ", " left (until ", "rolled back as ", "the rollback succeeded"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the watch does not say %q:\n%s", want, r.stdout)
		}
	}
	if e := b.execution(mig, exec); e.Status != domain.ExecutionRolledBack || b.hasColumn("watched", "id") {
		t.Errorf("after the rollback: %s, table watched still there: %v", e.Status, b.hasColumn("watched", "id"))
	}
}

// jsonKeys lists every key path of a JSON document, arrays merged, sorted.
func jsonKeys(t *testing.T, doc []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, doc)
	}
	set := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				set[prefix+"."+k] = true
				walk(prefix+"."+k, c)
			}
		case []any:
			for _, c := range x {
				walk(prefix+"[]", c)
			}
		}
	}
	walk("", v)
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, "\n")
}
