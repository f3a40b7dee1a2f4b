// Package api is the wire contract of the HotSwap HTTP API (/api/v1 on any
// hotswapd server): its request and response types, its error format and a
// typed client of every endpoint. The server (controlplane/httpapi), the
// CLI, the benchmarks, the demo and the tests all use these declarations,
// so the two ends cannot drift. It imports no program package: what a
// request or response shares with the rest of the system is a domain type.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxResponseBytes bounds a response body: a migration carries two scripts
// of up to 10 MB each.
const maxResponseBytes = 64 << 20

// Client calls the HTTP API of a HotSwap control plane. Any server of the
// cluster will do: servers forward writes to the leader themselves.
type Client struct {
	base      *url.URL
	baseErr   error
	token     string
	http      *http.Client
	userAgent string
	// retryFor bounds the resending of 503 answers (WithUnavailableRetry).
	retryFor  time.Duration
	retryNote func(err error, wait time.Duration)
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests through hc.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.http = hc }
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// New returns a client of the server at addr, which is "host:port" (plain
// HTTP) or a URL such as "https://hotswap.example.com". token is an API
// token sent as "Authorization: Bearer TOKEN"; empty sends no header.
// An invalid addr is reported by every call, not here.
func New(addr, token string, opts ...Option) *Client {
	c := &Client{token: token, http: &http.Client{Timeout: 2 * time.Minute}, userAgent: "hotswap-client"}
	c.base, c.baseErr = ParseAddress(addr)
	for _, o := range opts {
		o(c)
	}
	return c
}

// ParseAddress turns "host:port" or an http(s) URL into the API's base URL.
func ParseAddress(addr string) (*url.URL, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return nil, errors.New("api: empty server address")
	}
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil {
		return nil, fmt.Errorf("api: invalid server address %q: %w", addr, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("api: invalid server address %q: scheme must be http or https", addr)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("api: invalid server address %q: no host", addr)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// Address is the base URL the client sends requests to.
func (c *Client) Address() string {
	if c.base == nil {
		return ""
	}
	return c.base.String()
}

// Do sends one request: method on path (relative to the server's base URL,
// e.g. "/api/v1/databases", with its query if any), in encoded as the JSON
// body when not nil, and the JSON answer decoded into out when not nil.
// An answer with a status of 400 or more is returned as an *Error.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	status, body, err := c.sendRetrying(ctx, method, path, in)
	if err != nil || out == nil || status == http.StatusNoContent {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("api: %s %s: decode the answer: %w", method, path, err)
	}
	return nil
}

// send sends one request and returns the answer's status and body; a status
// of 400 or more is an *Error.
func (c *Client) send(ctx context.Context, method, path string, in any) (int, []byte, error) {
	req, err := c.newRequest(ctx, method, path, in)
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("cannot reach the control plane at %s: %w", c.base.Redacted(), unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("api: %s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		return resp.StatusCode, body, decodeError(resp, body)
	}
	return resp.StatusCode, body, nil
}

func (c *Client) newRequest(ctx context.Context, method, path string, in any) (*http.Request, error) {
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	var body io.Reader
	if in != nil {
		buf, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("api: %s %s: encode the request: %w", method, path, err)
		}
		body = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, body)
	if err != nil {
		return nil, fmt.Errorf("api: %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

// get, post, put and del are Do for the API's verbs.
func (c *Client) get(ctx context.Context, path string, out any) error {
	return c.Do(ctx, http.MethodGet, path, nil, out)
}

func (c *Client) post(ctx context.Context, path string, in, out any) error {
	return c.Do(ctx, http.MethodPost, path, in, out)
}

func (c *Client) put(ctx context.Context, path string, in, out any) error {
	return c.Do(ctx, http.MethodPut, path, in, out)
}

func (c *Client) del(ctx context.Context, path string) error {
	return c.Do(ctx, http.MethodDelete, path, nil, nil)
}

// sendRaw sends a request whose body (when not nil) is not JSON, and returns
// the answer unread; a status of 400 or more is read and returned as an
// *Error.
func (c *Client) sendRaw(ctx context.Context, method, path, contentType string, body io.Reader) (*http.Response, error) {
	req, err := c.newRequest(ctx, method, path, nil)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Body = io.NopCloser(body)
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the control plane at %s: %w", c.base.Redacted(), unwrapURLError(err))
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
		return nil, decodeError(resp, raw)
	}
	return resp, nil
}

// decodeAnswer decodes a JSON answer into out.
func decodeAnswer(resp *http.Response, out any) error {
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("api: read the answer: %w", err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("api: decode the answer: %w", err)
	}
	return nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err // the method and URL would only repeat the address
	}
	return err
}
