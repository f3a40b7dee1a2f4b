package testbed

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/tlsutil"
)

// TLS is a CA of the test bed and the certificates it signs, in one folder,
// made as `hotswap tls` makes them.
type TLS struct {
	Dir    string
	CACert string
	ca     tlsutil.CA

	mu   sync.Mutex
	next int
}

// NewTLS makes a CA in dir.
func NewTLS(dir string) (*TLS, error) {
	ca, key, err := tlsutil.NewCA("HotSwap test bed CA", time.Hour)
	if err != nil {
		return nil, err
	}
	t := &TLS{Dir: dir, CACert: filepath.Join(dir, "hotswap-ca.pem"), ca: ca}
	if err := tlsutil.WriteNew(t.CACert, ca.PEM, 0o644); err != nil {
		return nil, err
	}
	return t, tlsutil.WriteNew(filepath.Join(dir, "hotswap-ca-key.pem"), key, 0o600)
}

// Issue signs a new certificate of kind (for an agent, naming name) and
// returns the paths of the certificate and its key.
func (t *TLS) Issue(kind tlsutil.Kind, name string) (cert, key string, err error) {
	certPEM, keyPEM, err := t.ca.Sign(tlsutil.CertRequest{Kind: kind, Name: name, Lifetime: time.Hour})
	if err != nil {
		return "", "", err
	}
	t.mu.Lock()
	n := t.next
	t.next++
	t.mu.Unlock()
	base := filepath.Join(t.Dir, fmt.Sprintf("%s-%s-%d", kind, name, n))
	cert, key = base+".pem", base+"-key.pem"
	if err := tlsutil.WriteNew(cert, certPEM, 0o644); err != nil {
		return "", "", err
	}
	return cert, key, tlsutil.WriteNew(key, keyPEM, 0o600)
}

// serverArgs issues a server certificate and returns hotswapd's TLS flags.
func (t *TLS) serverArgs(id string) ([]string, error) {
	cert, key, err := t.Issue(tlsutil.KindServer, id)
	if err != nil {
		return nil, err
	}
	return []string{"--tls-ca-cert", t.CACert, "--tls-cert", cert, "--tls-key", key}, nil
}

// AgentTLS is an agent's TLS config: the CA, and a certificate naming
// certName when it is not empty.
func (t *TLS) AgentTLS(certName string) (agentconfig.TLSConfig, error) {
	cfg := agentconfig.TLSConfig{CACert: t.CACert}
	if certName == "" {
		return cfg, nil
	}
	cert, key, err := t.Issue(tlsutil.KindAgent, certName)
	cfg.CertFile, cfg.KeyFile = cert, key
	return cfg, err
}

// ClientConfig verifies the servers against the CA, as the CLI does.
func (t *TLS) ClientConfig() (*tls.Config, error) {
	certs, err := tlsutil.Load(tlsutil.Files{CA: t.CACert})
	if err != nil {
		return nil, err
	}
	return certs.ClientConfig(""), nil
}

// HTTPClient is an HTTPS client that trusts the CA.
func (t *TLS) HTTPClient() (*http.Client, error) {
	cfg, err := t.ClientConfig()
	if err != nil {
		return nil, err
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}, nil
}
