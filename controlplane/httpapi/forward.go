package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/url"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/hotswap-db/hotswap/internal/domain"
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
// waits until this server has applied the write before replying. It
// forwards only while this server's Raft hears from the leader, and gives
// up on a forwarded request as soon as it stops hearing from it, so a
// server cut off from the leader answers 503 within Raft's own timeout,
// not after the client's.
type forwarder struct {
	raft   Raft
	log    hclog.Logger
	tr     http.RoundTripper
	scheme string
	// leaderTimeout is how long this server may go without hearing from
	// the leader before it stops forwarding to it (Raft's heartbeat
	// timeout: Raft itself starts an election after one or two of them).
	leaderTimeout time.Duration
}

// expectContinueWait is how long a forwarded request with a body waits
// for the leader's "100 Continue" before its body is sent anyway; a
// leader asks for the body at once (see delivery).
const expectContinueWait = 10 * time.Second

func newForwarder(r Raft, log hclog.Logger, peerTLS func() *tls.Config, leaderTimeout time.Duration) *forwarder {
	dialer := &net.Dialer{Timeout: leaderTimeout}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   leaderTimeout,
		ExpectContinueTimeout: expectContinueWait,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
	}
	f := &forwarder{raft: r, log: log, tr: tr, scheme: "http", leaderTimeout: leaderTimeout}
	if peerTLS != nil {
		f.scheme = "https"
		tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := &tls.Dialer{NetDialer: dialer, Config: peerTLS()}
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
		fail(w, r, f.noLeader())
		return
	}
	if silence := f.silence(); silence > f.leaderTimeout {
		fail(w, r, f.cutOff(leader, silence))
		return
	}
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	d := &delivery{}
	ctx = httptrace.WithClientTrace(ctx, d.trace())
	awaiting := f.giveUpOnSilence(ctx, leader.ID, cancel)
	f.proxy(leader, d, awaiting, fail).ServeHTTP(w, r.WithContext(ctx))
}

// proxy is the reverse proxy of one forwarded request to leader.
func (f *forwarder) proxy(leader domain.Server, d *delivery, awaiting *watch,
	fail func(http.ResponseWriter, *http.Request, error)) *httputil.ReverseProxy {
	target := &url.URL{Scheme: f.scheme, Host: leader.HTTPAddr}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Set(forwardedHeader, f.raft.Self().ID)
			f.passClientAddr(pr.Out, remoteHost(pr.In))
			d.expectContinue(pr.Out)
			// The leader's span is a child of this server's.
			tracing.Propagator().Inject(pr.In.Context(), tracing.HTTPCarrier(pr.Out.Header))
		},
		Transport: f.tr,
		ModifyResponse: func(resp *http.Response) error {
			if !awaiting.stop() {
				return errLeaderSilent // given up on just before the answer came
			}
			f.waitForIndex(resp, leader.ID)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			f.log.Warn("forward to leader failed", "leader", leader.ID, "error", err, "cause", context.Cause(r.Context()))
			// A read applies nothing, however far it went.
			mayHaveApplied := d.delivered() && r.Method != http.MethodGet && r.Method != http.MethodHead
			fail(w, r, f.forwardFailed(leader, mayHaveApplied, errors.Is(context.Cause(r.Context()), errLeaderSilent)))
		},
	}
}

// waitForIndex holds a successful write's answer until this server has
// applied it, so a client's next read here sees its own write; it stops
// waiting when this server stops hearing from the leader (it would not
// apply it soon).
func (f *forwarder) waitForIndex(resp *http.Response, leaderID string) {
	idx, err := strconv.ParseUint(resp.Header.Get(indexHeader), 10, 64)
	if err != nil || idx == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(resp.Request.Context(), 3*time.Second)
	defer cancel()
	defer f.giveUpOnSilence(ctx, leaderID, func(error) { cancel() }).stop()
	if err := f.raft.WaitApplied(ctx, idx); err != nil {
		f.log.Warn("forwarded write not yet applied here", "index", idx, "error", err)
	}
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
