package testbed

import (
	"database/sql"
	"testing"

	_ "github.com/go-sql-driver/mysql"
)

// TestMariaDBPrimaryAndReplica starts a primary and a GTID replica, checks
// that the test bed's user logs in on both, that a table made on the
// primary reaches the replica, that the replica is read-only, and that
// Stop ends the server's process.
func TestMariaDBPrimaryAndReplica(t *testing.T) {
	p := StartMariaDB(t, MariaDBOptions{})
	r := p.StartReplica(t)
	pdb := openMariaDB(t, p.DSN(MariaDBDatabase))
	if _, err := pdb.ExecContext(t.Context(), "CREATE TABLE t (id int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if err := r.WaitCaughtUp(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	rdb := openMariaDB(t, r.DSN(MariaDBDatabase))
	var n int
	err := rdb.QueryRowContext(t.Context(), "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'app' AND table_name = 't'").Scan(&n)
	if err != nil || n != 1 {
		t.Fatalf("table on the replica: %d, %v; want 1", n, err)
	}
	var readOnly int
	if err := rdb.QueryRowContext(t.Context(), "SELECT @@read_only").Scan(&readOnly); err != nil || readOnly != 1 {
		t.Errorf("replica read_only = %d, %v; want 1", readOnly, err)
	}
	pid := r.PID()
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	if pid == 0 || isRunning(pid) || r.PID() != 0 {
		t.Errorf("replica pid %d still running after Stop", pid)
	}
}

// openMariaDB opens a pool on dsn, closed when t ends.
func openMariaDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
