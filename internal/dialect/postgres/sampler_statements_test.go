package postgres_test

import (
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/dialect/postgres"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// testSamplerStatements runs a fast statement nine times out of ten and a
// slow one the tenth, and the agent's own statement beside them: the
// sample lists the two application statements with their own calls and
// means, and not the agent's.
func testSamplerStatements(t *testing.T, p *testbed.Postgres, c *postgres.Conn) {
	fast, slow := "SELECT 1 AS fast, pg_sleep(0.002)", "SELECT 1 AS slow, 2 AS slower, pg_sleep(0.03)"
	w := startStmtLoop(t, p.DSN("app"), fast, fast, fast, fast, fast, fast, fast, fast, fast, slow)
	w.waitCalls(t, 20)
	s := newSampler(t, c)
	takeSample(t, s)
	w.waitCalls(t, w.calls()+200)
	if _, err := c.Pool().Exec(t.Context(), "/* hotswap-agent test */ SELECT 1 AS agent_only, 2, 3, pg_sleep(0.2)"); err != nil {
		t.Fatal(err)
	}
	got := takeSample(t, s)
	w.stop()
	t.Logf("statements: %+v", got.Statements)
	if len(got.Statements) != 2 {
		t.Fatalf("Statements = %+v, want the 2 application statements (the agent's left out)", got.Statements)
	}
	f, sl := got.Statements[0], got.Statements[1]
	if f.Calls < 5*sl.Calls || f.MeanMs < 1.5 || f.MeanMs > 10 || sl.MeanMs < 25 || sl.MeanMs > 80 {
		t.Errorf("fast %+v, slow %+v: want 9 fast calls of ~2 ms to 1 slow of ~30 ms", f, sl)
	}
	if sum := f.Calls + sl.Calls; sum != got.Calls {
		t.Errorf("statement calls add up to %d, the sample has %d", sum, got.Calls)
	}
}

// testSamplerQueuedBehindAgent: an application session holds a table, the
// agent's DDL waits for it in the lock queue, and another application
// session queues behind the DDL: the sample counts that one as queued
// behind the agent; an application session blocked by an application
// session is not.
func testSamplerQueuedBehindAgent(t *testing.T, p *testbed.Postgres, c *postgres.Conn) {
	execSQL(t, p.DSN("app"), "CREATE TABLE sampler_queue (id int)")
	holder, waiter := connect(t, p.DSN("app"), samplerApp), connect(t, p.DSN("app"), samplerApp)
	execOn(t, holder, "BEGIN", "LOCK TABLE sampler_queue IN ACCESS SHARE MODE")
	s := newSampler(t, c)
	done := make(chan error, 2)
	go func() {
		_, err := c.Pool().Exec(t.Context(), "/* hotswap-agent test */ ALTER TABLE sampler_queue ADD COLUMN x int")
		done <- err
	}()
	// The agent's own wait is not counted, and the application session is
	// started only once the DDL is in the lock queue (else it would take
	// its lock first and queue behind nobody).
	waitSample(t, s, "the agent's DDL waiting", func(s domain.Sample) bool { return s.LockWaitMs == 0 && s.QueuedBehindAgent == 0 })
	waitDDLQueued(t, holder, "sampler_queue")
	go func() { _, err := waiter.Exec(t.Context(), "SELECT * FROM sampler_queue"); done <- err }()
	got := waitSample(t, s, "a session queued behind the agent", func(s domain.Sample) bool { return s.LockWaiters > 0 })
	if got.QueuedBehindAgent != 1 {
		t.Errorf("QueuedBehindAgent = %d with one session behind the agent's DDL, want 1", got.QueuedBehindAgent)
	}
	execOn(t, holder, "COMMIT")
	for range 2 {
		if err := <-done; err != nil {
			t.Fatalf("blocked statement: %v", err)
		}
	}
	// Application behind application: not the agent's doing.
	execOn(t, holder, "BEGIN", "LOCK TABLE sampler_queue IN ACCESS EXCLUSIVE MODE")
	go func() { _, err := waiter.Exec(t.Context(), "SELECT * FROM sampler_queue"); done <- err }()
	got = waitSample(t, s, "an application session waiting", func(s domain.Sample) bool { return s.LockWaiters > 0 })
	if got.QueuedBehindAgent != 0 {
		t.Errorf("QueuedBehindAgent = %d behind an application session, want 0", got.QueuedBehindAgent)
	}
	execOn(t, holder, "COMMIT")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// testSamplerFingerprints: the same text on two tables of the same name
// (two schemas, as on two servers: other OIDs) has two query ids and one
// fingerprint; another text has another fingerprint.
func testSamplerFingerprints(t *testing.T, p *testbed.Postgres, c *postgres.Conn) {
	execSQL(t, p.DSN("app"), "CREATE SCHEMA fp_a", "CREATE SCHEMA fp_b",
		"CREATE TABLE fp_a.items (k int)", "CREATE TABLE fp_b.items (k int)")
	same, other := "SELECT count(*) FROM items WHERE k = 7", "SELECT count(*) FROM items WHERE k > 7"
	a := startStmtLoop(t, p.DSN("app")+"&search_path=fp_a", same)
	b := startStmtLoop(t, p.DSN("app")+"&search_path=fp_b", same, other)
	a.waitCalls(t, 20)
	b.waitCalls(t, 20)
	s := newSampler(t, c)
	takeSample(t, s)
	a.waitCalls(t, a.calls()+50)
	b.waitCalls(t, b.calls()+50)
	got := takeSample(t, s)
	a.stop()
	b.stop()
	t.Logf("statements: %+v", got.Statements)
	byFingerprint := map[string][]string{}
	for _, st := range got.Statements {
		if st.Fingerprint == "" {
			t.Fatalf("statement %+v has no fingerprint", st)
		}
		byFingerprint[st.Fingerprint] = append(byFingerprint[st.Fingerprint], st.ID)
	}
	if len(got.Statements) != 3 || len(byFingerprint) != 2 {
		t.Fatalf("fingerprints %v, want 3 statements (query ids) under 2 fingerprints", byFingerprint)
	}
	for fp, ids := range byFingerprint {
		if len(ids) == 2 && ids[0] == ids[1] {
			t.Errorf("fingerprint %s: ids %v, want two query ids", fp, ids)
		}
	}
}

// waitDDLQueued waits until a session waits for a lock on table that it
// has not been granted.
func waitDDLQueued(t *testing.T, conn *pgx.Conn, table string) {
	t.Helper()
	err := testbed.Retry(t.Context(), waitTimeout, func() error {
		var queued bool
		err := conn.QueryRow(t.Context(), `SELECT EXISTS (SELECT FROM pg_locks WHERE NOT granted AND relation = $1::regclass)`, table).Scan(&queued)
		if err == nil && !queued {
			err = errors.New("no session queued for a lock on " + table)
		}
		return err
	})
	if err != nil {
		t.Fatalf("wait for the DDL in the lock queue: %v", err)
	}
}
