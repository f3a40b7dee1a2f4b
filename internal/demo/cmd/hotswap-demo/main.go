// Command hotswap-demo runs HotSwap's demo (make demo): a control plane, an
// agent and a PostgreSQL with pgbench as the application, a migration under
// a blocking transaction, and a rollback. It stops everything it started.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hotswap-db/hotswap/internal/demo"
)

func main() {
	cfg := demo.Config{}
	flag.StringVar(&cfg.BinDir, "bin", "bin", "folder with hotswapd and hotswap-agent")
	flag.DurationVar(&cfg.BlockFor, "block", 8*time.Second, "how long the long transaction holds the table")
	flag.DurationVar(&cfg.LockTimeout, "lock-timeout", 500*time.Millisecond, "the migration's lock timeout")
	flag.IntVar(&cfg.Clients, "clients", 4, "pgbench clients (the application)")
	engine := flag.String("engine", "postgres", "the database engine: postgres or mariadb")
	flag.Parse()
	dir, err := os.MkdirTemp("", "hotswap-demo-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = os.Chmod(dir, 0o755) // the database server runs as its own user and must reach its folder
	cfg.WorkDir = filepath.Join(dir, "work")
	if cfg.BinDir, err = filepath.Abs(cfg.BinDir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	run := demo.Run
	if *engine == "mariadb" {
		run = demo.RunMariaDB
	}
	err = run(ctx, cfg, os.Stdout)
	stop()
	_ = os.RemoveAll(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
