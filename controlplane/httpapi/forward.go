package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/hotswap-db/hotswap/internal/tracing"
)

// forwardedHeader marks a request one server passed to another, so a
// request never bounces between servers that each think the other leads.
const forwardedHeader = "X-Hotswap-Forwarded-By"

// The client's address a follower passes along with a forwarded request,
// and the proof that a cluster member wrote it: an HMAC, under a key
// derived from the cluster's token signing key (replicated in Raft, so every
// member holds it and no client does), over the forwarding server, the
// address, the method and the path. The leader records that address in the
// audit log; without a valid proof, the connection's own.
const (
	clientAddrHeader  = "X-Hotswap-Client-Addr"
	clientProofHeader = "X-Hotswap-Client-Addr-Proof"
)

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
			f.passClientAddr(pr.Out, remoteHost(r))
			// The leader's span is a child of this server's.
			tracing.Propagator().Inject(pr.In.Context(), tracing.HTTPCarrier(pr.Out.Header))
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

// passClientAddr tells the leader who the client is, with the proof that
// this server says so; whatever the client sent in those headers is dropped.
func (f *forwarder) passClientAddr(out *http.Request, addr string) {
	out.Header.Del(clientAddrHeader)
	out.Header.Del(clientProofHeader)
	key := f.raft.State().SigningKey()
	if len(key) == 0 {
		return
	}
	out.Header.Set(clientAddrHeader, addr)
	out.Header.Set(clientProofHeader, clientAddrProof(key, f.raft.Self().ID, addr, out.Method, out.URL.RequestURI()))
}

// clientAddrProof is the HMAC a forwarding server puts on the client's address.
func clientAddrProof(signingKey []byte, by, addr, method, uri string) string {
	return memberMAC(signingKey, "forwarded client address", by, addr, method, uri)
}

// clientAddr is where a request really comes from: the address a cluster
// member forwarding it vouched for, or else the connection's peer.
func (a *API) clientAddr(r *http.Request) string {
	by, addr, proof := r.Header.Get(forwardedHeader), r.Header.Get(clientAddrHeader), r.Header.Get(clientProofHeader)
	if by == "" || addr == "" || proof == "" {
		return remoteHost(r)
	}
	key := a.raft.State().SigningKey()
	want := clientAddrProof(key, by, addr, r.Method, r.URL.RequestURI())
	if len(key) == 0 || !hmac.Equal([]byte(proof), []byte(want)) {
		a.log.Warn("ignored a forwarded client address without a valid proof", "from", remoteHost(r), "claimed", addr)
		return remoteHost(r)
	}
	return addr
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }
