package sqlserver

import (
	"errors"
	"strings"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// TestProbeAGPrimary probes a database of an availability group's primary
// with two secondaries.
func TestProbeAGPrimary(t *testing.T) {
	f := server(3, 0, false)
	f.on("FROM sys.dm_hadr_availability_replica_states ars", []any{"PRIMARY", "ag1"})
	f.on("FROM sys.dm_hadr_database_replica_states drs",
		[]any{"SQL1", true, "PRIMARY", "SYNCHRONIZED", -1.0, 0.0, 0.0},
		[]any{"SQL2", false, "SECONDARY", "SYNCHRONIZED", 0.0, 0.0, 0.0},
		[]any{"SQL3", false, "SECONDARY", "SYNCHRONIZING", 4.0, 0.0, 0.0})
	f.on("FROM sys.dm_exec_sessions\n\tWHERE is_user_process = 1", []any{int64(12)})
	st, err := f.conn(t).Probe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Reachable || st.Role != domain.DetectedPrimary || st.ReplicationLagSeconds != 4 || len(st.Links) != 2 || st.ActiveConnections != 12 {
		t.Errorf("status = %+v", st)
	}
	if !strings.Contains(st.ServerVersion, "16.0.4135.4 Enterprise") || st.SystemIdentifier != "SQL1" {
		t.Errorf("version %q, identifier %q", st.ServerVersion, st.SystemIdentifier)
	}
	if q := f.sentMatching("program_name <> N'hotswap-agent'"); len(q) == 0 {
		t.Error("the agent's sessions were not left out of the count")
	}
}

// TestProbeWithoutViewServerState: the AG views are denied (error 300):
// the role comes from the database's own properties.
func TestProbeWithoutViewServerState(t *testing.T) {
	f := server(3, 0, false)
	f.onFunc("FROM sys.dm_hadr_availability_replica_states ars", func(int, []any) ([][]any, error) {
		return nil, mssql.Error{Number: 300, Message: "VIEW SERVER STATE permission was denied on object 'server', database 'master'."}
	})
	f.on("FROM sys.dm_exec_sessions\n\tWHERE is_user_process = 1", []any{int64(0)})
	st, err := f.conn(t).Probe(t.Context())
	if err != nil || st.Role != domain.DetectedPrimary {
		t.Fatalf("Probe = %+v, %v; want a primary", st, err)
	}
}

func TestProbeFailureIsScrubbed(t *testing.T) {
	f := &fakeDB{}
	f.onFunc("SERVERPROPERTY('ProductVersion')", func(int, []any) ([][]any, error) {
		return nil, mssql.Error{Number: 18456, Message: "Login failed for user 'sa' with s3cret."}
	})
	st, err := f.conn(t).Probe(t.Context())
	if err == nil || st.Reachable || st.Role != domain.DetectedUnknown || strings.Contains(err.Error(), "s3cret") || st.Error != err.Error() {
		t.Errorf("Probe = %+v, %v", st, err)
	}
}

// TestSamplerReadsAndDiffs takes two samples of recorded counters.
func TestSamplerReadsAndDiffs(t *testing.T) {
	f := &fakeDB{}
	f.onFunc("FROM sys.dm_os_performance_counters", func(n int, _ []any) ([][]any, error) {
		return [][]any{{int64(1000 + 500*n), int64(2 + n)}}, nil
	})
	f.onFunc("FROM sys.dm_os_wait_stats", func(n int, _ []any) ([][]any, error) {
		return [][]any{{int64(10 + 2*n), int64(100 + 600*n)}}, nil
	})
	f.onFunc("FROM sys.dm_exec_query_stats qs", func(n int, _ []any) ([][]any, error) {
		return [][]any{{"0x1F", int64(100 + 50*n), int64(200_000 + 100_000*n)}}, nil
	})
	f.on("(SELECT count(*) FROM sys.dm_exec_sessions s", []any{int64(30), int64(4), int64(1), int64(250), int64(1)})
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := f.conn(t).NewSampler().(*Sampler)
	s.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	defer s.Close()
	first, err := s.Sample(t.Context())
	if err != nil || first.IntervalMs != 0 {
		t.Fatalf("first Sample = %+v, %v; want the priming sample", first, err)
	}
	got, err := s.Sample(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got.Calls != 50 || got.AvgLatencyMs != 2 || got.Deadlocks != 1 || got.LockWaitMs != 300 || got.LockWaiters != 1 ||
		got.ActiveConnections != 30 || got.ActiveSessions != 4 || got.QueuedBehindAgent != 1 || got.TPS != 500 || got.IntervalMs != 1000 {
		t.Errorf("sample = %+v", got)
	}
	if q := f.sentMatching("FROM sys.dm_exec_query_stats qs"); !strings.Contains(q[0].sql, "st.text NOT LIKE N'%hotswap-agent%'") {
		t.Errorf("the agent's statements are not left out: %s", q[0].sql)
	}
	if q := f.sentMatching("FROM sys.dm_os_wait_stats"); !strings.Contains(q[0].sql, "LIKE N'LCK[_]M[_]%'") {
		t.Errorf("lock waits are not the LCK_M_ waits: %s", q[0].sql)
	}
}

// TestEveryQueryCarriesTheTag: the sampler leaves the agent's statements
// out of the query statistics by the tag every batch opens with.
func TestEveryQueryCarriesTheTag(t *testing.T) {
	for _, q := range []string{serverFactsSQL, agRoleSQL, replicaLinksSQL, countClientsSQL, historySchemaSQL, historyTableSQL,
		readStepHistorySQL, insertHistorySQL, queryStatsSQL, lockWaitStatsSQL, perfCountersSQL, requestsSQL, blockersSQL,
		transactionOpenSQL, preflightSQL, beginSQL, commitSQL, rollbackSQL, objectExistsSQL} {
		if !strings.HasPrefix(q, agentTag) {
			t.Errorf("query without the agent's tag: %.60s", q)
		}
	}
}

func TestPreflightAsksThePermissions(t *testing.T) {
	f := &fakeDB{}
	f.on("HAS_PERMS_BY_NAME(NULL, NULL, N'VIEW SERVER STATE')",
		[]any{"hs", "app", int64(0), int64(1), int64(1), int64(1), int64(0), int64(0), int64(0), int64(2), int64(0)})
	p, err := f.conn(t).Preflight(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !p.Failed(domain.PreflightSessions) || !p.Failed(domain.PreflightLatency) || p.Failed(domain.PreflightHistory) || p.Failed(domain.PreflightReplication) {
		t.Errorf("preflight = %+v", p.Checks)
	}
	if c, _ := p.Check(domain.PreflightSessions); !strings.Contains(c.Fix, "GRANT VIEW SERVER STATE TO [hs]") {
		t.Errorf("fix = %q", c.Fix)
	}
}

// TestVerifyOnASecondary: the history row arrives on the third look.
func TestVerifyOnASecondary(t *testing.T) {
	f := &fakeDB{}
	f.on("SERVERPROPERTY('ProductVersion')", []any{"15.0.4345.5", "Enterprise Edition (64-bit)", int64(3), "SQL2", "app", "READ_ONLY", int64(0), int64(60)})
	f.on("FROM sys.dm_hadr_availability_replica_states ars", []any{"SECONDARY", "ag1"})
	f.on("FROM sys.dm_hadr_database_replica_states drs",
		[]any{"SQL1", false, "PRIMARY", "SYNCHRONIZED", -1.0, 0.0, 0.0},
		[]any{"SQL2", true, "SECONDARY", "SYNCHRONIZED", -1.0, 200.0, 400.0})
	f.on("OBJECT_ID(N'hotswap.schema_history', N'U') IS NOT NULL", []any{int64(1)})
	f.onFunc("SELECT count(*) FROM hotswap.schema_history", func(n int, _ []any) ([][]any, error) {
		return [][]any{{int64(min(n/2, 1))}}, nil
	})
	var events []string
	out, err := f.conn(t).VerifyStep(t.Context(), dialect.VerifyRequest{ExecutionID: "e1", StepID: "s1", MaxLagSeconds: 5,
		Deadline: time.Now().Add(20 * time.Second)}, func(ev dialect.StepEvent) { events = append(events, ev.Message) })
	if err != nil || out.Error != nil {
		t.Fatalf("VerifyStep = %+v, %v", out.Error, err)
	}
	if last := events[len(events)-1]; !strings.Contains(last, "arrived on the standby") || !strings.Contains(last, "0.5 s") {
		t.Errorf("events = %q, want the arrival with 0.5 s of redo lag", events)
	}
}

func TestVerifyOnAPrimaryIsRefused(t *testing.T) {
	f := server(3, 0, false)
	_, err := f.conn(t).VerifyStep(t.Context(), dialect.VerifyRequest{ExecutionID: "e1", StepID: "s1"}, nil)
	if !errors.Is(err, errNotSecondary) {
		t.Fatalf("VerifyStep on a primary = %v, want errNotSecondary", err)
	}
}

// TestInspectTable reads a table's size, columns (in the linter's form) and
// indexes, and its write rate over a window.
func TestInspectTable(t *testing.T) {
	f := &fakeDB{}
	f.on("FROM sys.objects o WHERE o.object_id = OBJECT_ID(@p1)", []any{"U ", "dbo", "orders"})
	f.on("FROM sys.dm_db_partition_stats", []any{int64(120_000), int64(50 << 20)})
	f.on("FROM sys.columns c", []any{"id", "int NOT NULL"}, []any{"note", "varchar(100) NULL"})
	f.on("FROM sys.indexes i JOIN sys.index_columns ic",
		[]any{"ix_a_b", false, false, "a"}, []any{"ix_a_b", false, false, "b"}, []any{"pk_orders", true, false, "id"})
	f.onFunc("sys.dm_db_index_operational_stats", func(n int, _ []any) ([][]any, error) { return [][]any{{int64(1000 + 50*n)}}, nil })
	f.onFunc("sys.dm_os_volume_stats", func(int, []any) ([][]any, error) {
		return nil, mssql.Error{Number: 300, Message: "VIEW SERVER STATE permission was denied"}
	})
	facts, err := f.conn(t).Inspect(t.Context(), domain.CatalogRequest{Relations: []domain.ObjectName{{Name: "orders"}}, WriteWindowMs: 100})
	if err != nil {
		t.Fatal(err)
	}
	rel := facts.Relations[0]
	if !rel.Exists || rel.Kind != "table" || rel.ResolvedSchema != "dbo" || rel.Rows != 120_000 || rel.Bytes != 50<<20 {
		t.Errorf("relation = %+v", rel)
	}
	if rel.Columns["note"] != "varchar(100) NULL" || len(rel.Indexes) != 2 || len(rel.Indexes[0].Columns) != 2 || !rel.Indexes[1].Unique {
		t.Errorf("columns %v, indexes %+v", rel.Columns, rel.Indexes)
	}
	if rel.WritesPerSecond != 500 || facts.FreeDiskBytes != domain.UnknownSize {
		t.Errorf("writes %v/s, free disk %d; want 500/s and unknown", rel.WritesPerSecond, facts.FreeDiskBytes)
	}
	if q := f.sentMatching("FROM sys.columns c"); len(q) != 1 || q[0].args[0] != "dbo.orders" {
		t.Errorf("columns asked as %+v, want the resolved name", q)
	}
}

func TestInspectMissingAndIndex(t *testing.T) {
	f := &fakeDB{}
	f.onFunc("FROM sys.indexes i JOIN sys.objects o", func(_ int, args []any) ([][]any, error) {
		if args[0] == "ix_orders" {
			return [][]any{{"dbo.orders", "dbo"}}, nil
		}
		return nil, nil
	})
	facts, err := f.conn(t).Inspect(t.Context(), domain.CatalogRequest{Relations: []domain.ObjectName{{Name: "nope"}, {Name: "ix_orders"}}})
	if err != nil {
		t.Fatal(err)
	}
	if facts.Relations[0].Exists || !facts.Relations[1].Exists || facts.Relations[1].Kind != "index" || facts.Relations[1].Table != "dbo.orders" {
		t.Errorf("relations = %+v", facts.Relations)
	}
}
