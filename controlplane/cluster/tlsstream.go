package cluster

import (
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/hotswap-db/hotswap/internal/tlsutil"
)

// tlsStream is Raft's stream layer over TLS with mutual authentication:
// a peer must present a certificate signed by the cluster's CA that names
// a HotSwap server, and this server verifies each peer it dials the same
// way. Anyone else who reaches the Raft port fails the handshake before
// a single Raft message is read, as with Consul's and Nomad's RPC TLS.
type tlsStream struct {
	net.Listener
	advertise net.Addr
	certs     *tlsutil.Store
}

var _ raft.StreamLayer = (*tlsStream)(nil)

// newTLSStream listens on bind for Raft over TLS.
func newTLSStream(bind string, advertise net.Addr, certs *tlsutil.Store) (*tlsStream, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("listen for raft on %s: %w", bind, err)
	}
	cfg := certs.ServerConfig(tls.RequireAndVerifyClientCert, tlsutil.RequireServer)
	return &tlsStream{Listener: tls.NewListener(ln, cfg), advertise: advertise, certs: certs}, nil
}

// Addr is the address other servers reach this one at.
func (s *tlsStream) Addr() net.Addr { return s.advertise }

// Dial opens a connection to a peer, verifying that it is a HotSwap
// server and offering this server's certificate. The handshake is made
// here, within timeout, so a failure is reported as a dial error.
func (s *tlsStream) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	conn, err := tls.DialWithDialer(d, "tcp", string(address), s.certs.ClientConfig(tlsutil.ServerName))
	if err != nil {
		return nil, fmt.Errorf("raft over tls to %s: %w", address, err)
	}
	return conn, nil
}

// newTLSTransport is Raft's network transport over tlsStream.
func newTLSTransport(bind string, addr *net.TCPAddr, certs *tlsutil.Store, logger hclog.Logger) (*raft.NetworkTransport, error) {
	stream, err := newTLSStream(bind, addr, certs)
	if err != nil {
		return nil, err
	}
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: stream, MaxPool: 3, Timeout: 10 * time.Second, Logger: logger,
	}), nil
}
