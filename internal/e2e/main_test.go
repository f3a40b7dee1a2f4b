// Package e2e holds end-to-end tests: real hotswapd servers, real agents and
// real PostgreSQL servers started by the test bed, over real HTTP and gRPC.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	wire "github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// bins are the programs built once for every test of this package.
var bins testbed.Binaries

func TestMain(m *testing.M) { os.Exit(testbed.MainWithBinaries(m, &bins)) }

// api is a raw HTTP client of one server that keeps every response body, so
// a test can scan them all for secrets.
type api struct {
	t     *testing.T
	base  string
	token string
	rec   *recorder
	hc    *http.Client // HTTPS trusting the bed's CA for a TLS server
}

type recorder struct {
	mu     sync.Mutex
	bodies []string
}

func (r *recorder) add(b string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, b)
}

func (r *recorder) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.bodies, "\n")
}

func newAPI(t *testing.T, s *testbed.Server, token string, rec *recorder) *api {
	if rec == nil {
		rec = &recorder{}
	}
	return &api{t: t, base: s.URL(), token: token, rec: rec, hc: s.HTTPClient()}
}

// response is one answer of the API.
type response struct {
	Status int
	Body   []byte
}

// decode unmarshals the body into v or fails the test.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// errorCode returns the error code of an error answer.
func (r response) errorCode() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

func (a *api) raw(method, path string, body []byte, token string) response {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a.rec.add(string(b))
	return response{Status: resp.StatusCode, Body: b}
}

// do sends v as JSON with the api's token.
func (a *api) do(method, path string, v any) response {
	a.t.Helper()
	var body []byte
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			a.t.Fatal(err)
		}
	}
	return a.raw(method, path, body, a.token)
}

// must sends v and fails the test unless the status is want.
func (a *api) must(want int, method, path string, v any) response {
	a.t.Helper()
	r := a.do(method, path, v)
	if r.Status != want {
		a.t.Fatalf("%s %s = %d %s, want %d", method, path, r.Status, r.Body, want)
	}
	return r
}

// eventually polls cond until it is true or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// token waits for a server's bootstrap token.
func token(t *testing.T, s *testbed.Server) string {
	t.Helper()
	tok, err := s.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// agent is the agent called name as the answering server shows it, with
// its instances; ok is false when it cannot be read.
func (a *api) agent(name string) (wire.AgentView, bool) {
	a.t.Helper()
	var v wire.AgentView
	r := a.do("GET", "/api/v1/agents/"+url.PathEscape(name), nil)
	if r.Status != http.StatusOK {
		return v, false
	}
	r.decode(a.t, &v)
	return v, true
}

func readFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}
