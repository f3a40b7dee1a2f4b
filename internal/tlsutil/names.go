package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// ServerName is the DNS name every hotswapd certificate carries, whatever
// its addresses: agents, other servers and Raft peers verify a server by
// it, so a redirect to any member's address verifies alike.
const ServerName = "server.hotswap"

// agentSuffix ends the DNS name an agent's certificate carries: ID.agent.hotswap.
const agentSuffix = ".agent.hotswap"

// CLIName is the DNS name of a certificate made for the CLI.
const CLIName = "cli.hotswap"

// AgentName is the DNS name an agent's certificate carries.
func AgentName(id string) string { return id + agentSuffix }

// ErrNotAServer is a Raft peer whose certificate is not a server's.
var ErrNotAServer = errors.New("tls: the peer's certificate is not a HotSwap server's (" + ServerName + ")")

// RequireServer refuses a connection whose verified peer certificate does
// not name a HotSwap server: an agent's or the CLI's certificate, signed
// by the same CA, cannot talk Raft.
func RequireServer(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 || !hasDNS(cs.PeerCertificates[0], ServerName) {
		return ErrNotAServer
	}
	return nil
}

// CheckAgent reports whether cert names the agent id: a DNS name
// ID.agent.hotswap, or the common name ID.
func CheckAgent(cert *x509.Certificate, id string) error {
	if cert == nil {
		return errors.New("tls: the agent presented no certificate")
	}
	if hasDNS(cert, AgentName(id)) || cert.Subject.CommonName == id {
		return nil
	}
	return fmt.Errorf("tls: the agent's certificate names %s, not agent %q", describe(cert), id)
}

func hasDNS(cert *x509.Certificate, name string) bool {
	for _, n := range cert.DNSNames {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

func describe(cert *x509.Certificate) string {
	names := append([]string{"CN=" + cert.Subject.CommonName}, cert.DNSNames...)
	return strings.Join(names, ", ")
}
