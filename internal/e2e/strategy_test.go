package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// topologyBed is a PostgreSQL primary with two physical standbys and one
// logical subscriber, served by one agent and registered as database "app".
type topologyBed struct {
	*bed
	standbys []*testbed.Postgres
	sub      *testbed.Postgres
}

func newTopologyBed(t *testing.T) *topologyBed {
	b := newBed(t)
	tb := &topologyBed{bed: b, standbys: []*testbed.Postgres{b.pg.StartStandby(t), b.pg.StartStandby(t)}}
	tb.sub = testbed.StartPostgres(t, testbed.PostgresOptions{})
	tb.subscribe(t)
	var tok struct{ Token string }
	b.api.must(http.StatusCreated, "POST", "/api/v1/agents", map[string]string{"name": "replica-host"}).decode(t, &tok)
	testbed.StartAgent(t, bins, agentconfig.Config{Name: "replica-host", Token: tok.Token, Servers: []string{b.srv.RPCAddr},
		Instances: []agentconfig.InstanceConfig{
			{ID: "standby1", Engine: domain.PostgreSQL, DSN: tb.standbys[0].DSN("app")},
			{ID: "standby2", Engine: domain.PostgreSQL, DSN: tb.standbys[1].DSN("app")},
			{ID: "sub", Engine: domain.PostgreSQL, DSN: tb.sub.DSN("app")},
		}})
	b.api.must(http.StatusOK, "PUT", "/api/v1/databases/app", map[string]any{"name": "app", "type": "PostgreSQL", "environment": "Production",
		"instances": []map[string]string{{"agent": "pg-host", "instanceId": "main", "role": "Master"},
			{"agent": "replica-host", "instanceId": "standby1", "role": "AsyncReplica"},
			{"agent": "replica-host", "instanceId": "standby2", "role": "SyncReplica"},
			{"agent": "replica-host", "instanceId": "sub", "role": "AsyncReplica"}}})
	eventually(t, 30*time.Second, "the replicas' roles and links to be reported", func() bool {
		v, ok := b.api.agent("replica-host")
		s1, _ := instanceOf(v, "standby1")
		sub, _ := instanceOf(v, "sub")
		return ok && v.Connected && s1.Role == "standby" && hasLink(sub, "upstream", "logical")
	})
	return tb
}

