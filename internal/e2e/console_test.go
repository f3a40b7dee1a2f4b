package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	wire "github.com/hotswap-db/hotswap/internal/api"
)

// chromium finds a Chromium (or Chrome) binary: $HOTSWAP_CHROMIUM, else the
// usual names on PATH.
func chromium() string {
	if p := os.Getenv("HOTSWAP_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// artifacts is the folder the screenshots go to: $HOTSWAP_TEST_ARTIFACTS
// when set, else the test's own temporary folder.
func artifacts(t *testing.T) string {
	dir := os.Getenv("HOTSWAP_TEST_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is one headless Chromium tab on the console of a server.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
}

// requireChromium returns the browser binary; without one the test is
// skipped, unless CI is set: there a missing browser is a failure.
func requireChromium(t *testing.T) string {
	t.Helper()
	bin := chromium()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Chromium binary found (install Debian's chromium: scripts/install-deps.sh), and CI is set")
		}
		t.Skip("no Chromium binary found (chromium, chromium-browser, google-chrome or $HOTSWAP_CHROMIUM): " +
			"install it with scripts/install-deps.sh to run the console test")
	}
	return bin
}

func newBrowser(t *testing.T, bin, base string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 1000), chromedp.Flag("disable-gpu", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	b := &browser{t: t, ctx: ctx, base: base, dir: artifacts(t)}
	t.Logf("console screenshots: %s", b.dir)
	return b
}

func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) into out.
func (b *browser) eval(expr string, out any) error {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// waitFor polls a JavaScript condition in the page until it holds.
func (b *browser) waitFor(timeout time.Duration, what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		err := b.eval("!!("+cond+")", &ok)
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			var text string
			_ = b.eval("document.body.innerText", &text)
			b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
			b.t.Fatalf("timed out after %s waiting for %s (%v); the page says:\n%s", timeout, what, err, tailString(text, 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// text is the text of every element matching a selector, joined.
func text(sel string) string {
	return fmt.Sprintf("[...document.querySelectorAll(%q)].map(e => e.innerText).join('\\n')", sel)
}

// shot saves a screenshot of the whole page.
func (b *browser) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(b.dir, name+".png"), png, 0o644); err != nil {
		b.t.Errorf("save screenshot %s: %v", name, err)
	}
}

func (b *browser) open(hash string) {
	b.t.Helper()
	b.run("open "+hash, chromedp.Navigate(b.base+"/ui/"+hash))
}

// login signs in through the form and waits for the console.
func (b *browser) login(user, password string) {
	b.t.Helper()
	b.open("#/databases")
	b.run("sign in as "+user, chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, user), chromedp.SendKeys(`input[name=password]`, password),
		chromedp.Click(`[data-test=sign-in]`))
	b.waitFor(20*time.Second, "signed in as "+user, text("[data-test=who]")+fmt.Sprintf(".includes(%q)", user))
}

func (b *browser) logout() {
	b.t.Helper()
	b.run("sign out", chromedp.Evaluate[chromedp.Void](`sessionStorage.clear()`), chromedp.Navigate("about:blank"))
}

// TestConsole drives the web console in headless Chromium against a real
// server, agent and PostgreSQL: a DBA signs in, sees the database and its
// health, reviews a migration's findings, approves it, executes it and
// watches it succeed live, reads a rolled-back execution's decision and the
// audit log; a Viewer sees no action button and a forged action is refused.
func TestConsole(t *testing.T) {
	bin := requireChromium(t)
	bd := newBed(t)
	const password = "console passphrase, long enough"
	for user, role := range map[string]string{"dana": "DBA", "vic": "Viewer"} {
		bd.api.must(http.StatusCreated, "POST", "/api/v1/users", map[string]any{"username": user, "password": password, "role": role})
	}
	mig := bd.migration("add_note", "ALTER TABLE accounts ADD COLUMN note text;\nCREATE INDEX accounts_note ON accounts (note);",
		"DROP INDEX IF EXISTS accounts_note;\nALTER TABLE accounts DROP COLUMN IF EXISTS note;")
	br := newBrowser(t, bin, bd.srv.URL())

	// The DBA signs in and finds the database, healthy, its agent connected.
	br.login("dana", password)
	br.waitFor(20*time.Second, "database app, healthy, agent connected",
		text("[data-test=database]")+`.includes("app") && `+text("[data-test=database] [data-test=badge]")+`.includes("healthy") && `+
			text("[data-test=instance]")+`.includes("pg-host/main") && `+text("[data-test=agent]")+`.includes("connected")`)
	br.shot("01-databases")

	br.open("#/migrations")
	br.waitFor(20*time.Second, "the migration in the list", text("[data-test=migration-row]")+`.includes("add_note")`)
	br.shot("02-migrations")

	// The migration's finding sits under line 2, with its rewrite.
	br.open("#/migrations/" + mig)
	br.waitFor(20*time.Second, "the index finding on line 2",
		`document.querySelector("[data-test=forward-script] [data-test=finding][data-line='2']")?.innerText.includes("require-concurrent-index-creation")`)
	br.waitFor(20*time.Second, "the rewrite, risk and plan", text("[data-test=rewrite]")+`.includes("CONCURRENTLY") && `+
		text("[data-test=risk]")+`.includes("Medium") && `+text("[data-test=plan-phase]")+`.includes("pg-host/main")`)
	br.waitFor(20*time.Second, "approvals pending", text("[data-test=approval-status]")+`.includes("0 of 1")`)
	br.shot("03-migration")

	// The DBA (not the author) approves it in the page, then executes it and
	// watches the live view reach Succeeded.
	br.run("approve", chromedp.SendKeys(`[data-test=approval-notes]`, "index is small"), chromedp.Click(`[data-test=approve]`))
	br.waitFor(20*time.Second, "the approval recorded", text("[data-test=approval-status]")+`.includes("1 of 1") && `+
		text("[data-test=decision]")+`.includes("dana")`)
	br.shot("04-approved")
	br.run("execute", chromedp.Click(`[data-test=execute]`))
	br.waitFor(20*time.Second, "the live view", `location.hash.startsWith("#/executions/") && `+text("[data-test=live]")+`.includes("live")`)
	br.waitFor(60*time.Second, "the execution to succeed, live", text("[data-test=execution-status]")+`.includes("Succeeded")`)
	br.waitFor(10*time.Second, "its steps and log", text("[data-test=step]")+`.includes("Succeeded") && document.querySelectorAll("[data-test=logline]").length > 0`)
	if !bd.hasColumn("accounts", "note") {
		t.Fatal("the console says Succeeded but the column is not there")
	}
	br.shot("05-execution-succeeded")
	br.checkChartRange("the succeeded execution")

	// An execution the guard rolled back: its decision and reason.
	rolled := lockWaitRollback(t, bd)
	br.open("#/executions/" + rolled.mig + "/" + rolled.exec)
	br.waitFor(30*time.Second, "the rollback decision", text("[data-test=execution-status]")+`.includes("RolledBack") && `+
		text("[data-test=decisions] [data-test=decision]")+`.includes("lock wait") && `+text("[data-test=rollback-reason]")+`.includes("lock wait")`)
	br.shot("06-execution-rolled-back")
	br.checkChartRange("the rolled-back execution")

	br.readAuditLog(mig)
	br.onAPhone(mig, rolled)

	// A Viewer sees the same pages without a single action button, and an
	// action forged with their token is refused by the API.
	br.logout()
	br.login("vic", password)
	br.open("#/migrations/" + mig)
	br.waitFor(20*time.Second, "the migration as a Viewer", text("[data-test=approval-status]")+`.includes("1 of 1") && `+
		`document.querySelectorAll("[data-test=execution-row]").length > 0`)
	if n := br.count("[data-action]"); n != 0 {
		t.Errorf("a Viewer sees %d action buttons on the migration page", n)
	}
	br.shot("08-viewer-migration")
	br.open("#/executions/" + rolled.mig + "/" + rolled.exec)
	br.waitFor(20*time.Second, "the execution as a Viewer", text("[data-test=execution-status]")+`.includes("RolledBack")`)
	if n := br.count("[data-action]"); n != 0 || br.count("[data-test=execution-actions]") != 0 {
		t.Errorf("a Viewer sees %d action buttons on the execution page", n)
	}
	if br.count(`a[href="#/audit"]`) != 0 {
		t.Error("a Viewer is offered the audit log, which the API refuses them")
	}
	br.shot("09-viewer-execution")
	var forged struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
	}
	if err := br.eval(fmt.Sprintf(`(async () => {
		const s = JSON.parse(sessionStorage.getItem("hotswap.session"));
		const r = await fetch("/api/v1/migrations/%s/executions/%s/rollback", {method: "POST",
			headers: {"Authorization": "Bearer " + s.token, "Content-Type": "application/json"}, body: JSON.stringify({reason: "forged"})});
		return {status: r.status, code: (await r.json()).error.code};
	})()`, mig, executionOf(t, bd, mig)), &forged); err != nil {
		t.Fatalf("forge a rollback: %v", err)
	}
	if forged.Status != http.StatusForbidden {
		t.Errorf("a Viewer's forged rollback = %d %s, want 403", forged.Status, forged.Code)
	}
	if !bd.hasColumn("accounts", "note") {
		t.Error("the forged rollback changed the schema")
	}
}

func (b *browser) count(sel string) int {
	b.t.Helper()
	var n int
	if err := b.eval(fmt.Sprintf("document.querySelectorAll(%q).length", sel), &n); err != nil {
		b.t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

// executionOf is the migration's one succeeded execution.
func executionOf(t *testing.T, bd *bed, mig string) string {
	t.Helper()
	var list wire.ExecutionList
	bd.api.must(http.StatusOK, "GET", "/api/v1/migrations/"+mig+"/executions", nil).decode(t, &list)
	for _, e := range list.Executions {
		if e.Status == "Succeeded" && !e.DryRun {
			return e.ExecutionID
		}
	}
	raw, _ := json.Marshal(list)
	t.Fatalf("no succeeded execution of %s: %s", mig, raw)
	return ""
}

type migExec struct{ mig, exec string }

// lockWaitRollback runs a migration that waits in the lock queue behind a
// long reader while the application queues behind it, so the guard rolls
// it back for the lock waits (as TestRollbackOnLockWait does).
func lockWaitRollback(t *testing.T, bd *bed) migExec {
	t.Helper()
	stop := bd.load(2, "UPDATE accounts SET balance = balance + 1 WHERE id = $1", func(i int) []any { return []any{i%1000 + 1} })
	defer stop()
	bd.waitBaseline()
	reader := bd.conn()
	readCtx, stopReading := context.WithCancel(context.Background())
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		_, _ = reader.Exec(readCtx, "SELECT pg_sleep(60) FROM accounts LIMIT 1")
	}()
	defer func() { stopReading(); <-readDone; reader.Close(context.Background()) }()
	eventually(t, 10*time.Second, "the reader to hold its lock", func() bool {
		return bd.query(`SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND state = 'active'`).(int64) == 1
	})
	mig := bd.migration("stuck_alter", "ALTER TABLE accounts ADD COLUMN stuck int;", "ALTER TABLE accounts DROP COLUMN IF EXISTS stuck;")
	body := monitored(map[string]any{"thresholds": map[string]any{"lockWaitMs": 1500}})
	body["lockTimeoutMs"] = 15000
	e := bd.waitTerminal(mig, bd.execute(mig, body), 40*time.Second)
	if e.Status != "RolledBack" || len(e.Decisions) == 0 {
		t.Fatalf("execution = %s with %d decisions, want RolledBack by a decision\n%s", e.Status, len(e.Decisions), logText(e))
	}
	return migExec{mig: mig, exec: e.ExecutionID}
}
