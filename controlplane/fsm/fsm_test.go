package fsm

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/hotswap-db/hotswap/internal/domain"
)

type memSink struct {
	bytes.Buffer
	cancelled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }
func (s *memSink) Close() error  { return nil }

func apply(t *testing.T, f *FSM, index uint64, c Command) error {
	t.Helper()
	data, err := Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	res := f.Apply(&raft.Log{Index: index, Type: raft.LogCommand, Data: data})
	if res == nil {
		return nil
	}
	return res.(error)
}

func seed(t *testing.T, f *FSM) {
	t.Helper()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cmds := []Command{
		RegisterServerRequest{Server: domain.Server{ID: "s1", HTTPAddr: "127.0.0.1:5000"}},
		CreateAPITokenRequest{Token: domain.APIToken{TokenID: "t1", Name: "bootstrap", Role: "Admin", CreatedAt: now}, Hash: "h-admin"},
		CreateAgentRequest{Agent: domain.Agent{Name: "host1", CreatedAt: now}, TokenHash: "h-agent"},
		ReportAgentRequest{Name: "host1", Version: "1", Instances: []domain.InstanceStatus{{InstanceID: "main", Role: domain.DetectedPrimary}}, ReportedAt: now},
		CreateDatabaseRequest{Database: domain.Database{DatabaseID: "db-1", Name: "orders", Type: domain.PostgreSQL,
			Instances: []domain.InstanceRef{{Agent: "host1", InstanceID: "main", Role: domain.RoleMaster}}, CreatedAt: now}},
		CreateMigrationRequest{Migration: domain.Migration{MigrationID: "mig-1", Name: "a", TargetDatabaseID: "db-1", Status: domain.MigrationDraft, CreatedAt: now}},
		CreateMigrationRequest{Migration: domain.Migration{MigrationID: "mig-2", Name: "b", TargetDatabaseID: "db-1", Dependencies: []string{"mig-1"}, Status: domain.MigrationDraft, CreatedAt: now}},
	}
	for i, c := range cmds {
		if err := apply(t, f, uint64(i+1), c); err != nil {
			t.Fatalf("apply %T: %v", c, err)
		}
	}
}

func TestApplyBuildsState(t *testing.T) {
	f := New(nil)
	seed(t, f)
	st := f.State()
	if got := f.LastApplied(); got != 7 {
		t.Errorf("LastApplied = %d, want 7", got)
	}
	if a, ok := st.AgentByTokenHash("h-agent"); !ok || a.Name != "host1" || len(a.Instances) != 1 {
		t.Errorf("AgentByTokenHash = %+v, %v; want host1 with 1 instance", a, ok)
	}
	if d, err := st.Database("orders"); err != nil || d.DatabaseID != "db-1" {
		t.Errorf("Database(by name) = %+v, %v", d, err)
	}
	if got := st.Migrations(MigrationFilter{DatabaseID: "db-1"}); len(got) != 2 {
		t.Errorf("Migrations = %d, want 2", len(got))
	}
}

func TestApplyRefusesConflicts(t *testing.T) {
	f := New(nil)
	seed(t, f)
	cases := []struct {
		name string
		cmd  Command
		want error
	}{
		{"duplicate database name", CreateDatabaseRequest{Database: domain.Database{DatabaseID: "db-2", Name: "orders",
			Instances: []domain.InstanceRef{{Agent: "host1", InstanceID: "other", Role: domain.RoleMaster}}}}, ErrConflict},
		{"instance in two databases", CreateDatabaseRequest{Database: domain.Database{DatabaseID: "db-2", Name: "x",
			Instances: []domain.InstanceRef{{Agent: "host1", InstanceID: "main", Role: domain.RoleMaster}}}}, ErrConflict},
		{"unknown agent", CreateDatabaseRequest{Database: domain.Database{DatabaseID: "db-2", Name: "x",
			Instances: []domain.InstanceRef{{Agent: "nobody", InstanceID: "main", Role: domain.RoleMaster}}}}, ErrNotFound},
		{"duplicate agent", CreateAgentRequest{Agent: domain.Agent{Name: "host1"}}, ErrConflict},
		{"duplicate migration name", CreateMigrationRequest{Migration: domain.Migration{MigrationID: "mig-3", Name: "a", TargetDatabaseID: "db-1"}}, ErrConflict},
		{"unknown dependency", CreateMigrationRequest{Migration: domain.Migration{MigrationID: "mig-3", Name: "c", TargetDatabaseID: "db-1", Dependencies: []string{"mig-9"}}}, ErrNotFound},
		{"dependency cycle", UpdateMigrationRequest{Migration: domain.Migration{MigrationID: "mig-1", Name: "a", TargetDatabaseID: "db-1", Dependencies: []string{"mig-2"}}}, ErrConflict},
		{"delete depended-on migration", DeleteMigrationRequest{MigrationID: "mig-1"}, ErrConflict},
		{"delete database with migrations", DeleteDatabaseRequest{DatabaseID: "db-1"}, ErrConflict},
		{"delete agent serving a database", DeleteAgentRequest{Name: "host1"}, ErrConflict},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := dump(t, f.State())
			if err := apply(t, f, uint64(100+i), tc.cmd); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if after := dump(t, f.State()); after != before {
				t.Errorf("a refused command changed the state:\n%s\n%s", before, after)
			}
		})
	}
}

// dump renders the state in a stable order.
func dump(t *testing.T, st *State) string {
	t.Helper()
	b, err := json.Marshal([]any{st.Agents(), st.Databases(), st.Migrations(MigrationFilter{}), st.Servers()})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func snapshotBytes(t *testing.T, f *FSM) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	return sink.Bytes()
}

func TestSnapshotRoundTrip(t *testing.T) {
	f := New(nil)
	seed(t, f)
	data := snapshotBytes(t, f)

	g := New(nil)
	if err := g.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	st := g.State()
	if _, ok := st.APITokenByHash("h-admin"); !ok {
		t.Error("API token lost in snapshot")
	}
	if a, ok := st.AgentByTokenHash("h-agent"); !ok || a.Instances[0].Role != domain.DetectedPrimary {
		t.Errorf("agent after restore = %+v, %v", a, ok)
	}
	if got := st.Servers()["s1"].HTTPAddr; got != "127.0.0.1:5000" {
		t.Errorf("server addr = %q", got)
	}
	m, err := st.Migration("mig-2")
	if err != nil || len(m.Dependencies) != 1 {
		t.Errorf("migration after restore = %+v, %v", m, err)
	}
	if len(st.Databases()) != 1 {
		t.Errorf("databases after restore = %d, want 1", len(st.Databases()))
	}
	// The restored state must snapshot to the same records.
	if again := snapshotBytes(t, g); len(again) != len(data) {
		t.Errorf("re-snapshot is %d bytes, want %d", len(again), len(data))
	}
}

func TestRestoreRejectsGarbage(t *testing.T) {
	g := New(nil)
	if err := g.Restore(io.NopCloser(bytes.NewReader([]byte("not a snapshot")))); err == nil {
		t.Fatal("Restore accepted garbage")
	}
}

func TestUnknownCommandPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("unknown command type did not panic")
		}
	}()
	New(nil).Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: []byte{250, '{', '}'}})
}