// subscribe makes tb.sub a logical subscriber of the primary's accounts.
func (tb *topologyBed) subscribe(t *testing.T) {
	tb.exec("CREATE PUBLICATION app_pub FOR TABLE accounts")
	conn, err := pgx.Connect(context.Background(), tb.sub.DSN("app"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, s := range []string{
		"CREATE TABLE accounts (id serial PRIMARY KEY, balance int NOT NULL DEFAULT 0)",
		fmt.Sprintf("CREATE SUBSCRIPTION app_sub CONNECTION 'host=127.0.0.1 port=%d user=%s password=%s dbname=app' PUBLICATION app_pub",
			tb.pg.Port(), testbed.PostgresUser, tb.pg.Password()),
	} {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", strings.SplitN(s, " CONNECTION", 2)[0], err)
		}
	}
}

func (tb *topologyBed) hasColumnOn(pg *testbed.Postgres, column string) bool {
	conn, err := pgx.Connect(context.Background(), pg.DSN("app"))
	if err != nil {
		tb.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	_ = conn.QueryRow(context.Background(), `SELECT count(*) FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = $1`, column).Scan(&n)
	return n == 1
}

func stepShape(e domain.Execution) string {
	var parts []string
	for _, s := range e.Steps {
		parts = append(parts, fmt.Sprintf("%d:%s:%s:%s:%s", s.PhaseIndex, s.Kind, s.Direction, s.InstanceID, s.Status))
	}
	return strings.Join(parts, " ")
}

// TestPhasedOnRealTopology: the subscriber first, the master last, then
// verify on each physical standby that the change arrived; then a rollback
// undoes it in reverse and verifies the standbys again.
func TestPhasedOnRealTopology(t *testing.T) {
	tb := newTopologyBed(t)
	mig := tb.migration("phased_col", "ALTER TABLE accounts ADD COLUMN phased int;", "ALTER TABLE accounts DROP COLUMN IF EXISTS phased;")
	var plan struct {
		Plan struct {
			Explanation []string
			Steps       []domain.Step
		}
	}
	tb.api.must(http.StatusOK, "GET", "/api/v1/migrations/"+mig+"/plan?strategy=Phased", nil).decode(t, &plan)
	if len(plan.Plan.Steps) != 4 || len(plan.Plan.Explanation) != 3 {
		t.Fatalf("plan = %+v, want 4 steps in 3 phases", plan.Plan)
	}
	e := tb.waitTerminal(mig, tb.execute(mig, map[string]any{"strategy": "Phased"}), 60*time.Second)
	want := "0:apply:forward:sub:Succeeded 1:apply:forward:main:Succeeded 2:verify:forward:standby1:Succeeded 2:verify:forward:standby2:Succeeded"
	if e.Status != domain.ExecutionSucceeded || stepShape(e) != want {
		t.Fatalf("execution = %s, steps %s, want %s\n%s", e.Status, stepShape(e), want, logText(e))
	}
	for _, pg := range []*testbed.Postgres{tb.pg, tb.sub, tb.standbys[0], tb.standbys[1]} {
		if !tb.hasColumnOn(pg, "phased") {
			t.Errorf("instance on port %d lacks the column", pg.Port())
		}
	}
	if len(e.Phases) != 3 || e.Phases[2].Progress != 100 {
		t.Errorf("phases = %+v, want 3 at 100%%", e.Phases)
	}

	var rb struct{ Status string }
	tb.api.must(http.StatusOK, "POST", "/api/v1/migrations/"+mig+"/executions/"+e.ExecutionID+"/rollback",
		map[string]string{"reason": "undo the phased rollout"}).decode(t, &rb)
	after := tb.execution(mig, e.ExecutionID)
	wantRB := "4:apply:rollback:main:Succeeded 5:apply:rollback:sub:Succeeded 6:verify:rollback:standby1:Succeeded 6:verify:rollback:standby2:Succeeded"
	if rb.Status != "RolledBack" || !strings.HasSuffix(stepShape(after), wantRB) {
		t.Fatalf("rollback = %s, steps %s, want them to end %s\n%s", rb.Status, stepShape(after), wantRB, logText(after))
	}
	for _, pg := range []*testbed.Postgres{tb.pg, tb.sub, tb.standbys[0], tb.standbys[1]} {
		if tb.hasColumnOn(pg, "phased") {
			t.Errorf("instance on port %d still has the column after the rollback", pg.Port())
		}
	}
}

// TestCanaryFailureRollsBackTheWave: the master's wave fails, so what the
// first wave applied (the subscriber) is rolled back and the rest never runs.
func TestCanaryFailureRollsBackTheWave(t *testing.T) {
	tb := newTopologyBed(t)
	// Breaks on the master only: the column exists there already.
	tb.exec("ALTER TABLE accounts ADD COLUMN canary int")
	mig := tb.migration("canary_col", "ALTER TABLE accounts ADD COLUMN canary int;", "ALTER TABLE accounts DROP COLUMN IF EXISTS canary;")
	e := tb.waitTerminal(mig, tb.execute(mig, map[string]any{"strategy": "Canary"}), 60*time.Second)
	if e.Status != domain.ExecutionRolledBack || e.Error == nil || e.Error.SQLState != "42701" {
		t.Fatalf("execution = %s (%+v), want RolledBack with the master's 42701\n%s", e.Status, e.Error, logText(e))
	}
	if !strings.Contains(stepShape(e), "apply:rollback:sub:Succeeded") || strings.Contains(stepShape(e), "verify:forward:standby1:Succeeded") {
		t.Errorf("steps = %s, want the subscriber rolled back and no standby verified", stepShape(e))
	}
	if tb.hasColumnOn(tb.sub, "canary") {
		t.Error("the first wave's change on the subscriber was not rolled back")
	}
}

// TestPauseAndSwitchStrategy: a paused Phased rollout keeps what it applied
// when it resumes as Direct.
func TestPauseAndSwitchStrategy(t *testing.T) {
	tb := newTopologyBed(t)
	mig := tb.migration("switch_col", "ALTER TABLE accounts ADD COLUMN switched int; SELECT pg_sleep(1);",
		"ALTER TABLE accounts DROP COLUMN IF EXISTS switched;")
	exec := tb.execute(mig, map[string]any{"strategy": "Phased"})
	eventually(t, 20*time.Second, "the first phase to run", func() bool {
		e := tb.execution(mig, exec)
		return len(e.Steps) > 0 && e.Steps[0].Status == domain.StepRunning
	})
	tb.api.must(http.StatusOK, "POST", "/api/v1/migrations/"+mig+"/executions/"+exec+"/pause", map[string]string{"reason": "look first"})
	var last domain.Execution
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last: %s %s\n%s", last.Status, stepShape(last), logText(last))
		}
	})
	eventually(t, 20*time.Second, "the running phase to finish while paused", func() bool {
		last = tb.execution(mig, exec)
		return last.Status == domain.ExecutionPaused && last.Steps[0].Status == domain.StepSucceeded
	})
	time.Sleep(time.Second)
	if e := tb.execution(mig, exec); e.Steps[1].Status != domain.StepPending {
		t.Fatalf("the next phase started while paused: %s", stepShape(e))
	}
	tb.api.must(http.StatusOK, "POST", "/api/v1/migrations/"+mig+"/executions/"+exec+"/resume", map[string]string{"strategy": "Direct"})
	e := tb.waitTerminal(mig, exec, 60*time.Second)
	want := "0:apply:forward:sub:Succeeded 1:apply:forward:main:Succeeded"
	if e.Status != domain.ExecutionSucceeded || stepShape(e) != want || e.Strategy != domain.Direct {
		t.Fatalf("after switching to Direct: %s %s steps %s, want %s\n%s", e.Status, e.Strategy, stepShape(e), want, logText(e))
	}
}
