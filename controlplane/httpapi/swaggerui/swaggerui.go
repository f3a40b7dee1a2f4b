// Package swaggerui serves Swagger UI over the server's OpenAPI description
// (/openapi.json) at /swagger, from assets embedded in the binary: the page
// works offline, with nothing fetched from a CDN.
package swaggerui

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io"
	"net/http"
	"path"
	"strings"
)

//go:embed assets
var assets embed.FS

// contentType is the type of a file served, by its extension; false for
// a file that is not served.
func contentType(ext string) (string, bool) {
	switch ext {
	case ".html":
		return "text/html; charset=utf-8", true
	case ".js":
		return "text/javascript; charset=utf-8", true
	case ".css":
		return "text/css; charset=utf-8", true
	}
	return "", false
}

// Handler serves the page at /swagger and its files at /swagger/NAME.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/swagger"), "/")
		if name == "" {
			name = "index.html"
		}
		serve(w, r, name)
	})
}

// serve writes one asset; a file kept compressed (NAME.gz) is sent as is to
// a client that accepts gzip, and decompressed for one that does not.
func serve(w http.ResponseWriter, r *http.Request, name string) {
	ctype, known := contentType(path.Ext(name))
	if !known || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	if raw, err := assets.ReadFile("assets/" + name); err == nil {
		_, _ = w.Write(raw)
		return
	}
	gz, err := assets.ReadFile("assets/" + name + ".gz")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Vary", "Accept-Encoding")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(gz)
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		http.Error(w, "corrupt asset "+name, http.StatusInternalServerError)
		return
	}
	_, _ = io.Copy(w, zr)
}
