// Package tlsutil is HotSwap's TLS: the certificate files every program
// loads (a CA, a certificate and its key), reloading them on demand, the
// server and client configurations of the three links (the HTTP API, the
// agents' gRPC and Raft), the names certificates carry, and making the
// certificates themselves (hotswap tls ca create / cert create).
package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
)

// Files names the PEM files of one program's TLS identity.
type Files struct {
	CA   string // the CA that signed every HotSwap certificate
	Cert string // this program's certificate
	Key  string // its private key
}

// Store holds the CA pool and this program's certificate, as last loaded
// from their files. Reload reads them again (on SIGHUP); connections made
// after it use the new ones.
type Store struct {
	files Files

	mu   sync.RWMutex
	cert *tls.Certificate // nil when Files has no Cert
	pool *x509.CertPool
}

// Load reads the files. The CA is required; Cert and Key go together and
// may both be empty for a client without a certificate of its own.
func Load(files Files) (*Store, error) {
	s := &Store{files: files}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload reads the files again. On an error the loaded ones are kept.
func (s *Store) Reload() error {
	pool, err := readPool(s.files.CA)
	if err != nil {
		return err
	}
	var cert *tls.Certificate
	switch {
	case s.files.Cert != "" && s.files.Key != "":
		c, err := tls.LoadX509KeyPair(s.files.Cert, s.files.Key)
		if err != nil {
			return fmt.Errorf("tls: load certificate %s and key %s: %w", s.files.Cert, s.files.Key, err)
		}
		cert = &c
	case s.files.Cert != "" || s.files.Key != "":
		return errors.New("tls: a certificate needs its key and a key its certificate")
	}
	s.mu.Lock()
	s.cert, s.pool = cert, pool
	s.mu.Unlock()
	return nil
}

func readPool(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, errors.New("tls: the CA certificate is required (the CA that signed the HotSwap certificates)")
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tls: read CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls: %s holds no PEM certificate", path)
	}
	return pool, nil
}

// current returns the loaded certificate and pool.
func (s *Store) current() (*tls.Certificate, *x509.CertPool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cert, s.pool
}

// Certificate returns the loaded certificate, nil when there is none.
func (s *Store) Certificate() *tls.Certificate {
	c, _ := s.current()
	return c
}

// ServerConfig is the configuration of a listener: TLS 1.2 or later, the
// certificate loaded when each handshake starts (so a reload applies to
// the next connection), client certificates checked against the CA as
// auth says, and verify, when not nil, run on each verified connection;
// protos are the ALPN protocols offered ("h2" for gRPC).
func (s *Store) ServerConfig(auth tls.ClientAuthType, verify func(tls.ConnectionState) error, protos ...string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: protos,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			cert, pool := s.current()
			if cert == nil {
				return nil, errors.New("tls: no server certificate loaded")
			}
			return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*cert},
				ClientAuth: auth, ClientCAs: pool, VerifyConnection: verify,
				NextProtos: protos}, nil
		},
	}
}

// ClientConfig is the configuration of one dial: the server is verified
// against the CA under serverName (empty: the dialled host), and this
// program's certificate, if it has one, is offered. Build it per dial so
// a reload applies to the next connection.
func (s *Store) ClientConfig(serverName string) *tls.Config {
	cert, pool := s.current()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, ServerName: serverName}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return cfg
}
