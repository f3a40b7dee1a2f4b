package sqlserver

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// TestDeltas computes a sample from two recorded readings: 3 query
// hashes, one evicted from the plan cache between them.
func TestDeltas(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := &counters{at: t0, transactions: 1000, deadlocks: 4, lockWaits: 10, lockWaitMs: 500,
		queries: map[string]queryStat{"0xA": {calls: 100, micros: 100_000}, "0xB": {calls: 10, micros: 50_000}, "0xC": {calls: 50, micros: 9_000}}}
	cur := &counters{at: t0.Add(2 * time.Second), transactions: 1400, deadlocks: 5, lockWaits: 14, lockWaitMs: 1300,
		queries: map[string]queryStat{"0xA": {calls: 190, micros: 190_000}, "0xB": {calls: 20, micros: 150_000}, "0xC": {calls: 5, micros: 1_000}}}
	out := domain.Sample{LockWaitMs: 120}
	deltas(prev, cur, &out)
	if out.IntervalMs != 2000 || out.TPS != 200 || out.Deadlocks != 1 {
		t.Errorf("interval %v ms, TPS %v, deadlocks %d; want 2000, 200, 1", out.IntervalMs, out.TPS, out.Deadlocks)
	}
	// 4 lock waits ended in the interval, 800 ms in all: 200 ms each, over
	// the longest current wait (120 ms).
	if out.LockWaitMs != 200 {
		t.Errorf("LockWaitMs = %v, want 200", out.LockWaitMs)
	}
	// 0xA: 90 calls at 1 ms; 0xB: 10 calls at 10 ms; 0xC went down: left out.
	if out.Calls != 100 || math.Abs(out.AvgLatencyMs-1.9) > 1e-9 {
		t.Errorf("calls %d, avg %v ms; want 100 at 1.9 ms", out.Calls, out.AvgLatencyMs)
	}
	if math.Abs(out.P95LatencyMs-10) > 1e-3 || math.Abs(out.P99LatencyMs-10) > 1e-3 {
		t.Errorf("p95 %v, p99 %v; want 10 ms (the slow statement holds 10%% of the calls)", out.P95LatencyMs, out.P99LatencyMs)
	}
	if len(out.Statements) != 2 || out.Statements[0].ID != "0xA" || out.Statements[0].Calls != 90 || out.Statements[1].MeanMs != 10 {
		t.Errorf("statements = %+v", out.Statements)
	}
}

func TestDetectRole(t *testing.T) {
	cases := []struct {
		name string
		f    serverFacts
		ag   agState
		want domain.DetectedRole
	}{
		{"AG primary", serverFacts{}, agState{inGroup: true, role: "PRIMARY"}, domain.DetectedPrimary},
		{"AG secondary", serverFacts{readOnly: true}, agState{inGroup: true, role: "SECONDARY"}, domain.DetectedStandby},
		{"resolving", serverFacts{}, agState{inGroup: true, role: "RESOLVING"}, domain.DetectedUnknown},
		{"log shipping standby", serverFacts{inStandby: true, readOnly: true}, agState{known: true}, domain.DetectedStandby},
		{"read-only database", serverFacts{readOnly: true}, agState{known: true}, domain.DetectedStandby},
		{"stand-alone", serverFacts{}, agState{known: true}, domain.DetectedPrimary},
	}
	for _, c := range cases {
		if got := detectRole(c.f, c.ag); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
}

func TestReplicaLinks(t *testing.T) {
	rows := []replicaRow{
		{server: "SQL1", local: true, role: "PRIMARY", state: "SYNCHRONIZED", lagSeconds: -1},
		{server: "SQL2", role: "SECONDARY", state: "SYNCHRONIZED", lagSeconds: 0},
		{server: "SQL3", role: "SECONDARY", state: "SYNCHRONIZING", lagSeconds: 12},
	}
	links := replicaLinks(rows, agState{inGroup: true, role: "PRIMARY", group: "ag1"})
	if len(links) != 2 || links[1].Peer != "SQL3" || links[1].LagSeconds != 12 || links[1].Direction != "downstream" {
		t.Fatalf("links = %+v", links)
	}
	if lag := worstLag(links, domain.DetectedPrimary); lag != 12 {
		t.Errorf("worst lag = %v, want 12", lag)
	}
	sec := []replicaRow{{server: "SQL1", role: "PRIMARY"}, {server: "SQL2", local: true, role: "SECONDARY", redoQueueKB: 3000, redoRateK: 1000}}
	links = replicaLinks(sec, agState{inGroup: true, role: "SECONDARY", group: "ag1"})
	if len(links) != 1 || links[0].Direction != "upstream" || links[0].Peer != "SQL1" || links[0].LagSeconds != 3 {
		t.Errorf("secondary links = %+v, want the primary upstream with 3 s of redo", links)
	}
}

func TestPreflightChecks(t *testing.T) {
	none := preflightFacts{login: "hs", database: "app", engineEdition: 2, hadr: true}
	for _, c := range none.checks() {
		if c.OK || c.Fix == "" {
			t.Errorf("%s: ok %v fix %q, want a failure with a fix", c.Name, c.OK, c.Fix)
		}
	}
	all := preflightFacts{login: "hs", database: "app", engineEdition: 3, viewServerState: true, createSchema: true, createTbl: true}
	for i, c := range all.checks() {
		if !c.OK || c.Name != domain.PreflightChecks[i] {
			t.Errorf("check %d = %+v, want %s OK", i, c, domain.PreflightChecks[i])
		}
	}
	azure := preflightFacts{login: "hs", database: "app", engineEdition: 5, viewDatabaseState: true}
	if c := azure.sessions(); !c.OK {
		t.Errorf("Azure SQL Database with VIEW DATABASE STATE: %+v", c)
	}
	locked := preflightFacts{login: "hs", database: "app", schemaExists: true, createSchema: true, createTbl: true}
	if c := locked.history(); c.OK || c.Fix == "" {
		t.Errorf("existing schema without rights: %+v", c)
	}
}

func TestPlanScript(t *testing.T) {
	p, err := planScript("ALTER INDEX ix ON dbo.t REBUILD\nGO\nCREATE TABLE dbo.n (a int)\nCREATE INDEX ix_n ON dbo.n (a)\nGO\n"+
		"BEGIN TRAN\nUPDATE dbo.t SET a = 1\nCOMMIT\nGO 3", true)
	if err != nil {
		t.Fatal(err)
	}
	// The second batch's statements stand alone: two units.
	if len(p.units) != 4 || p.transactional {
		t.Fatalf("units %d, transactional %v", len(p.units), p.transactional)
	}
	if !strings.Contains(p.units[0].run, "REBUILD WITH (ONLINE = ON)") {
		t.Errorf("rebuild sent as %q", p.units[0].run)
	}
	if u := p.units[2]; len(u.onlined) != 0 || u.sql != "CREATE INDEX ix_n ON dbo.n (a)" || u.label != "statement 3 (batch 2)" {
		t.Errorf("unit 3 = %+v: want the index alone, on a table the script creates, without ONLINE", u)
	}
	if b := p.units[3]; b.transactional || b.repeat != 3 {
		t.Errorf("own-transaction batch: transactional %v repeat %d", b.transactional, b.repeat)
	}
	if _, err := planScript("SELECT 'oops", true); err == nil {
		t.Error("an unterminated string was planned")
	}
}
