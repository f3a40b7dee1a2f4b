package tlsutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

// Lifetimes of the certificates HotSwap makes.
const (
	CALifetime   = 5 * 365 * 24 * time.Hour
	CertLifetime = 365 * 24 * time.Hour
)

// Kind is what a certificate is for.
type Kind string

// The kinds of certificate.
const (
	KindServer Kind = "server" // hotswapd: serves HTTPS, gRPC and Raft, dials Raft peers
	KindAgent  Kind = "agent"  // hotswap-agent: a client of the gRPC link
	KindCLI    Kind = "cli"    // hotswap: a client of the HTTP API
)

// CA is a certificate authority ready to sign.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	PEM  []byte
}

// NewCA makes a self-signed ECDSA P-256 CA valid for lifetime.
func NewCA(commonName string, lifetime time.Duration) (CA, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return CA{}, nil, fmt.Errorf("tls: generate CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return CA{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: commonName, Organization: []string{"HotSwap"}},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(lifetime),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return CA{}, nil, fmt.Errorf("tls: sign CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return CA{}, nil, fmt.Errorf("tls: parse CA: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return CA{}, nil, err
	}
	return CA{Cert: cert, Key: key, PEM: pemBlock("CERTIFICATE", der)}, keyPEM, nil
}

// LoadCA reads a CA's certificate and key from PEM files.
func LoadCA(certPath, keyPath string) (CA, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return CA{}, fmt.Errorf("tls: read CA certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return CA{}, fmt.Errorf("tls: read CA key: %w", err)
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return CA{}, errors.New("tls: the CA certificate or key is not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return CA{}, fmt.Errorf("tls: parse CA certificate: %w", err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return CA{}, fmt.Errorf("tls: parse CA key: %w", err)
	}
	if !cert.IsCA {
		return CA{}, fmt.Errorf("tls: %s is not a CA certificate", certPath)
	}
	return CA{Cert: cert, Key: key, PEM: certPEM}, nil
}

// CertRequest says what certificate to make.
type CertRequest struct {
	Kind     Kind
	Name     string   // the agent's id for KindAgent; the common name otherwise (optional)
	DNSNames []string // more DNS names (servers: the names clients dial)
	IPs      []net.IP // IP addresses (servers: the addresses clients dial)
	Lifetime time.Duration
}

// Sign makes a certificate of the request's kind signed by ca and returns
// the certificate and key as PEM. A server's certificate names
// ServerName, localhost and 127.0.0.1 besides the request's names, and
// serves as a client too (Raft peers dial each other); an agent's names
// ID.agent.hotswap (and CN=ID); the CLI's names cli.hotswap.
func (ca CA) Sign(req CertRequest) (certPEM, keyPEM []byte, err error) {
	tmpl, err := template(req)
	if err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: generate key: %w", err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: sign certificate: %w", err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pemBlock("CERTIFICATE", der), keyPEM, nil
}

func template(req CertRequest) (*x509.Certificate, error) {
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	if req.Lifetime <= 0 {
		req.Lifetime = CertLifetime
	}
	now := time.Now()
	t := &x509.Certificate{SerialNumber: serial, NotBefore: now.Add(-time.Minute), NotAfter: now.Add(req.Lifetime),
		KeyUsage: x509.KeyUsageDigitalSignature, DNSNames: req.DNSNames, IPAddresses: req.IPs,
		Subject: pkix.Name{Organization: []string{"HotSwap"}}}
	switch req.Kind {
	case KindServer:
		t.Subject.CommonName = orDefault(req.Name, ServerName)
		t.DNSNames = append([]string{ServerName, "localhost"}, t.DNSNames...)
		t.IPAddresses = append([]net.IP{net.IPv4(127, 0, 0, 1)}, t.IPAddresses...)
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	case KindAgent:
		if req.Name == "" {
			return nil, errors.New("tls: an agent's certificate names the agent: give its id")
		}
		t.Subject.CommonName = req.Name
		t.DNSNames = append([]string{AgentName(req.Name)}, t.DNSNames...)
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	case KindCLI:
		t.Subject.CommonName = orDefault(req.Name, CLIName)
		t.DNSNames = append([]string{CLIName}, t.DNSNames...)
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	default:
		return nil, fmt.Errorf("tls: unknown certificate kind %q", req.Kind)
	}
	return t, nil
}

func orDefault(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

func newSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("tls: draw serial number: %w", err)
	}
	return n, nil
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("tls: encode key: %w", err)
	}
	return pemBlock("EC PRIVATE KEY", der), nil
}

func pemBlock(kind string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
}

// WriteNew writes data to a new file with mode perm; an existing file is
// never overwritten (a key or CA is not replaced by accident).
func WriteNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	return nil
}
