// Command scale measures one hotswapd under many agents: simulated agents
// (in-process gRPC clients speaking the real protocol of proto/agentpb:
// Hello, heartbeats, a batch of samples a second, a StepResult for each
// step after a delay) connected at once, with executions in flight (each
// in a monitor window longer than the benchmark, watched over the
// samples). At each agent count it measures the server's CPU and RSS from
// /proc/PID, the p99 latency of a few API reads, and the Raft entries
// applied per second, and prints how each grows with the agents.
//
//	make build && go run ./bench/scale [--agents 100,300,1000 --executions 100]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	o := options{}
	var counts string
	flag.StringVar(&o.binDir, "bin", "bin", "folder with hotswapd")
	flag.StringVar(&counts, "agents", "100,300,1000", "agent counts to measure, ascending")
	flag.IntVar(&o.executions, "executions", 100, "executions in flight (one database each, on the first agents)")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "measurement at each agent count")
	flag.DurationVar(&o.settle, "settle", 10*time.Second, "wait after the agents connected, before measuring")
	flag.DurationVar(&o.stepDelay, "step-delay", time.Second, "how long a simulated step takes")
	flag.DurationVar(&o.probeGap, "probe-gap", 50*time.Millisecond, "pause between two timed API reads")
	flag.Parse()
	var err error
	if o.counts, err = parseCounts(counts); err == nil {
		err = run(context.Background(), o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

// options are the benchmark's flags.
type options struct {
	binDir     string
	counts     []int
	executions int
	duration   time.Duration
	settle     time.Duration
	stepDelay  time.Duration
	probeGap   time.Duration
}

func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || (len(out) > 0 && n <= out[len(out)-1]) {
			return nil, fmt.Errorf("--agents %q: want ascending positive counts", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "hotswap-bench-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if o.binDir, err = filepath.Abs(o.binDir); err != nil {
		return err
	}
	e, err := newEnv(ctx, o, dir)
	if err != nil {
		return err
	}
	defer e.close()
	var levels []level
	for i, n := range o.counts {
		start := time.Now()
		if err := e.grow(ctx, n); err != nil {
			return err
		}
		fmt.Printf("%d simulated agents connected (%s)\n", n, time.Since(start).Round(time.Millisecond))
		if i == 0 {
			if err := e.startExecutions(ctx); err != nil {
				return err
			}
		}
		l, err := e.measure(ctx)
		if err != nil {
			return err
		}
		fmt.Println(l.line())
		levels = append(levels, l)
	}
	report(o, levels)
	return nil
}
