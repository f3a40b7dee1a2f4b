package dialect_test

import (
	"context"
	"slices"
	"testing"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// fakeEngine is an engine registered under a name of its own.
type fakeEngine struct{ name domain.DatabaseType }

func (e fakeEngine) Type() domain.DatabaseType { return e.name }

func (e fakeEngine) Open(context.Context, string) (dialect.Conn, error) { return nil, nil }

func TestRegister(t *testing.T) {
	dialect.Register(fakeEngine{name: "FakeDB"})
	if e, ok := dialect.Lookup("FakeDB"); !ok || e.Type() != "FakeDB" {
		t.Errorf("Lookup(FakeDB) = %v, %v; want the registered engine", e, ok)
	}
	if _, ok := dialect.Lookup(domain.Oracle); ok {
		t.Error("Lookup(Oracle) found an engine nobody registered")
	}
	if got := dialect.Registered(); !slices.Contains(got, "FakeDB") {
		t.Errorf("Registered() = %v, want FakeDB in it", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("a second Register of FakeDB did not panic")
		}
	}()
	dialect.Register(fakeEngine{name: "FakeDB"})
}
