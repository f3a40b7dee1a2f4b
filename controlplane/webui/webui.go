// Package webui serves the web console at /ui/ from assets built into the
// binary (web/ holds their sources; `make ui` builds them into dist/). The
// page works offline, fetches nothing from elsewhere, and does everything
// through the public HTTP API with the user's own token, so the roles of
// the API apply unchanged.
package webui

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed dist
var dist embed.FS

// Prefix is the path the console is served under.
const Prefix = "/ui/"

// ContentSecurityPolicy is sent with every answer under /ui/: the page may
// load only its own scripts and styles and talk only to its own server; no
// inline script, no eval, no framing, no plugin. The token lives in the
// tab's sessionStorage and is sent in the Authorization header, never in a
// cookie, so there is no cross-site request to forge.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// contentTypes are the files served, by extension.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".map":  "application/json",
}

// Handler serves the console: the page at /ui/ and its files at
// /ui/assets/NAME. Anything else under /ui/ is a 404.
func Handler() http.Handler {
	files, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("webui: the embedded dist folder is missing: " + err.Error()) // a build fault, caught by the tests
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secure(w.Header())
		name := strings.TrimPrefix(r.URL.Path, Prefix)
		if name == "" || name == "index.html" {
			serveFile(w, r, files, "index.html", "no-cache")
			return
		}
		if !strings.HasPrefix(name, "assets/") || strings.Contains(name, "..") {
			http.NotFound(w, r)
			return
		}
		// Asset names carry a hash of their content: cache them for good.
		serveFile(w, r, files, name, "public, max-age=31536000, immutable")
	})
}

// secure sets the headers every answer under /ui/ carries.
func secure(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

func serveFile(w http.ResponseWriter, r *http.Request, files fs.FS, name, cache string) {
	ctype, ok := contentTypes[path.Ext(name)]
	if !ok {
		http.NotFound(w, r)
		return
	}
	raw, err := fs.ReadFile(files, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", cache)
	_, _ = w.Write(raw)
}
