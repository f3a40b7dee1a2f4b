package e2e

import (
	"context"
	"database/sql"
	"net/http"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// mariaBed is a control plane, an agent and a MariaDB primary with two
// GTID replicas, registered as MySQL database "shop".
type mariaBed struct {
	b        *bed
	primary  *testbed.MariaDB
	replicas []*testbed.MariaDB
}

// newMariaBed starts the servers and the agent and registers the database
// with the primary and, as AsyncReplica, each replica.
func newMariaBed(t *testing.T) *mariaBed {
	t.Helper()
	m := &mariaBed{primary: testbed.StartMariaDB(t, testbed.MariaDBOptions{})}
	m.replicas = []*testbed.MariaDB{m.primary.StartReplica(t), m.primary.StartReplica(t)}
	srv := testbed.StartServer(t, bins, testbed.ServerOptions{})
	m.b = &bed{t: t, srv: srv, api: newAPI(t, srv, token(t, srv), nil)}
	var tok struct{ Token string }
	eventually(t, 10*time.Second, "agent token", func() bool {
		r := m.b.api.do("POST", "/api/v1/agents", map[string]string{"name": "maria-host"})
		if r.Status == http.StatusCreated {
			r.decode(t, &tok)
		}
		return r.Status == http.StatusCreated
	})
	instances := []agentconfig.InstanceConfig{{ID: "primary", Engine: domain.MySQL, DSN: m.primary.DSN(testbed.MariaDBDatabase)}}
	refs := []map[string]string{{"agent": "maria-host", "instanceId": "primary", "role": "Master"}}
	for i, r := range m.replicas {
		id := []string{"replica1", "replica2"}[i]
		instances = append(instances, agentconfig.InstanceConfig{ID: id, Engine: domain.MySQL, DSN: r.DSN(testbed.MariaDBDatabase)})
		refs = append(refs, map[string]string{"agent": "maria-host", "instanceId": id, "role": "AsyncReplica"})
	}
	m.b.agent = testbed.StartAgent(t, bins, agentconfig.Config{Name: "maria-host", Token: tok.Token, Servers: []string{srv.RPCAddr}, Instances: instances})
	m.b.api.must(http.StatusCreated, "POST", "/api/v1/databases", map[string]any{"name": "shop", "type": "MySQL",
		"environment": "Production", "instances": refs})
	eventually(t, 20*time.Second, "the agent to connect", func() bool {
		v, ok := m.b.api.agent("maria-host")
		return ok && v.Connected
	})
	m.exec(t, "CREATE TABLE items (id int PRIMARY KEY, name varchar(40))",
		"INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c')")
	return m
}

// db opens a pool on one server's database app, closed when t ends.
func mariaDB(t *testing.T, s *testbed.MariaDB) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", s.DSN(testbed.MariaDBDatabase))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// exec runs statements on the primary, as the application would.
func (m *mariaBed) exec(t *testing.T, stmts ...string) {
	t.Helper()
	db := mariaDB(t, m.primary)
	for _, s := range stmts {
		if _, err := db.ExecContext(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// hasColumn reports whether server s shows the column in its catalog.
func hasColumn(t *testing.T, s *testbed.MariaDB, table, column string) bool {
	t.Helper()
	var n int
	err := mariaDB(t, s).QueryRowContext(t.Context(), `SELECT count(*) FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = ? AND COLUMN_NAME = ?`, table, column).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// migration creates a migration of shop and returns its id.
func (m *mariaBed) migration(name, strategy, up, down string) string {
	var mig struct{ MigrationID string }
	m.b.api.must(http.StatusCreated, "POST", "/api/v1/migrations", map[string]any{"name": name, "targetDatabaseId": "shop",
		"strategy": strategy, "riskLevel": "Low", "migrationScript": up, "rollbackScript": down}).decode(m.b.t, &mig)
	return mig.MigrationID
}

// TestMariaDBDirectBehindALongTransaction: a long transaction holds the
// table while a scripted read loop reads it; a Direct migration waits for
// the transaction outside the lock queue and finishes once it ends, and
// no read of the readLoop waits much beyond one lock timeout. Then a
// Phased rollout over the primary and two replicas: the change reaches
// every catalog.
func TestMariaDBDirectBehindALongTransaction(t *testing.T) {
	m := newMariaBed(t)
	holder, err := mariaDB(t, m.primary).Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"BEGIN", "SELECT count(*) FROM items"} {
		if _, err := holder.ExecContext(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	w := startReadLoop(t, mariaDB(t, m.primary), "SELECT name FROM items WHERE id = 2")
	mig := m.migration("add_note", "Direct", "ALTER TABLE items ADD COLUMN note varchar(40)", "ALTER TABLE items DROP COLUMN note")
	exec := m.b.execute(mig, map[string]any{"environment": "Production"})
	time.Sleep(2 * time.Second) // the blocker's length: what the migration must wait out
	if hasColumn(t, m.primary, "items", "note") {
		t.Fatal("the column appeared while the transaction held the table")
	}
	if _, err := holder.ExecContext(t.Context(), "COMMIT"); err != nil {
		t.Fatal(err)
	}
	e := m.b.waitTerminal(mig, exec, 60*time.Second)
	longest := w.stop(t)
	if e.Status != domain.ExecutionSucceeded || !hasColumn(t, m.primary, "items", "note") {
		t.Fatalf("execution %s, column %v; want Succeeded and the column there\n%s", e.Status, hasColumn(t, m.primary, "items", "note"), logText(e))
	}
	// The lock timeout is 500 ms: a read may wait that long behind one
	// attempt, plus the watchdog's interval and a loaded machine's slack.
	if longest > 1200*time.Millisecond {
		t.Errorf("the readLoop's longest read took %v: it queued behind the DDL", longest)
	}
	t.Logf("longest read %v, retries %d\n%s", longest, e.Steps[0].Retries, logText(e))

	mig = m.migration("add_tag", "Phased", "ALTER TABLE items ADD COLUMN tag varchar(10)", "ALTER TABLE items DROP COLUMN tag")
	e = m.b.waitTerminal(mig, m.b.execute(mig, map[string]any{"environment": "Production"}), 60*time.Second)
	if e.Status != domain.ExecutionSucceeded {
		t.Fatalf("phased execution %s\n%s", e.Status, logText(e))
	}
	for i, s := range append([]*testbed.MariaDB{m.primary}, m.replicas...) {
		if !hasColumn(t, s, "items", "tag") {
			t.Errorf("server %d lacks the column after the Phased rollout", i)
		}
	}
	if local := localApplySteps(e); local != 1+len(m.replicas) {
		t.Errorf("%d apply steps kept out of replication; want a rolling change on all %d servers\n%s", local, 1+len(m.replicas), logText(e))
	}
	checkStillReplicating(t, m)
	t.Logf("phased steps: %d\n%s", len(e.Steps), logText(e))
}

// localApplySteps counts the forward apply steps run with sql_log_bin=0.
func localApplySteps(e domain.Execution) int {
	n := 0
	for _, s := range e.Steps {
		if s.Direction == domain.Forward && s.Kind == domain.StepApply && s.LocalOnly && s.Status == domain.StepSucceeded {
			n++
		}
	}
	return n
}

// checkStillReplicating checks that a row written on the primary after a
// rolling change reaches every replica: had the primary's ALTER been
// binary-logged, the replicas (which already had the column) would have
// stopped on it.
func checkStillReplicating(t *testing.T, m *mariaBed) {
	t.Helper()
	if _, err := mariaDB(t, m.primary).ExecContext(t.Context(), "INSERT INTO items (id, name, tag) VALUES (9001, 'after', 'x')"); err != nil {
		t.Fatal(err)
	}
	for i, r := range m.replicas {
		deadline := time.Now().Add(30 * time.Second)
		for {
			var n int
			if err := mariaDB(t, r).QueryRowContext(t.Context(), "SELECT count(*) FROM items WHERE id = 9001").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %d never received the row written after the rolling change: replication stopped", i)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// readLoop reads in a loop and keeps its longest read.
type readLoop struct {
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	longest time.Duration
	err     error
}

func startReadLoop(t *testing.T, db *sql.DB, query string) *readLoop {
	ctx, cancel := context.WithCancel(t.Context())
	w := &readLoop{cancel: cancel}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for ctx.Err() == nil {
			start := time.Now()
			var name string
			err := db.QueryRowContext(ctx, query).Scan(&name)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				w.err = err
				return
			}
			w.longest = max(w.longest, time.Since(start))
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return w
}

func (w *readLoop) stop(t *testing.T) time.Duration {
	t.Helper()
	w.cancel()
	w.wg.Wait()
	if w.err != nil {
		t.Fatalf("reads: %v", w.err)
	}
	return w.longest
}
