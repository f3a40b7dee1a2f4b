package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	wire "github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/testbed"
	"github.com/hotswap-db/hotswap/internal/tlsutil"
)

func newCA(t *testing.T) *testbed.TLS {
	t.Helper()
	ca, err := testbed.NewTLS(t.TempDir())
	if err != nil {
		t.Fatalf("make the test bed's CA: %v", err)
	}
	return ca
}

// tlsClient is a typed client of s over HTTPS, trusting the bed's CA.
func tlsClient(s *testbed.Server, token string) *wire.Client {
	return wire.New(s.URL(), token, wire.WithHTTPClient(s.HTTPClient()))
}

// agentToken makes an agent token through s, retrying until a leader takes it.
func agentToken(t *testing.T, c *wire.Client, name string) string {
	t.Helper()
	var tok string
	eventually(t, 20*time.Second, "agent token for "+name, func() bool {
		r, err := c.CreateAgentToken(context.Background(), name)
		tok = r.Token
		return err == nil
	})
	return tok
}

func connected(c *wire.Client, name string) bool {
	ag, err := c.GetAgent(context.Background(), name)
	return err == nil && ag.Connected
}

// TestTLSClusterAndAgent runs three servers and an agent with every link
// over TLS: the API answers over HTTPS (TLS 1.2+, HSTS) to a client holding
// the CA and to no other, a follower forwards writes to the leader over
// HTTPS, and the agent dials a follower, verifies it, and follows it to
// the leader.
func TestTLSClusterAndAgent(t *testing.T) {
	ca := newCA(t)
	servers := testbed.StartTLSCluster(t, bins, 3, ca)
	tok := bootstrapToken(t, servers)
	ctx := context.Background()
	eventually(t, 20*time.Second, "a leader known over HTTPS", func() bool {
		st, err := tlsClient(servers[0], tok).ClusterStatus(ctx)
		return err == nil && leaderRegistered(st)
	})
	leader := leaderOf(t, servers, tok)
	follower := followers(servers, leader)[0]

	resp, err := follower.HTTPClient().Get(follower.URL() + "/health")
	if err != nil {
		t.Fatalf("GET /health over HTTPS with the CA: %v", err)
	}
	resp.Body.Close()
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 || !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("HTTPS answer: TLS %+v, HSTS %q; want TLS 1.2+ and a max-age", resp.TLS, resp.Header.Get("Strict-Transport-Security"))
	}
	if _, err := http.Get(follower.URL() + "/health"); err == nil {
		t.Error("a client without the CA was answered: want a verification failure")
	}
	if resp, err := http.Get("http://" + follower.HTTPAddr + "/health"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to the HTTPS port: status %d, want 400", resp.StatusCode)
		}
	}

	agentTok := agentToken(t, tlsClient(follower, tok), "tls-host") // forwarded to the leader over HTTPS
	agentTLS, err := ca.AgentTLS("")
	if err != nil {
		t.Fatal(err)
	}
	ag := testbed.StartAgent(t, bins, agentconfig.Config{Name: "tls-host", Token: agentTok,
		Servers: []string{follower.RPCAddr}, TLS: agentTLS})
	eventually(t, 30*time.Second, "the agent connected over TLS", func() bool { return connected(tlsClient(leader, tok), "tls-host") })
	if strings.Contains(ag.Log(), "plaintext") {
		t.Errorf("the agent's log mentions plaintext:\n%s", tailString(ag.Log(), 2000))
	}

	// An agent that does not hold the CA cannot be fooled into a session.
	other := newCA(t)
	wrongTLS, _ := other.AgentTLS("")
	wrong := testbed.StartAgent(t, bins, agentconfig.Config{Name: "tls-host", Token: agentTok,
		Servers: []string{leader.RPCAddr}, TLS: wrongTLS})
	eventually(t, 30*time.Second, "the agent refusing a server its CA did not sign", func() bool {
		return strings.Contains(wrong.Log(), "certificate signed by unknown authority")
	})
}

