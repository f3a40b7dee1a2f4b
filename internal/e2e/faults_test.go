package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	wire "github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// TestAgentFollowsTheLeader: an agent that dials a follower first reads
// its redirect and follows it (no "send hello: EOF"); after the leader is
// killed it is back on the new leader at once, its backoff reset by the
// session it had; a wrong token is reported as an authentication failure.
func TestAgentFollowsTheLeader(t *testing.T) {
	servers := testbed.StartCluster(t, bins, 3)
	tok := bootstrapToken(t, servers)
	leader := leaderOf(t, servers, tok)
	f := followers(servers, leader)
	a := newAPI(t, leader, tok, nil)
	var agentTok struct{ Token string }
	a.must(http.StatusCreated, "POST", "/api/v1/agents", map[string]string{"name": "roamer"}).decode(t, &agentTok)
	rpc := []string{f[0].RPCAddr, f[1].RPCAddr, leader.RPCAddr}
	ag := testbed.StartAgent(t, bins, agentconfig.Config{Name: "roamer", Token: agentTok.Token, Servers: rpc})
	eventually(t, 20*time.Second, "the agent to connect to the leader", func() bool {
		v, ok := a.agent("roamer")
		return ok && v.Connected
	})
	if log := ag.Log(); !strings.Contains(log, "redirected to the leader") || strings.Contains(log, "EOF") {
		t.Fatalf("the agent did not read the follower's redirect:\n%s", tailString(log, 3000))
	}

	leader.Kill()
	newLeader := leaderOf(t, f, tok)
	elected := time.Now()
	na := newAPI(t, newLeader, tok, nil)
	eventually(t, 30*time.Second, "the agent to reconnect to the new leader", func() bool {
		v, ok := na.agent("roamer")
		return ok && v.Connected
	})
	// The old path waited 5-15 s (a backoff never reset by a session
	// shorter than 10 s); now the agent is back within a few retries.
	if took := time.Since(elected); took > 5*time.Second {
		t.Errorf("the agent reconnected %s after the new leader was known, want under 5s\n%s", took, tailString(ag.Log(), 3000))
	}

	bad := testbed.StartAgent(t, bins, agentconfig.Config{Name: "roamer", Token: "hsa_not-a-token", Servers: []string{f[0].RPCAddr}})
	eventually(t, 20*time.Second, "the refused token to be reported", func() bool {
		return strings.Contains(bad.Log(), "authentication failed")
	})
	if log := bad.Log(); strings.Contains(log, "EOF") {
		t.Errorf("the refused token shows as EOF:\n%s", tailString(log, 3000))
	}
}

// TestShutdownEndsAgentStreams: SIGTERM to a server with an agent
// connected ends the agent's stream first and exits promptly; the old
// path waited the full 10 s graceful-stop deadline for the stream.
func TestShutdownEndsAgentStreams(t *testing.T) {
	b := newBed(t)
	if err := b.srv.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.srv.Exited():
	case <-time.After(5 * time.Second):
		t.Fatalf("hotswapd still runs 5 s after SIGTERM with an agent connected\n%s", tailString(b.srv.Log(), 3000))
	}
	eventually(t, 10*time.Second, "the agent to see its session ended by the shutdown", func() bool {
		return strings.Contains(b.agent.Log(), "shutting down")
	})
}

// TestFrozenAgentReleasesLocks: the agent is frozen (SIGSTOP) inside a
// step's transaction, after its ALTER took ACCESS EXCLUSIVE, while the
// application reads the table. The database ends the step's session by
// the step's deadline, so the application's reads go on; once the agent is
// thawed the execution ends RolledBack, with nothing applied.
func TestFrozenAgentReleasesLocks(t *testing.T) {
	b := newBed(t)
	mig := b.migration("frozen", "ALTER TABLE accounts ADD COLUMN frozen int; SELECT pg_sleep(1);",
		"ALTER TABLE accounts DROP COLUMN IF EXISTS frozen;")
	const timeout = 6 * time.Second
	exec := b.execute(mig, map[string]any{"timeoutSeconds": int(timeout / time.Second)})
	started := time.Now()
	eventually(t, 10*time.Second, "the step to hold its lock", func() bool { return agentLocks(b, "accounts") > 0 })
	if err := b.agent.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			_ = b.agent.Signal(syscall.SIGCONT)
		}
	}
	t.Cleanup(thaw)
	reads := startAppReads(t, b)
	// The step's deadline is the execution's; the idle bound (3 s) may
	// come on top when the agent froze right before its deadline.
	eventually(t, timeout+10*time.Second, "the frozen agent's lock to be released", func() bool { return agentLocks(b, "accounts") == 0 })
	if held := time.Since(started); held > timeout+4*time.Second {
		t.Errorf("the lock was held %s, past the step's deadline (%s)", held, timeout)
	}
	eventually(t, 10*time.Second, "the application's reads to go on", func() bool { return reads.count() > 0 })
	thaw()
	e := b.waitTerminal(mig, exec, 60*time.Second)
	if e.Status != domain.ExecutionRolledBack && e.Status != domain.ExecutionFailed {
		t.Fatalf("execution = %s, want RolledBack or Failed\n%s", e.Status, logText(e))
	}
	if b.hasColumn("accounts", "frozen") {
		t.Error("column frozen exists although the execution did not succeed")
	}
	if n := b.query(`SELECT count(*) FROM hotswap.schema_history WHERE execution_id = $1 AND direction = 'forward'`, exec).(int64); n != 0 {
		t.Errorf("forward history rows = %d, want 0", n)
	}
}

