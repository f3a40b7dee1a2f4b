package pgbench

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/testbed"
)

// TestRealServer initializes pgbench's tables on a real server, runs a
// custom script for 2 s with progress every second and a per-transaction
// log, and reads it back.
func TestRealServer(t *testing.T) {
	pg := testbed.StartPostgres(t, testbed.PostgresOptions{})
	o := Options{BinDir: pg.BinDir(), Host: "127.0.0.1", Port: pg.Port(), User: testbed.PostgresUser,
		Password: pg.Password(), Database: testbed.PostgresDatabase}
	if err := Init(t.Context(), o, 1); err != nil {
		t.Fatal(err)
	}
	o.Clients, o.Threads, o.Duration, o.Progress = 2, 2, 2*time.Second, time.Second
	o.LogPrefix = filepath.Join(t.TempDir(), "run")
	o.Script = "\\set aid random(1, 100000)\nSELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n"
	var mu sync.Mutex
	var reports []Progress
	start := time.Now()
	run, err := Start(t.Context(), o, func(p Progress) { mu.Lock(); reports = append(reports, p); mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Wait(); err != nil {
		t.Fatal(err)
	}
	run.Stop() // a no-op once the run is over
	mu.Lock()
	defer mu.Unlock()
	if len(reports) == 0 || reports[0].Elapsed != time.Second || reports[0].TPS <= 0 || reports[0].LatencyMs <= 0 {
		t.Errorf("progress reports %+v, want one per second with figures", reports)
	}
	txns, err := ReadLog(o.LogPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(txns) == 0 || Failed(txns) != 0 {
		t.Fatalf("log: %d transactions, %d failed", len(txns), Failed(txns))
	}
	if end := txns[0].End; end.Before(start) || end.After(time.Now()) || txns[0].Latency <= 0 {
		t.Errorf("first transaction %+v is not within the run", txns[0])
	}
	t.Logf("%d progress reports, %d transactions", len(reports), len(txns))
}

// TestStopAndFailure checks that Stop ends a run early and that a failing
// run reports pgbench's error.
func TestStopAndFailure(t *testing.T) {
	pg := testbed.StartPostgres(t, testbed.PostgresOptions{})
	o := Options{BinDir: pg.BinDir(), Host: "127.0.0.1", Port: pg.Port(), User: testbed.PostgresUser,
		Password: pg.Password(), Database: testbed.PostgresDatabase, Duration: time.Minute, Script: "SELECT 1;\n"}
	run, err := Start(t.Context(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	run.Stop()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Stop took %s", took)
	}
	o.Duration, o.Script = time.Second, "SELECT * FROM no_such_table;\n"
	run, err = Start(t.Context(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Wait(); err == nil {
		t.Error("a run of a failing script: no error")
	} else {
		t.Logf("failing run: %v", err)
	}
}
