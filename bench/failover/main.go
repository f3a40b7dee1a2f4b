// Command failover measures how fast a rollout goes on after its leader
// dies: a 3-server cluster, one agent, one PostgreSQL serving a database of
// several instances (one Master and independent copies, so a Phased
// rollout is several steps, one phase each, with a monitor window between
// them). In each run the leader is killed with SIGKILL just before a monitor
// window ends, when the next step would start; the benchmark records the
// time to a new leader, to the agent reconnected to it, and to the
// rollout's next step, then restarts the killed server for the next run.
//
//	make build && go run ./bench/failover [--runs 10]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hotswap-db/hotswap/internal/testbed"
)

func main() {
	o := options{}
	flag.StringVar(&o.binDir, "bin", "bin", "folder with hotswapd and hotswap-agent")
	flag.IntVar(&o.runs, "runs", 10, "leader kills, one per rollout")
	flag.IntVar(&o.instances, "instances", 4, "instances of the database (one Master, the rest independent copies): steps per rollout")
	flag.IntVar(&o.monitorSeconds, "monitor-window", 2, "monitor window after each step, seconds")
	flag.DurationVar(&o.killBefore, "kill-before", 200*time.Millisecond, "kill the leader this long before the monitor window ends")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "failover:", err)
		os.Exit(1)
	}
}

// options are the benchmark's flags.
type options struct {
	binDir         string
	runs           int
	instances      int
	monitorSeconds int
	killBefore     time.Duration
}

// goal is issue 13's target: the next step under 3 s after the kill.
const goal = 3 * time.Second

func run(ctx context.Context, o options) error {
	if o.instances < 2 || o.runs < 1 {
		return fmt.Errorf("--instances must be at least 2 and --runs at least 1")
	}
	dir, err := os.MkdirTemp("", "hotswap-bench-failover-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	_ = os.Chmod(dir, 0o755)
	if o.binDir, err = filepath.Abs(o.binDir); err != nil {
		return err
	}
	pg, err := testbed.NewPostgres(ctx, filepath.Join(dir, "pg"), testbed.PostgresOptions{})
	if err != nil {
		return err
	}
	defer pg.Stop()
	c, err := newCluster(ctx, o, pg, dir)
	if err != nil {
		return err
	}
	defer c.close()
	var results []result
	for i := 1; i <= o.runs; i++ {
		r, err := c.killRun(ctx, i)
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		fmt.Println(r.line(i))
		results = append(results, r)
	}
	report(o, results)
	return nil
}
