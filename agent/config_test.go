package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	raw, err := os.ReadFile("../packaging/agent.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(raw), "token_file: /etc/hotswap/agent.token", "token: hsa_x", 1)
	cfg, err := LoadConfig(writeConfig(t, body))
	if err != nil {
		t.Fatalf("the shipped example does not load: %v", err)
	}
	if cfg.Name != "db-host-1" || len(cfg.Servers) != 3 || len(cfg.Instances) != 1 || cfg.SampleInterval.Seconds() != 1 {
		t.Errorf("example = %+v", cfg)
	}
}

func TestConfigRefusesBadInput(t *testing.T) {
	base := "name: h\ntoken: t\nservers: [\"127.0.0.1:5001\"]\n"
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
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(writeConfig(t, tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestSecretsOf(t *testing.T) {
	for _, dsn := range []string{
		"postgres://u:s3cret-pw@h:5432/db",
		"host=h user=u password=s3cret-pw dbname=db",
		"host=h password='s3cret-pw' user=u",
	} {
		found := false
		for _, s := range secretsOf(dsn) {
			found = found || s == "s3cret-pw"
		}
		if !found {
			t.Errorf("secretsOf(%q) misses the password", dsn)
		}
	}
}
