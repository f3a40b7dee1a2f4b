package postgres_test

import (
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/testbed"
)

// lookPattern matches the look at pg_locks the probe makes unneeded.
const lookPattern = "SELECT EXISTS (SELECT FROM pg_locks%"

// TestProbe: a step's first attempt asks for its table locks without
// waiting. On a free table it is done without any look at pg_locks, and
// its statement results name the script's statements only; on a table an
// idle transaction holds, the probe is refused at once (the application's
// reads never wait behind it, though a queued attempt would hold them for
// the step's 5 s lock timeout), the step waits outside the queue, and it
// is applied once the holder commits, without a lock-timeout retry.
func TestProbe(t *testing.T) {
	p := testbed.StartPostgres(t, testbed.PostgresOptions{})
	db := newTestDB(t, p)
	db.exec(t, "CREATE TABLE free_t (id int)", "CREATE TABLE held_t (id int)", "INSERT INTO held_t SELECT generate_series(1, 100)",
		"CREATE TABLE parts (id int) PARTITION BY RANGE (id)", "CREATE TABLE parts_1 PARTITION OF parts FOR VALUES FROM (0) TO (100)")
	const dbName = "t_testprobe" // newTestDB's database for this test

	t.Run("free", func(t *testing.T) {
		const script = "ALTER TABLE free_t ADD COLUMN c int; ALTER TABLE parts ADD COLUMN c int"
		before := statementCalls(t, p, dbName, lookPattern)
		out := db.mustRun(t, db.step("probe-free", script), &eventLog{})
		if out.Error != nil {
			t.Fatalf("outcome error = %+v", out.Error)
		}
		if n := statementCalls(t, p, dbName, lookPattern) - before; n != 0 {
			t.Errorf("the step looked at pg_locks %d time(s), want none: the probe got its locks", n)
		}
		if len(out.Statements) != 2 || out.Statements[0].SQL != "ALTER TABLE free_t ADD COLUMN c int" {
			t.Errorf("statements = %+v, want the script's two, without the probe's LOCK", out.Statements)
		}
		if !db.hasColumn(t, "parts_1", "c") {
			t.Error("parts_1 has no column c: the partitioned table's ALTER did not reach its partition")
		}
	})
	t.Run("held", func(t *testing.T) {
		holder := idleHolder(t, db.conn(t), "held_t")
		time.Sleep(200 * time.Millisecond) // idle past the policy's grace: waited for outside the queue
		reads := startReader(t, db.conn(t), "SELECT count(*) FROM held_t")
		ev := &eventLog{}
		refused := make(chan struct{})
		go func() {
			db.waitFor(t, "the refused probe", func() bool { return ev.first("found the tables locked") != "" })
			close(refused)
			time.Sleep(300 * time.Millisecond)
			_, _ = holder.Exec(t.Context(), "COMMIT")
		}()
		req := db.step("probe-held", "ALTER TABLE held_t ADD COLUMN c int")
		req.LockTimeout = 5 * time.Second
		out := db.mustRun(t, req, ev)
		<-refused
		longest := reads.stop()
		if out.Error != nil || out.Retries != 0 {
			t.Fatalf("outcome error = %+v, retries %d; want success without a lock-timeout retry", out.Error, out.Retries)
		}
		ev.want(t, "and did not queue")
		ev.want(t, "waiting for pid")
		if longest > 2*time.Second {
			t.Errorf("a concurrent read waited %v, want far under the 5 s lock timeout: the probe must not queue", longest)
		}
		if n := statementCalls(t, p, dbName, lookPattern); n == 0 {
			t.Error("no look at pg_locks after the refused probe, want the policy to look at the holders")
		}
	})
}
