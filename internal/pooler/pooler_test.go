package pooler_test

import (
	"context"
	"testing"

	"github.com/hotswap-db/hotswap/internal/pooler"
	"github.com/hotswap-db/hotswap/internal/pooler/pgbouncer"
)

// fakeSwitcher remembers where it was sent.
type fakeSwitcher struct{ to *pooler.Target }

func (f fakeSwitcher) Switch(_ context.Context, to pooler.Target, _ func(level, msg string)) error {
	*f.to = to
	return nil
}

func TestOpen(t *testing.T) {
	var got pooler.Target
	pooler.Register("fakepool", func(pooler.Config) pooler.Switcher { return fakeSwitcher{to: &got} })
	sw, err := pooler.Open("fakepool", pooler.Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := pooler.Target{Host: "green", Port: 5433, DBName: "app"}
	if err := sw.Switch(t.Context(), want, nil); err != nil || got != want {
		t.Errorf("Switch sent the pooler to %+v (%v), want %+v", got, err, want)
	}
	if _, err := pooler.Open("", pooler.Config{}); err != nil || pooler.DefaultKind != pgbouncer.Kind {
		t.Errorf("Open of the default kind: %v; want PgBouncer (%q), registered by its package", err, pooler.DefaultKind)
	}
	if _, err := pooler.Open("nosuchpooler", pooler.Config{}); err == nil {
		t.Error("Open of an unregistered kind did not fail")
	}
}