// agentLocks counts the locks the agent's sessions hold on table.
func agentLocks(b *bed, table string) int64 {
	return b.query(`SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE a.application_name = 'hotswap-agent' AND l.granted AND l.relation = to_regclass($1)`, table).(int64)
}

// appReads reads the accounts table in a loop, as the application would.
type appReads struct{ done chan struct{} }

func startAppReads(t *testing.T, b *bed) *appReads {
	r := &appReads{done: make(chan struct{}, 1000)}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	conn := b.conn()
	go func() {
		defer conn.Close(context.Background())
		for ctx.Err() == nil {
			var n int64
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM accounts").Scan(&n); err == nil {
				select {
				case r.done <- struct{}{}:
				default:
				}
			}
		}
	}()
	return r
}

func (r *appReads) count() int { return len(r.done) }

// TestAgentKilledDuringConcurrentIndex: the agent is killed -9 while its
// CREATE INDEX CONCURRENTLY builds (slowly: each key takes 10 ms); the
// restarted agent gets the step again, waits for the orphaned backend,
// reconciles with what it left, and the execution succeeds with one
// history row and a valid index (the old path ran the build again and
// failed with 42P07, rolling back "0 applied steps").
func TestAgentKilledDuringConcurrentIndex(t *testing.T) {
	b := newBed(t)
	b.exec(`CREATE FUNCTION slow_key(v int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
		$$ BEGIN PERFORM pg_sleep(0.01); RETURN v; END $$`,
		"CREATE TABLE slowidx (id int)", "INSERT INTO slowidx SELECT g FROM generate_series(1, 300) g")
	mig := b.migration("cic", "CREATE INDEX CONCURRENTLY slowidx_key_idx ON slowidx ((slow_key(id)));",
		"DROP INDEX CONCURRENTLY IF EXISTS slowidx_key_idx;")
	exec := b.execute(mig, map[string]any{"timeoutSeconds": 120})
	eventually(t, 15*time.Second, "the index build to run", func() bool {
		return b.query(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'hotswap-agent'
			AND query LIKE 'CREATE INDEX CONCURRENTLY%' AND state = 'active'`).(int64) > 0
	})
	b.agent.Kill()
	if err := b.agent.Start(); err != nil {
		t.Fatal(err)
	}
	e := b.waitTerminal(mig, exec, 90*time.Second)
	if e.Status != domain.ExecutionSucceeded {
		t.Fatalf("execution = %s, want Succeeded\n%s", e.Status, logText(e))
	}
	if n := b.query(`SELECT count(*) FROM hotswap.schema_history WHERE execution_id = $1`, exec).(int64); n != 1 {
		t.Errorf("history rows = %d, want 1", n)
	}
	if !b.query(`SELECT coalesce((SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('slowidx_key_idx')), false)`).(bool) {
		t.Error("index slowidx_key_idx is missing or invalid")
	}
}

// TestStatementLogsSurviveFailover: every server's Raft port sits behind
// a proxy. While the step runs, every Raft link is cut, so nothing the
// leader receives can be committed: the step's
// per-statement log lines stream to it and stay in its buffer. Right after
// the step's result (its history row is in the database) the leader is
// killed -9 and the followers are healed. The new leader's log of the
// execution has a line for every statement of the step, from the result
// the agent delivers again (the old path kept them only in the dead
// leader's buffer), and the rollout succeeds with one history row.
func TestStatementLogsSurviveFailover(t *testing.T) {
	pg := testbed.StartPostgres(t, testbed.PostgresOptions{})
	servers := testbed.StartClusterWith(t, bins, 3, testbed.ClusterOptions{RaftProxies: true})
	tok := bootstrapToken(t, servers)
	leader := leaderOf(t, servers, tok)
	a := newAPI(t, leader, tok, nil)
	var agentTok struct{ Token string }
	a.must(http.StatusCreated, "POST", "/api/v1/agents", map[string]string{"name": "pg-host"}).decode(t, &agentTok)
	var rpc []string
	for _, s := range servers {
		rpc = append(rpc, s.RPCAddr)
	}
	testbed.StartAgent(t, bins, agentconfig.Config{Name: "pg-host", Token: agentTok.Token, Servers: rpc,
		Instances: []agentconfig.InstanceConfig{{ID: "main", Engine: domain.PostgreSQL, DSN: pg.DSN("app")}}})
	a.must(http.StatusCreated, "POST", "/api/v1/databases", map[string]any{"name": "app", "type": "PostgreSQL",
		"environment": "Development", "instances": []map[string]string{{"agent": "pg-host", "instanceId": "main", "role": "Master"}}})
	eventually(t, 20*time.Second, "the agent to connect", func() bool {
		v, ok := a.agent("pg-host")
		return ok && v.Connected
	})
	stmts := []string{"SELECT pg_sleep(3)", "CREATE TABLE logged_a (id int)", "CREATE TABLE logged_b (id int)"}
	var mig struct{ MigrationID string }
	a.must(http.StatusCreated, "POST", "/api/v1/migrations", map[string]any{"name": "logged", "targetDatabaseId": "app",
		"strategy": "Direct", "riskLevel": "Low", "migrationScript": strings.Join(stmts, "; ") + ";",
		"rollbackScript": "DROP TABLE IF EXISTS logged_a, logged_b;"}).decode(t, &mig)
	var ex struct{ ExecutionID string }
	a.must(http.StatusAccepted, "POST", "/api/v1/migrations/"+mig.MigrationID+"/execute", map[string]any{}).decode(t, &ex)
	db := &bed{t: t, pg: pg}
	eventually(t, 30*time.Second, "the step to run", func() bool {
		return db.query(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'hotswap-agent'
			AND query LIKE '%pg_sleep(3)%' AND state = 'active'`).(int64) > 0
	})
	// Every Raft port cut: a follower cut off alone could still dial the
	// others, and win an election with the old leader's vote.
	for _, s := range servers {
		s.RaftProxy.Cut()
	}
	history := func() int64 {
		return db.query(`SELECT count(*) FROM pg_tables WHERE schemaname = 'hotswap' AND tablename = 'schema_history'`).(int64) *
			db.query(`SELECT count(*) FROM hotswap.schema_history WHERE execution_id = $1`, ex.ExecutionID).(int64)
	}
	eventually(t, 30*time.Second, "the step's result (its history row)", func() bool { return history() == 1 })
	var cut domain.Execution
	a.must(http.StatusOK, "GET", "/api/v1/migrations/"+mig.MigrationID+"/executions/"+ex.ExecutionID, nil).decode(t, &cut)
	if cut.Steps[0].Status != domain.StepRunning {
		var views []string
		for _, s := range servers {
			var st wire.ClusterStatus
			newAPI(t, s, tok, nil).do("GET", "/api/v1/cluster", nil).decode(t, &st)
			views = append(views, fmt.Sprintf("%s: leader %s term %d commit %d", s.ID, st.Leader, st.Term, st.CommitIndex))
		}
		t.Fatalf("the leader %s, cut off from the others, shows step %s %s: the cut came too late (%s)", leader.ID, cut.Steps[0].StepID, cut.Steps[0].Status, strings.Join(views, "; "))
	}
	leader.Kill()
	for _, s := range servers {
		s.RaftProxy.Heal()
	}
	na := newAPI(t, leaderOf(t, followers(servers, leader), tok), tok, nil)
	path := "/api/v1/migrations/" + mig.MigrationID + "/executions/" + ex.ExecutionID
	var e domain.Execution
	eventually(t, 60*time.Second, "the rollout to end on the new leader", func() bool {
		r := na.do("GET", path, nil)
		if r.Status == http.StatusOK {
			r.decode(t, &e)
		}
		return e.Status.Terminal()
	})
	if e.Status != domain.ExecutionSucceeded {
		t.Fatalf("execution = %s after the failover, want Succeeded\n%s", e.Status, logText(e))
	}
	for i, s := range stmts {
		if !hasStatementLine(e.Logs, e.Steps[0].StepID, s) {
			t.Errorf("no log line for statement %d (%s) of step %s on the new leader:\n%s", i+1, s, e.Steps[0].StepID, logText(e))
		}
	}
	if n := history(); n != 1 {
		t.Errorf("history rows = %d, want 1", n)
	}
}

// hasStatementLine reports whether logs hold a step's line naming stmt.
func hasStatementLine(logs []domain.LogEntry, stepID, stmt string) bool {
	for _, l := range logs {
		if l.StepID == stepID && strings.Contains(l.Statement, stmt) {
			return true
		}
	}
	return false
}
