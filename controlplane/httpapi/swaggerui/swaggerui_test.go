package swaggerui_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/controlplane/httpapi/swaggerui"
)

func get(t *testing.T, path, encoding string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	rec := httptest.NewRecorder()
	swaggerui.Handler().ServeHTTP(rec, req)
	return rec
}

var assetRef = regexp.MustCompile(`(?:src|href)="([^"]+)"`)

// TestPageLoadsOnlyEmbeddedAssets serves the page and every file it
// refers to, and checks none is fetched from elsewhere.
func TestPageLoadsOnlyEmbeddedAssets(t *testing.T) {
	page := get(t, "/swagger", "")
	if page.Code != http.StatusOK || !strings.HasPrefix(page.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /swagger = %d %s, want the HTML page", page.Code, page.Header().Get("Content-Type"))
	}
	refs := assetRef.FindAllStringSubmatch(page.Body.String(), -1)
	if len(refs) < 3 {
		t.Fatalf("the page refers to %d files, want the bundle, its stylesheet and the start script", len(refs))
	}
	for _, m := range refs {
		ref := m[1]
		if !strings.HasPrefix(ref, "/swagger/") {
			t.Errorf("the page loads %q, which is not one of its own files", ref)
			continue
		}
		plain := get(t, ref, "")
		if plain.Code != http.StatusOK || plain.Body.Len() < 100 || plain.Header().Get("Content-Encoding") != "" {
			t.Errorf("GET %s = %d, %d bytes, encoding %q; want the file", ref, plain.Code, plain.Body.Len(),
				plain.Header().Get("Content-Encoding"))
		}
		if strings.Contains(plain.Body.String(), "url: \"http") {
			t.Errorf("%s points Swagger UI at another server", ref)
		}
		zipped := get(t, ref, "gzip, br")
		body := zipped.Body.Bytes()
		if zipped.Header().Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("GET %s (gzip): %v", ref, err)
			}
			body, _ = io.ReadAll(zr)
		}
		if !bytes.Equal(body, plain.Body.Bytes()) {
			t.Errorf("GET %s: the gzip answer differs from the plain one", ref)
		}
	}
}

func TestUnknownFilesAre404(t *testing.T) {
	for _, p := range []string{"/swagger/nothing.js", "/swagger/LICENSE", "/swagger/../docs.go"} {
		if rec := get(t, p, ""); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, rec.Code)
		}
	}
}
