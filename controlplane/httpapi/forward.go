package httpapi

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
)

// forwardedHeader marks a request one server passed to another, so a
// request never bounces between servers that each think the other leads.
const forwardedHeader = "X-Hotswap-Forwarded-By"

// forwarder passes requests that only the leader can answer to the leader,
// and makes the answer consistent with what this server serves next: it
// waits until this server has applied the write before replying.
type forwarder struct {
	raft   Raft
	log    hclog.Logger
	tr     http.RoundTripper
	scheme string
}

func newForwarder(r Raft, log hclog.Logger, peerTLS func() *tls.Config) *forwarder {
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
	}
	f := &forwarder{raft: r, log: log, tr: tr, scheme: "http"}
	if peerTLS != nil {
		f.scheme = "https"
		tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := &tls.Dialer{Config: peerTLS()}
			return d.DialContext(ctx, network, addr)
		}
	}
	return f
}

func (f *forwarder) serve(w http.ResponseWriter, r *http.Request, fail func(http.ResponseWriter, *http.Request, error)) {
	if r.Header.Get(forwardedHeader) != "" {
		fail(w, r, unavailable("leadership is changing; retry shortly"))
		return
	}
	leader, ok := f.raft.LeaderServer()
	if !ok {
		fail(w, r, unavailable(errNoLeader.Error()))
		return
	}
	target := &url.URL{Scheme: f.scheme, Host: leader.HTTPAddr}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = r.Host
			pr.Out.Header.Set(forwardedHeader, f.raft.Self().ID)
		},
		Transport:      f.tr,
		ModifyResponse: f.waitForIndex,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			f.log.Warn("forward to leader failed", "leader", leader.ID, "error", err)
			fail(w, r, unavailable("the leader could not be reached; retry shortly"))
		},
	}
	proxy.ServeHTTP(w, r)
}

// waitForIndex holds a successful write's answer until this server has
// applied it, so a client's next read here sees its own write.
func (f *forwarder) waitForIndex(resp *http.Response) error {
	idx, err := strconv.ParseUint(resp.Header.Get(indexHeader), 10, 64)
	if err != nil || idx == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(resp.Request.Context(), 3*time.Second)
	defer cancel()
	if err := f.raft.WaitApplied(ctx, idx); err != nil {
		f.log.Warn("forwarded write not yet applied here", "index", idx, "error", err)
	}
	return nil
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }
