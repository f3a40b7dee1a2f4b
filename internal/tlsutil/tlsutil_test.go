package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func writeTemp(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func parse(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(certPEM)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestReloadKeepsTheLoadedCertificateOnError(t *testing.T) {
	dir := t.TempDir()
	ca, _, err := NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.Sign(CertRequest{Kind: KindServer})
	if err != nil {
		t.Fatal(err)
	}
	files := Files{CA: writeTemp(t, dir, "ca.pem", ca.PEM), Cert: writeTemp(t, dir, "c.pem", certPEM), Key: writeTemp(t, dir, "k.pem", keyPEM)}
	s, err := Load(files)
	if err != nil {
		t.Fatal(err)
	}
	first := s.Certificate().Leaf.SerialNumber
	if err := os.WriteFile(files.Cert, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil {
		t.Fatal("Reload() of a broken certificate succeeded")
	}
	if got := s.Certificate().Leaf.SerialNumber; got.Cmp(first) != 0 {
		t.Errorf("after a failed reload the serial is %s, want the loaded %s", got, first)
	}
	newCert, newKey, _ := ca.Sign(CertRequest{Kind: KindServer})
	_ = os.WriteFile(files.Cert, newCert, 0o600)
	_ = os.WriteFile(files.Key, newKey, 0o600)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Certificate().Leaf.SerialNumber, parse(t, newCert).SerialNumber; got.Cmp(want) != 0 {
		t.Errorf("after a reload the serial is %s, want the new %s", got, want)
	}
}

func TestNames(t *testing.T) {
	ca, _, err := NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	agentPEM, _, _ := ca.Sign(CertRequest{Kind: KindAgent, Name: "db-a"})
	serverPEM, _, _ := ca.Sign(CertRequest{Kind: KindServer})
	agent, server := parse(t, agentPEM), parse(t, serverPEM)
	if err := CheckAgent(agent, "db-a"); err != nil {
		t.Errorf("CheckAgent(db-a's certificate, db-a) = %v, want nil", err)
	}
	if err := CheckAgent(agent, "db-b"); err == nil {
		t.Error("CheckAgent(db-a's certificate, db-b) = nil, want a refusal")
	}
	if err := RequireServer(tls.ConnectionState{PeerCertificates: []*x509.Certificate{server}}); err != nil {
		t.Errorf("RequireServer(a server's certificate) = %v", err)
	}
	if err := RequireServer(tls.ConnectionState{PeerCertificates: []*x509.Certificate{agent}}); err == nil {
		t.Error("RequireServer(an agent's certificate) = nil, want a refusal")
	}
	if _, _, err := ca.Sign(CertRequest{Kind: KindAgent}); err == nil {
		t.Error("an agent certificate without a name was made")
	}
}
