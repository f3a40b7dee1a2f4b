package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
)

func TestLoadConfigRefusesAnEngineNotServed(t *testing.T) {
	var notServed domain.DatabaseType
	for _, e := range domain.DatabaseTypes {
		if !supportedEngine(e) {
			notServed = e
			break
		}
	}
	if notServed == "" {
		t.Skip("this agent serves every engine HotSwap knows")
	}
	p := filepath.Join(t.TempDir(), "agent.yaml")
	body := "name: h\ntoken: t\nservers: [\"127.0.0.1:5001\"]\ntls: {plaintext: true}\ninstances: [{id: m, engine: " + string(notServed) + ", dsn: x}]\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(p)
	if err == nil || !strings.Contains(err.Error(), "not one this agent serves") {
		t.Fatalf("LoadConfig() with engine %s: error = %v, want it refused as not served", notServed, err)
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
