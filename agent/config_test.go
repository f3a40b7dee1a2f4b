package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// TestLoadConfigRefusesAnEngineNotServed: an engine HotSwap does not know
// is refused by name, and one no package registered in this build (every
// known engine is registered here, so checkEngines is asked directly).
func TestLoadConfigRefusesAnEngineNotServed(t *testing.T) {
	p := filepath.Join(t.TempDir(), "agent.yaml")
	body := "name: h\ntoken: t\nservers: [\"127.0.0.1:5001\"]\ntls: {plaintext: true}\ninstances: [{id: m, engine: DB2, dsn: x}]\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), `engine "DB2" is not one HotSwap knows`) {
		t.Errorf("LoadConfig() with engine DB2: error = %v, want it refused by name", err)
	}
	cfg := agentconfig.Config{Instances: []agentconfig.InstanceConfig{{ID: "m", Engine: "DB2"}}}
	if err := checkEngines(cfg); err == nil || !strings.Contains(err.Error(), "not one this agent serves") {
		t.Errorf("checkEngines() with an engine not registered: error = %v, want it refused as not served", err)
	}
	for _, e := range domain.DatabaseTypes {
		if !supportedEngine(e) {
			t.Errorf("engine %s is not registered in the agent", e)
		}
	}
}

func TestLoadConfigRefusesAPoolerKindNotServed(t *testing.T) {
	p := filepath.Join(t.TempDir(), "agent.yaml")
	body := "name: h\ntoken: t\nservers: [\"127.0.0.1:5001\"]\ntls: {plaintext: true}\n" +
		"instances: [{id: m, engine: PostgreSQL, dsn: \"postgres://u@h/db\"}]\n" +
		"poolers: [{id: p, kind: nosuch, admin_dsn: \"postgres://u@h:6432/pgbouncer\", config_file: /tmp/x.ini, database: app," +
		" targets: {blue: {host: h, port: 5432, dbname: db}}}]\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(p)
	if err == nil || !strings.Contains(err.Error(), `kind "nosuch"`) {
		t.Fatalf("LoadConfig() with pooler kind nosuch: error = %v, want it refused naming the kind", err)
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
