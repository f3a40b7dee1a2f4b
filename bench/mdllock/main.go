// Command mdllock measures what an ALTER TABLE does to an application on
// MariaDB while a long transaction holds the table: through the plain
// mysql client (it waits in the metadata-lock queue as long as
// lock_wait_timeout allows, a year by default, and every session that
// touches the table queues behind it) and through HotSwap (its guard waits
// for the blocker outside the queue, its ALTER runs with a short
// lock_wait_timeout), side by side.
//
//	make build && go run ./bench/mdllock
//
// Each run: a scripted workload (clients alternating a point read and a
// point update on items) for the whole run; after a few seconds a
// transaction reads items and stays open for a while (its shared metadata
// lock is held to its end); one second later ADD COLUMN is started. Each
// application statement's latency is measured by its client.
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
	opts := options{}
	flag.StringVar(&opts.binDir, "bin", "bin", "folder with hotswapd and hotswap-agent")
	flag.DurationVar(&opts.normal, "normal", 5*time.Second, "load before the blocker starts")
	flag.DurationVar(&opts.block, "block", 10*time.Second, "how long the blocker's transaction stays open")
	flag.DurationVar(&opts.after, "after", 3*time.Second, "load after the blocker ends")
	flag.DurationVar(&opts.lockTimeout, "lock-timeout", 500*time.Millisecond, "HotSwap's lock timeout (its maximum application delay)")
	flag.IntVar(&opts.clients, "clients", 4, "application clients")
	flag.Parse()
	if err := run(context.Background(), opts); err != nil {
		fmt.Fprintln(os.Stderr, "mdllock:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	binDir               string
	normal, block, after time.Duration
	lockTimeout          time.Duration
	clients              int
}

// run starts the servers, runs each method once and prints the table.
func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "hotswap-mdllock-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	_ = os.Chmod(dir, 0o755)
	if o.binDir, err = filepath.Abs(o.binDir); err != nil {
		return err
	}
	db, err := testbed.NewMariaDB(ctx, filepath.Join(dir, "mariadb"), testbed.MariaDBOptions{})
	if err != nil {
		return err
	}
	defer db.Stop()
	e, err := newEnv(ctx, o, db, dir)
	if err != nil {
		return err
	}
	defer e.close()
	var results []result
	for _, m := range e.methods() {
		r, err := e.scenario(ctx, m)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		results = append(results, r)
	}
	printTable(os.Stdout, o, results)
	return nil
}