// TestRaftPortRefusesStrangers probes a TLS server's Raft port: plain TCP,
// TLS without a certificate, and TLS with a certificate of the same CA
// that is not a server's (an agent's) all fail, and no Raft answer comes.
func TestRaftPortRefusesStrangers(t *testing.T) {
	ca := newCA(t)
	srv := testbed.StartServer(t, bins, testbed.ServerOptions{TLS: ca})
	tok := bootstrapToken(t, []*testbed.Server{srv})

	// Plain TCP: an AppendEntries type byte and garbage get no answer.
	conn, err := net.DialTimeout("tcp", srv.RaftAddr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial the Raft port: %v", err)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = conn.Write(append([]byte{0}, bytes.Repeat([]byte{0x80}, 64)...))
	if n, _ := conn.Read(make([]byte, 512)); n > 0 && !isTLSAlert(n) {
		t.Errorf("plain TCP to the Raft port got %d bytes of answer, want none", n)
	}
	conn.Close()

	roots, err := ca.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	noCert := &tls.Config{RootCAs: roots.RootCAs, ServerName: tlsutil.ServerName, MinVersion: tls.VersionTLS12}
	if err := raftProbe(srv.RaftAddr, noCert); err == nil {
		t.Error("TLS without a client certificate reached Raft: want the handshake refused")
	}
	agentTLS, err := ca.AgentTLS("intruder")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(agentTLS.CertFile, agentTLS.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	agentCert := noCert.Clone()
	agentCert.Certificates = []tls.Certificate{pair}
	if err := raftProbe(srv.RaftAddr, agentCert); err == nil {
		t.Error("TLS with an agent's certificate reached Raft: want it refused (not a server's)")
	}
	// The server's own certificate is accepted: the probe itself works.
	serverPair, err := tls.LoadX509KeyPair(srv.CertFile, srv.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	member := noCert.Clone()
	member.Certificates = []tls.Certificate{serverPair}
	if err := raftProbe(srv.RaftAddr, member); err != nil {
		t.Errorf("TLS with a server certificate of the cluster's CA: %v, want the handshake accepted", err)
	}
	if h, err := tlsClient(srv, tok).Health(context.Background()); err != nil || h.Status != "ok" {
		t.Errorf("health after the probes = %+v, %v; want ok", h, err)
	}
}

func isTLSAlert(n int) bool { return n == 7 } // a TLS alert record is 7 bytes

// raftProbe completes a TLS handshake with the Raft port and makes the
// server read: with a refused certificate the server's alert arrives as
// an error (TLS 1.3 reports a client certificate's refusal on first read).
func raftProbe(addr string, cfg *tls.Config) error {
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	// A heartbeat-sized write the server must read before answering.
	if _, err := conn.Write([]byte{0}); err != nil {
		return err
	}
	_, err = conn.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil // accepted: the server waits for the rest of the RPC
	}
	return err
}

// TestMutualTLSAgentMustBeNamed runs a server with --tls-verify-agents: an
// agent presenting another agent's certificate, or none, is refused; with
// its own it connects.
func TestMutualTLSAgentMustBeNamed(t *testing.T) {
	ca := newCA(t)
	srv := testbed.StartServer(t, bins, testbed.ServerOptions{TLS: ca, Args: []string{"--tls-verify-agents"}})
	tok := bootstrapToken(t, []*testbed.Server{srv})
	c := tlsClient(srv, tok)
	agentTok := agentToken(t, c, "db-a")
	agentToken(t, c, "db-b")

	impostor, err := ca.AgentTLS("db-b")
	if err != nil {
		t.Fatal(err)
	}
	bad := testbed.StartAgent(t, bins, agentconfig.Config{Name: "db-a", Token: agentTok, Servers: []string{srv.RPCAddr}, TLS: impostor})
	eventually(t, 30*time.Second, "the agent with db-b's certificate refused", func() bool {
		return strings.Contains(bad.Log(), `not agent \"db-a\"`) || strings.Contains(bad.Log(), `not agent "db-a"`)
	})
	if connected(c, "db-a") {
		t.Fatal("db-a connected with db-b's certificate")
	}
	bad.Kill()

	noCert, _ := ca.AgentTLS("")
	none := testbed.StartAgent(t, bins, agentconfig.Config{Name: "db-a", Token: agentTok, Servers: []string{srv.RPCAddr}, TLS: noCert})
	eventually(t, 30*time.Second, "the agent without a certificate refused", func() bool {
		return strings.Contains(none.Log(), "session ended")
	})
	if connected(c, "db-a") {
		t.Fatal("db-a connected without a certificate")
	}
	none.Kill()

	own, err := ca.AgentTLS("db-a")
	if err != nil {
		t.Fatal(err)
	}
	testbed.StartAgent(t, bins, agentconfig.Config{Name: "db-a", Token: agentTok, Servers: []string{srv.RPCAddr}, TLS: own})
	eventually(t, 30*time.Second, "db-a connected with its own certificate", func() bool { return connected(c, "db-a") })
}

// TestSIGHUPReloadsCertificate renews a server's certificate files and
// sends SIGHUP: HTTPS, the agents' port and Raft then serve the new one.
func TestSIGHUPReloadsCertificate(t *testing.T) {
	ca := newCA(t)
	srv := testbed.StartServer(t, bins, testbed.ServerOptions{TLS: ca})
	bootstrapToken(t, []*testbed.Server{srv})
	before := servedSerial(t, srv.HTTPAddr, srv)
	cert, key, err := ca.Issue(tlsutil.KindServer, "renewed")
	if err != nil {
		t.Fatal(err)
	}
	want := fileSerial(t, cert)
	if want == before {
		t.Fatal("the renewed certificate has the old serial")
	}
	copyFile(t, cert, srv.CertFile)
	copyFile(t, key, srv.KeyFile)
	if got := servedSerial(t, srv.HTTPAddr, srv); got != before {
		t.Fatalf("served serial changed before SIGHUP: %s", got)
	}
	if err := srv.Reload(); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{srv.HTTPAddr, srv.RPCAddr, srv.RaftAddr} {
		eventually(t, 20*time.Second, "the renewed certificate served on "+addr, func() bool {
			return servedSerial(t, addr, srv) == want
		})
	}
}

// servedSerial is the serial of the certificate served on addr, dialled
// with the server's own certificate (Raft asks for one).
func servedSerial(t *testing.T, addr string, srv *testbed.Server) string {
	t.Helper()
	roots, err := testbedRoots(srv)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, roots)
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

func testbedRoots(srv *testbed.Server) (*tls.Config, error) {
	tr, ok := srv.HTTPClient().Transport.(*http.Transport)
	if !ok {
		return nil, errors.New("the server's client is not HTTPS")
	}
	cfg := tr.TLSClientConfig.Clone()
	cfg.ServerName = tlsutil.ServerName
	pair, err := tls.LoadX509KeyPair(srv.CertFile, srv.KeyFile)
	if err != nil {
		return nil, err
	}
	cfg.Certificates = []tls.Certificate{pair}
	return cfg, nil
}

func fileSerial(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(raw)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber.String()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	raw, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}
