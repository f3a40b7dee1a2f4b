package webui_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/controlplane/webui"
)

func get(t *testing.T, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	webui.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

var assetRef = regexp.MustCompile(`(?:src|href)="([^"]+)"`)

// TestPageLoadsOnlyEmbeddedAssets serves the page and every file it names:
// each is one of the console's own, served with the strict policy.
func TestPageLoadsOnlyEmbeddedAssets(t *testing.T) {
	page := get(t, "/ui/")
	if page.Code != http.StatusOK || !strings.HasPrefix(page.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /ui/ = %d %s, want the HTML page", page.Code, page.Header().Get("Content-Type"))
	}
	refs := assetRef.FindAllStringSubmatch(page.Body.String(), -1)
	if len(refs) < 2 {
		t.Fatalf("the page names %d files, want its script and stylesheet (run make ui?)", len(refs))
	}
	for _, m := range refs {
		ref := m[1]
		if !strings.HasPrefix(ref, "/ui/assets/") {
			t.Errorf("the page loads %q, which is not one of its own files", ref)
			continue
		}
		rec := get(t, ref)
		if rec.Code != http.StatusOK || rec.Body.Len() < 100 {
			t.Errorf("GET %s = %d, %d bytes; want the file", ref, rec.Code, rec.Body.Len())
		}
		if body := rec.Body.String(); strings.Contains(body, "https://") && strings.Contains(body, "fetch(\"http") {
			t.Errorf("%s fetches from another server", ref)
		}
	}
	if strings.Contains(page.Body.String(), "<script>") {
		t.Error("the page has an inline script, which its policy refuses")
	}
}

func TestStrictPolicyOnEveryAnswer(t *testing.T) {
	for _, p := range []string{"/ui/", "/ui/index.html", "/ui/nothing", "/ui/assets/none.js"} {
		h := get(t, p).Header()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-") {
			t.Errorf("GET %s: the policy allows %q", p, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", p)
		}
	}
}

func TestUnknownFilesAre404(t *testing.T) {
	for _, p := range []string{"/ui/nothing", "/ui/assets/none.js", "/ui/assets/../webui.go", "/ui/assets/x.exe"} {
		if rec := get(t, p); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, rec.Code)
		}
	}
}
