package commands

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(raw)
	if b == nil {
		t.Fatalf("%s holds no PEM", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return c
}

func checkKeyFile(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key %s: %v, mode %v; want mode 0600", path, err, fi.Mode().Perm())
	}
}

func lifetime(c *x509.Certificate) time.Duration { return c.NotAfter.Sub(c.NotBefore) }

func TestTLSCommands(t *testing.T) {
	dir := t.TempDir()
	ca := []string{"--ca", filepath.Join(dir, "hotswap-ca.pem"), "--ca-key", filepath.Join(dir, "hotswap-ca-key.pem"), "--dir", dir}
	if r := runCLI(t, "", "tls", "ca", "create", "--dir", dir); r.code != ExitOK {
		t.Fatalf("tls ca create: exit %d %s", r.code, r.stderr)
	}
	caCert := readCert(t, filepath.Join(dir, "hotswap-ca.pem"))
	checkKeyFile(t, filepath.Join(dir, "hotswap-ca-key.pem"))
	if !caCert.IsCA || lifetime(caCert) < 5*365*24*time.Hour-time.Hour || lifetime(caCert) > 5*366*24*time.Hour {
		t.Errorf("CA: IsCA %v, lifetime %v; want a CA of 5 years", caCert.IsCA, lifetime(caCert))
	}
	if r := runCLI(t, "", "tls", "ca", "create", "--dir", dir); r.code == ExitOK {
		t.Error("a second tls ca create in the same folder succeeded: it must not overwrite the CA")
	}

	if r := runCLI(t, "", append([]string{"tls", "cert", "create", "--server", "--ip", "10.0.0.1", "--dns", "h1.example.com"}, ca...)...); r.code != ExitOK {
		t.Fatalf("tls cert create --server: exit %d %s", r.code, r.stderr)
	}
	srv := readCert(t, filepath.Join(dir, "hotswap-server-0.pem"))
	checkKeyFile(t, filepath.Join(dir, "hotswap-server-0-key.pem"))
	if err := srv.CheckSignatureFrom(caCert); err != nil {
		t.Errorf("server certificate not signed by the CA: %v", err)
	}
	pub, ok := srv.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("server key %T, want ECDSA P-256", srv.PublicKey)
	}
	for _, n := range []string{"server.hotswap", "localhost", "h1.example.com"} {
		if !slices.Contains(srv.DNSNames, n) {
			t.Errorf("server certificate DNS names %v lack %s", srv.DNSNames, n)
		}
	}
	if len(srv.IPAddresses) != 2 || srv.IPAddresses[1].String() != "10.0.0.1" || lifetime(srv) > 366*24*time.Hour {
		t.Errorf("server certificate IPs %v, lifetime %v; want 127.0.0.1 and 10.0.0.1, at most a year", srv.IPAddresses, lifetime(srv))
	}
	if r := runCLI(t, "", append([]string{"tls", "cert", "create", "--server"}, ca...)...); r.code != ExitOK {
		t.Fatalf("a second server certificate: exit %d %s", r.code, r.stderr)
	}
	readCert(t, filepath.Join(dir, "hotswap-server-1.pem")) // the next free name, the first kept

	r := runCLI(t, "", append([]string{"-o", "json", "tls", "cert", "create", "--agent", "db-host-1"}, ca...)...)
	if r.code != ExitOK {
		t.Fatalf("tls cert create --agent: exit %d %s", r.code, r.stderr)
	}
	var out tlsFiles
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Kind != "agent" {
		t.Fatalf("-o json output %q: %v; want the files written", r.stdout, err)
	}
	agent := readCert(t, out.Certificate)
	checkKeyFile(t, out.Key)
	if agent.Subject.CommonName != "db-host-1" || !slices.Contains(agent.DNSNames, "db-host-1.agent.hotswap") ||
		slices.Contains(agent.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		t.Errorf("agent certificate CN %q, DNS %v, usages %v; want it naming db-host-1, a client only",
			agent.Subject.CommonName, agent.DNSNames, agent.ExtKeyUsage)
	}
	if r := runCLI(t, "", append([]string{"tls", "cert", "create", "--cli"}, ca...)...); r.code != ExitOK {
		t.Fatalf("tls cert create --cli: exit %d %s", r.code, r.stderr)
	}
	for _, bad := range [][]string{{}, {"--server", "--cli"}, {"--agent", "a", "--ip", "10.0.0.1"}, {"--server", "--ip", "nope"}} {
		if r := runCLI(t, "", append(append([]string{"tls", "cert", "create"}, bad...), ca...)...); r.code != ExitUsage {
			t.Errorf("tls cert create %v: exit %d, want a usage error", bad, r.code)
		}
	}
}
