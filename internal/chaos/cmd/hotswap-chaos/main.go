// Command hotswap-chaos is the chaos soak: it runs the chaos scenarios
// (internal/chaos) many times, in an order and with timings drawn from one
// printed seed, and prints a line per run and a table of counts per
// scenario and outcome. It exits 1 when a run broke an invariant or could
// not be carried out.
//
//	go run ./internal/chaos/cmd/hotswap-chaos --runs 50 [--seed N] [--scenario NAME]... [--bin bin]
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hotswap-db/hotswap/internal/chaos"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// options are the command's flags.
type options struct {
	runs      int
	seed      uint64
	scenarios []chaos.Scenario
	binDir    string
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "hotswap-chaos:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tally, err := soak(ctx, o)
	if err == nil {
		fmt.Println()
		err = tally.Write(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hotswap-chaos:", err)
		os.Exit(1)
	}
	if tally.Violations() > 0 || tally.Broken() > 0 {
		fmt.Printf("\n%d runs broke an invariant, %d could not be carried out (seed %d)\n", tally.Violations(), tally.Broken(), o.seed)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("hotswap-chaos", flag.ContinueOnError)
	var o options
	var names string
	fs.IntVar(&o.runs, "runs", 50, "how many runs")
	fs.Uint64Var(&o.seed, "seed", 0, "seed of the order and the timings (0: one from the clock, printed)")
	fs.StringVar(&names, "scenario", "", "comma-separated scenarios to run (default: all): "+scenarioNames())
	fs.StringVar(&o.binDir, "bin", "", "folder holding hotswapd and hotswap-agent (default: build them)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.runs < 1 {
		return o, fmt.Errorf("--runs %d: want at least 1", o.runs)
	}
	if o.seed == 0 {
		o.seed = uint64(time.Now().UnixNano())
	}
	var err error
	o.scenarios, err = pickScenarios(names)
	return o, err
}

func scenarioNames() string {
	var names []string
	for _, s := range chaos.Scenarios() {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

// pickScenarios reads --scenario: empty means every scenario.
func pickScenarios(names string) ([]chaos.Scenario, error) {
	if names == "" {
		return chaos.Scenarios(), nil
	}
	var out []chaos.Scenario
	for _, n := range strings.Split(names, ",") {
		s, ok := chaos.Find(strings.TrimSpace(n))
		if !ok {
			return nil, fmt.Errorf("--scenario %q: not one of %s", n, scenarioNames())
		}
		out = append(out, s)
	}
	return out, nil
}

// binaries finds the programs in --bin, or builds them in a temp folder
// (the returned func removes it).
func binaries(ctx context.Context, dir string) (testbed.Binaries, func(), error) {
	if dir != "" {
		return testbed.Binaries{Server: filepath.Join(dir, "hotswapd"), Agent: filepath.Join(dir, "hotswap-agent"),
			CLI: filepath.Join(dir, "hotswap")}, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "hotswap-chaos-bin-")
	if err != nil {
		return testbed.Binaries{}, nil, err
	}
	b, err := testbed.BuildBinaries(ctx, tmp)
	return b, func() { os.RemoveAll(tmp) }, err
}

// soak runs o.runs runs: rounds of every chosen scenario in a shuffled
// order, each run with a seed of its own drawn from o.seed.
func soak(ctx context.Context, o options) (*chaos.Tally, error) {
	bins, cleanup, err := binaries(ctx, o.binDir)
	if err != nil {
		return nil, fmt.Errorf("programs: %w", err)
	}
	defer cleanup()
	fmt.Printf("chaos soak: %d runs, seed %d (replay one run with --scenario NAME --seed SEED --runs 1 of its line)\n", o.runs, o.seed)
	rng := rand.New(rand.NewPCG(o.seed, o.seed>>1|1))
	worlds := newWorlds(bins)
	defer worlds.close()
	tally := &chaos.Tally{}
	var deck []chaos.Scenario
	for i := 0; i < o.runs && ctx.Err() == nil; i++ {
		if len(deck) == 0 {
			deck = append(deck, o.scenarios...)
			rng.Shuffle(len(deck), func(a, b int) { deck[a], deck[b] = deck[b], deck[a] })
		}
		sc := deck[0]
		deck = deck[1:]
		seed := rng.Uint64()
		if o.runs == 1 && len(o.scenarios) == 1 {
			seed = o.seed // one run of one scenario replays its seed
		}
		res := worlds.run(ctx, sc, seed)
		fmt.Printf("run %3d: %s\n", i+1, res)
		tally.Add(res)
	}
	return tally, ctx.Err()
}

// worlds keeps one world per kind, started on first use and replaced after
// a run that could not be carried out.
type worlds struct {
	bins   testbed.Binaries
	byKind map[chaos.Kind]*chaos.World
}

func newWorlds(bins testbed.Binaries) *worlds {
	return &worlds{bins: bins, byKind: map[chaos.Kind]*chaos.World{}}
}

func (ws *worlds) run(ctx context.Context, sc chaos.Scenario, seed uint64) chaos.Result {
	w := ws.byKind[sc.Kind]
	if w == nil {
		var err error
		if w, err = chaos.NewWorld(ctx, ws.bins, sc.Kind); err != nil {
			return chaos.Result{Scenario: sc.Name, Seed: seed, Err: err}
		}
		ws.byKind[sc.Kind] = w
	}
	res := chaos.Run(ctx, w, sc, seed)
	if res.Err != nil {
		w.Close()
		delete(ws.byKind, sc.Kind)
	}
	return res
}

func (ws *worlds) close() {
	for _, w := range ws.byKind {
		w.Close()
	}
}
