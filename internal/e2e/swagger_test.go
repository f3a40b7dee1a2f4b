package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotswap-db/hotswap/internal/testbed"
)

// TestSwaggerInBrowser opens /swagger in headless Chromium on a real server:
// every operation of /openapi.json is listed, nothing is fetched from
// another host, and "Try it out" with the bootstrap token calls the live API
// and shows its answer. Screenshots go to the test's output folder.
func TestSwaggerInBrowser(t *testing.T) {
	bin := requireChromium(t)
	srv := testbed.StartServer(t, bins, testbed.ServerOptions{})
	client := newAPI(t, srv, token(t, srv), nil)
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	client.must(http.StatusOK, "GET", "/openapi.json", nil).decode(t, &doc)
	operations := 0
	for _, methods := range doc.Paths {
		operations += len(methods)
	}
	if operations < 50 {
		t.Fatalf("/openapi.json lists %d operations; the API has many more", operations)
	}

	br := newBrowser(t, bin, srv.URL())
	br.run("open /swagger", chromedp.Navigate(srv.URL()+"/swagger"))
	br.waitFor(90*time.Second, fmt.Sprintf("all %d operations listed", operations),
		fmt.Sprintf(`document.querySelectorAll(".opblock").length === %d`, operations))
	br.shot("01-swagger")
	var foreign []string
	if err := br.eval(fmt.Sprintf(`performance.getEntriesByType("resource").map(e => e.name).filter(n => !n.startsWith(%q))`,
		srv.URL()), &foreign); err != nil {
		t.Fatal(err)
	}
	if len(foreign) > 0 {
		t.Errorf("/swagger fetched from other hosts: %v", foreign)
	}

	// Authorize with the token, then try GET /api/v1/cluster: the live
	// answer names this server.
	br.run("authorize", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`ui.preauthorizeApiKey("bearer", %q)`, client.token)))
	const op = `[id^="operations-"][id$="-ClusterStatus"]`
	br.waitFor(60*time.Second, "the cluster status operation", fmt.Sprintf(`document.querySelector(%q)`, op))
	br.run("try the cluster status", chromedp.Click(op+` .opblock-summary-control`),
		chromedp.WaitVisible(op+` .try-out__btn`), chromedp.Click(op+` .try-out__btn`),
		chromedp.Click(op+` .execute`))
	br.waitFor(90*time.Second, "a 200 answer naming the leader",
		fmt.Sprintf(`[...document.querySelectorAll(%q)].some(e => e.innerText.includes("200")) && `+
			`document.querySelector(%q).innerText.includes("leader")`, op+` .live-responses-table .response-col_status`, op+` .live-responses-table`))
	br.shot("02-swagger-try-it-out")
}
