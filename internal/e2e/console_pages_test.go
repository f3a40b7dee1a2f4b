package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// checkChartRange reads the time range the counter chart drew: at least a
// minute wide, and no wider than the samples (or that minute), so one
// sample never makes an axis that spans days or years.
func (b *browser) checkChartRange(what string) {
	b.t.Helper()
	b.waitFor(20*time.Second, "the chart of "+what, `document.querySelector("[data-test=chart]")?.dataset.xMax`)
	var r struct{ Min, Max, First, Last, Points float64 }
	if err := b.eval(`(() => { const d = document.querySelector("[data-test=chart]").dataset;
		return {Min: +d.xMin, Max: +d.xMax, First: +d.first, Last: +d.last, Points: +d.points}; })()`, &r); err != nil {
		b.t.Fatalf("read the chart range: %v", err)
	}
	span, samples := r.Max-r.Min, r.Last-r.First
	b.t.Logf("chart of %s: %.0f points over %.1f s, drawn over %.1f s", what, r.Points, samples, span)
	if span < 59.9 || span > max(60, samples)+1 || r.Min > r.First || r.Max < r.Last {
		b.t.Errorf("chart of %s: x from %.1f to %.1f (%.1f s) for samples from %.1f to %.1f; want the samples, at least 60 s wide and no wider",
			what, r.Min, r.Max, span, r.First, r.Last)
	}
}

// readAuditLog reads the audit log as a new user would: the chain is
// intact, a search by user, by event type and by migration each finds
// only what it asks for, and the CSV export downloads (fetched with the
// session's token, no token in a URL) with the entries searched for.
func (b *browser) readAuditLog(mig string) {
	b.t.Helper()
	b.open("#/audit")
	b.waitFor(20*time.Second, "the audit log", text("[data-test=audit-entry]")+`.includes("dana") && `+text("[data-test=audit-chain]")+`.includes("intact")`)
	b.searchAudit("audit-user", "dana", "only dana's entries", `e.children[2].innerText === "dana"`)
	b.shot("07-audit-by-user")
	b.searchAudit("audit-type", "decide_migration", "only approvals", `e.children[5].innerText === "decide_migration"`)
	b.searchAudit("audit-migration", mig, "only the migration's entries",
		fmt.Sprintf(`e.children[6].innerText === %q || e.children[6].innerText.startsWith("exec-")`, mig))
	b.waitFor(5*time.Second, "the approval among them", text("[data-test=audit-entry]")+`.includes("decide_migration")`)
	b.shot("07-audit-by-migration")

	dir := b.t.TempDir()
	b.run("allow downloads", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir})
		return err
	}), chromedp.Click(`[data-test=export-csv]`))
	file := filepath.Join(dir, "hotswap-audit.csv")
	var csv []byte
	eventually(b.t, 20*time.Second, "the CSV export to download", func() bool {
		var err error
		csv, err = os.ReadFile(file)
		return err == nil && strings.HasSuffix(string(csv), "\n")
	})
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if !strings.HasPrefix(lines[0], "seq,index,at,actor") || len(lines) < 3 || !strings.Contains(string(csv), "decide_migration") {
		b.t.Errorf("the downloaded export = %q, want a header and the migration's entries", csv)
	}
	for _, l := range lines[1:] {
		if strings.Contains(l, "login,") {
			b.t.Errorf("the export of migration %s holds a login, which the search left out: %s", mig, l)
		}
	}
	var tokenInURL bool
	if err := b.eval(`performance.getEntriesByType("resource").some(e => /token|Bearer/i.test(e.name))`, &tokenInURL); err != nil || tokenInURL {
		b.t.Errorf("a request carried a token in its URL (%v)", err)
	}
	b.shot("07-audit-exported")
}

// searchAudit types value into a filter alone and waits until every row
// shown satisfies row (a JavaScript condition on e, the row).
func (b *browser) searchAudit(field, value, what, row string) {
	b.t.Helper()
	b.run("search the audit log by "+field, chromedp.Click(`[data-test=audit-clear]`),
		chromedp.SendKeys(`[data-test=`+field+`]`, value), chromedp.Click(`[data-test=audit-search]`))
	b.waitFor(20*time.Second, what, `(() => { const rows = [...document.querySelectorAll("[data-test=audit-entry]")];
		return rows.length > 0 && rows.every(e => `+row+`); })()`)
}

// onAPhone shows each page at a phone's size (390x844): nothing scrolls
// sideways, and every action button can be reached on the screen.
func (b *browser) onAPhone(mig string, rolled migExec) {
	b.t.Helper()
	b.run("a phone's screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	defer b.run("a desktop screen", chromedp.EmulateViewport(1280, 1000))
	pages := []struct{ name, hash, ready string }{
		{"databases", "#/databases", text("[data-test=database]") + `.includes("app")`},
		{"migrations", "#/migrations", text("[data-test=migration-row]") + `.includes("add_note")`},
		{"migration", "#/migrations/" + mig, text("[data-test=approval-status]") + `.includes("1 of 1")`},
		{"execution", "#/executions/" + rolled.mig + "/" + rolled.exec, text("[data-test=execution-status]") + `.includes("RolledBack")`},
		{"audit", "#/audit", `document.querySelectorAll("[data-test=audit-entry]").length > 0`},
	}
	for i, p := range pages {
		b.open(p.hash)
		b.waitFor(20*time.Second, "the "+p.name+" page on a phone", p.ready)
		b.shot(fmt.Sprintf("10-phone-%d-%s", i+1, p.name))
		var got struct {
			Scroll, Width float64
			Buttons       int
			Unreachable   []string
		}
		if err := b.eval(`(() => {
			const w = innerWidth, buttons = [...document.querySelectorAll("button, [data-action]")];
			const out = buttons.filter(e => { e.scrollIntoView({block: "center"}); const r = e.getBoundingClientRect();
				return e.offsetParent === null || r.width === 0 || r.left < 0 || r.right > w; })
				.map(e => (e.dataset.test || e.innerText) + " at " + Math.round(e.getBoundingClientRect().left) + "+" + Math.round(e.getBoundingClientRect().width));
			scrollTo(0, 0);
			return {Scroll: document.scrollingElement.scrollWidth, Width: w, Buttons: buttons.length, Unreachable: out};
		})()`, &got); err != nil {
			b.t.Fatalf("measure the %s page: %v", p.name, err)
		}
		if got.Scroll > got.Width {
			b.t.Errorf("on a phone the %s page is %.0f px wide for a %.0f px screen: it scrolls sideways", p.name, got.Scroll, got.Width)
		}
		if len(got.Unreachable) > 0 {
			b.t.Errorf("on a phone the %s page has buttons off the screen or hidden: %v", p.name, got.Unreachable)
		}
		if p.name == "migration" && got.Buttons < 2 {
			b.t.Errorf("on a phone the migration page shows %d buttons, want its actions", got.Buttons)
		}
	}
}
