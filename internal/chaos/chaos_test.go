package chaos

import (
	"context"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/testbed"
)

// seed replays a run: go test ./internal/chaos -run TestChaos -seed N.
var seed = flag.Uint64("seed", 0, "seed of every scenario's run (0: one from the clock, printed)")

// bins are the programs built once for the package's tests.
var bins testbed.Binaries

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(testbed.MainWithBinaries(m, &bins))
}

// TestChaos runs every scenario once, each world shared by its scenarios,
// and fails on any broken invariant or run that could not be carried out.
func TestChaos(t *testing.T) {
	parent := t
	s := *seed
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -seed %d)", s, s)
	worlds := map[Kind]*World{}
	for _, sc := range Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			w := worlds[sc.Kind]
			if w == nil {
				var err error
				if w, err = NewWorld(context.Background(), bins, sc.Kind); err != nil {
					t.Fatalf("start the %s world: %v", sc.Kind, err)
				}
				parent.Cleanup(w.Close) // shared by the scenarios that follow
				worlds[sc.Kind] = w
			}
			res := Run(t.Context(), w, sc, s)
			t.Log(res)
			if res.Err != nil {
				t.Errorf("the run could not be carried out: %v", res.Err)
			}
			if len(res.Violations) > 0 {
				t.Errorf("broken invariants:\n%s", strings.Join(res.Violations, "\n"))
			}
		})
	}
}
