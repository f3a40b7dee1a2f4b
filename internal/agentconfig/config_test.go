package agentconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "agent.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExampleConfigLoads(t *testing.T) {
	raw, err := os.ReadFile("../../packaging/agent.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(raw), "token_file: /etc/hotswap/agent.token", "token: hsa_x", 1)
	cfg, err := Load(writeConfig(t, body))
	if err != nil {
		t.Fatalf("the shipped example does not load: %v", err)
	}
	if cfg.Name != "db-host-1" || len(cfg.Servers) != 3 || len(cfg.Instances) != 1 || cfg.SampleInterval.Seconds() != 1 {
		t.Errorf("example = %+v", cfg)
	}
}

func TestConfigRefusesBadInput(t *testing.T) {
	base := "name: h\ntoken: t\nservers: [\"127.0.0.1:5001\"]\ntls: {plaintext: true}\n"
	cases := []struct{ name, body, want string }{
		{"no name", "token: t\nservers: [\"a:1\"]\n", "name"},
		{"no token", "name: h\nservers: [\"a:1\"]\n", "token"},
		{"no servers", "name: h\ntoken: t\n", "servers"},
		{"server without port", "name: h\ntoken: t\nservers: [\"a\"]\n", "host:port"},
		{"unknown field", base + "colour: red\n", "colour"},
		{"unknown engine", base + "instances: [{id: m, engine: Mongo, dsn: x}]\n", "engine"},
		{"instance twice", base + "instances: [{id: m, engine: PostgreSQL, dsn: x}, {id: m, engine: PostgreSQL, dsn: y}]\n", "twice"},
		{"no dsn", base + "instances: [{id: m, engine: PostgreSQL}]\n", "dsn"},
		{"sampling too fast", base + "sample_interval: 1ms\n", "sample_interval"},
		{"no tls", "name: h\ntoken: t\nservers: [\"a:1\"]\n", "tls.ca_cert is required"},
		{"plaintext and a CA", "name: h\ntoken: t\nservers: [\"a:1\"]\ntls: {plaintext: true, ca_cert: ca.pem}\n", "plaintext"},
		{"cert without key", "name: h\ntoken: t\nservers: [\"a:1\"]\ntls: {ca_cert: ca.pem, cert_file: a.pem}\n", "go together"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestWriteThenLoad(t *testing.T) {
	want := Config{Name: "h", Token: "hsa_x", Servers: []string{"127.0.0.1:5001"}, SampleInterval: 250 * time.Millisecond,
		TLS:       TLSConfig{CACert: "/etc/hotswap/tls/hotswap-ca.pem", ServerName: "server.hotswap"},
		Instances: []InstanceConfig{{ID: "main", Engine: domain.PostgreSQL, DSN: "postgres://u:pw@127.0.0.1:5432/app"}},
		Poolers: []PoolerConfig{{ID: "bouncer", AdminDSN: "postgres://u:pw@127.0.0.1:6432/pgbouncer", ConfigFile: "/tmp/pgb.ini",
			Database: "app", Targets: map[string]PoolerTarget{"blue": {Host: "127.0.0.1", Port: 5432, DBName: "app"}}}}}
	path := filepath.Join(t.TempDir(), "agent.yaml")
	if err := Write(path, want); err != nil {
		t.Fatalf("Write() error = %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("written file: %v, mode %v; want mode 0600 (it holds credentials)", err, fi.Mode().Perm())
	}
	got, err := Load(path)
	if err != nil {
		t.Fatalf("Load() of a written config error = %v", err)
	}
	want.ProbeTimeout, want.ProcRoot = 2*time.Second, "/proc" // Validate's defaults
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load(Write(cfg)) = %+v, want %+v", got, want)
	}
}
