package e2e

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	wire "github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

func instanceOf(ag wire.AgentView, id string) (domain.InstanceStatus, bool) {
	for _, in := range ag.Instances {
		if in.InstanceID == id {
			return in, true
		}
	}
	return domain.InstanceStatus{}, false
}

func hasLink(in domain.InstanceStatus, direction, kind string) bool {
	for _, l := range in.Links {
		if l.Direction == direction && l.Kind == kind {
			return true
		}
	}
	return false
}

// TestAgentReportsInstances runs a real agent against a real PostgreSQL
// primary and standby: it connects, its instances show up with the role the
// database reports, and it reconnects after the server restarts. Then no
// password may appear in any response, log or data folder.
func TestAgentReportsInstances(t *testing.T) {
	primary := testbed.StartPostgres(t, testbed.PostgresOptions{})
	standby := primary.StartStandby(t)
	srv := testbed.StartServer(t, bins, testbed.ServerOptions{})
	rec := &recorder{}
	a := newAPI(t, srv, token(t, srv), rec)

	var tok struct{ Token string }
	eventually(t, 10*time.Second, "agent token", func() bool {
		r := a.do("POST", "/api/v1/agents", map[string]string{"name": "pg-host"})
		if r.Status == http.StatusCreated {
			r.decode(t, &tok)
		}
		return r.Status == http.StatusCreated
	})
	deadPort, _ := testbed.FreePort()
	ag := testbed.StartAgent(t, bins, agentconfig.Config{
		Name: "pg-host", Token: tok.Token, Servers: []string{srv.RPCAddr},
		Instances: []agentconfig.InstanceConfig{
			{ID: "main", Engine: domain.PostgreSQL, DSN: primary.DSN("app")},
			{ID: "replica", Engine: domain.PostgreSQL, DSN: standby.DSN("app")},
			{ID: "gone", Engine: domain.PostgreSQL, DSN: strings.Replace(primary.DSN("app"),
				":"+itoa(primary.Port())+"/", ":"+itoa(deadPort)+"/", 1)},
		},
	})

	var seen wire.AgentView
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last agent view: %+v\nagent log:\n%s", seen, tailString(ag.Log(), 3000))
		}
	})
	eventually(t, 20*time.Second, "the agent's instances with their roles", func() bool {
		v, ok := a.agent("pg-host")
		seen = v
		if !ok || !v.Connected {
			return false
		}
		m, ok1 := instanceOf(v, "main")
		r, ok2 := instanceOf(v, "replica")
		return ok1 && ok2 && m.Role == "primary" && r.Role == "standby" &&
			hasLink(m, "downstream", "physical") && hasLink(r, "upstream", "physical")
	})
	if m, _ := instanceOf(seen, "main"); !m.Reachable || !strings.HasPrefix(m.ServerVersion, "1") {
		t.Errorf("primary = %+v, want reachable with a server version", m)
	}
	if g, ok := instanceOf(seen, "gone"); !ok || g.Reachable || g.Error == "" {
		t.Errorf("unreachable instance = %+v, want reachable=false with an error", g)
	}

	// A database registered by reference gets live health from the agent.
	a.must(http.StatusCreated, "POST", "/api/v1/databases", map[string]any{
		"name": "app", "type": "PostgreSQL", "environment": "Staging",
		"instances": []map[string]string{
			{"agent": "pg-host", "instanceId": "main", "role": "Master"},
			{"agent": "pg-host", "instanceId": "replica", "role": "AsyncReplica"},
		},
	})
	var health struct {
		IsHealthy bool
		Problems  []string
		Instances []struct {
			InstanceID     string
			DetectedRole   string
			AgentConnected bool
			LastCheck      time.Time
		}
	}
	a.must(http.StatusOK, "GET", "/api/v1/databases/app/health", nil).decode(t, &health)
	if !health.IsHealthy || len(health.Instances) != 2 || health.Instances[0].DetectedRole != "primary" ||
		health.Instances[1].DetectedRole != "standby" || health.Instances[0].LastCheck.IsZero() {
		t.Errorf("health = %+v, want healthy with primary and standby detected", health)
	}

	// The server restarts: the agent reconnects by itself.
	srv.Stop()
	restartedAt := time.Now()
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the agent to reconnect", func() bool {
		v, ok := a.agent("pg-host")
		return ok && v.Connected && v.LastSeen.After(restartedAt)
	})

	// A standby that is stopped shows as unreachable, and health says so.
	if err := standby.Stop(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the stopped standby to be reported", func() bool {
		r := a.do("GET", "/api/v1/databases/app/health", nil)
		return r.Status == http.StatusOK && strings.Contains(string(r.Body), `"isHealthy": false`) &&
			strings.Contains(string(r.Body), "pg-host/replica: unreachable")
	})

	assertNoSecret(t, primary.Password(), map[string]string{
		"API responses": rec.all(), "server log": srv.Log(), "agent log": ag.Log(),
	}, srv.DataDir)
}

// assertNoSecret fails when secret appears in any text or in any file under dirs.
func assertNoSecret(t *testing.T, secret string, texts map[string]string, dirs ...string) {
	t.Helper()
	if len(secret) < 8 {
		t.Fatalf("secret %q too short to scan for", secret)
	}
	for name, text := range texts {
		if text == "" {
			t.Errorf("%s is empty: nothing was scanned", name)
		}
		if strings.Contains(text, secret) {
			t.Errorf("the database password appears in the %s", name)
		}
	}
	files := 0
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			if strings.Contains(string(b), secret) {
				t.Errorf("the database password appears in %s", path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files == 0 {
		t.Error("no data files were scanned")
	}
}

func itoa(v int) string { return strconv.Itoa(v) }

func tailString(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
