// Package pgbench drives PostgreSQL's pgbench as an application workload for
// the demo and benchmarks: it initializes pgbench's tables, runs pgbench
// with a built-in or custom script, reports its progress lines as they come,
// and reads its per-transaction logs.
package pgbench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options say which pgbench to run, against which server, and how.
type Options struct {
	BinDir   string // folder holding the pgbench program
	Host     string // server host; empty means pgbench's default
	Port     int    // server port; 0 means pgbench's default
	User     string // role to log in as
	Password string // passed to pgbench in PGPASSWORD only, never as an argument
	Database string // database to connect to
	Clients  int    // concurrent clients (-c); 0 means pgbench's default, 1
	Threads  int    // worker threads (-j); 0 means pgbench's default, 1
	// Duration is how long the run lasts (-T), rounded up to whole seconds;
	// it must be at least one second.
	Duration time.Duration
	// Script is the contents of a custom script (-f); empty means the
	// built-in tpcb-like script.
	Script string
	// LogPrefix, when set, makes pgbench write its per-transaction log (-l)
	// to files named LogPrefix.PID and LogPrefix.PID.N, one per thread.
	LogPrefix string
	// Progress is the interval of progress reports (-P), rounded up to
	// whole seconds; 0 means none.
	Progress time.Duration
}

// Init creates and fills pgbench's tables at the given scale factor
// (pgbench -i -s scale -q).
func Init(ctx context.Context, o Options, scale int) error {
	if scale < 1 {
		return fmt.Errorf("pgbench -i: scale %d: must be at least 1", scale)
	}
	args := append(o.connArgs(), "-i", "-s", strconv.Itoa(scale), "-q", o.Database)
	cmd := o.command(ctx, args)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgbench -i -s %d: %w: %s", scale, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// runArgs is the command line of a run, with script as the custom script's
// file (empty for the built-in script). Runs never vacuum first (-n).
func (o Options) runArgs(script string) ([]string, error) {
	if o.Duration <= 0 {
		return nil, errors.New("pgbench: Duration must be at least one second")
	}
	args := append(o.connArgs(), "-n", "-T", wholeSeconds(o.Duration))
	if o.Clients > 0 {
		args = append(args, "-c", strconv.Itoa(o.Clients))
	}
	if o.Threads > 0 {
		args = append(args, "-j", strconv.Itoa(o.Threads))
	}
	if o.Progress > 0 {
		args = append(args, "-P", wholeSeconds(o.Progress))
	}
	if o.LogPrefix != "" {
		args = append(args, "-l", "--log-prefix", o.LogPrefix)
	}
	if script != "" {
		args = append(args, "-f", script)
	}
	return append(args, o.Database), nil
}

// connArgs are the connection options; the password is not among them.
func (o Options) connArgs() []string {
	var args []string
	if o.Host != "" {
		args = append(args, "-h", o.Host)
	}
	if o.Port != 0 {
		args = append(args, "-p", strconv.Itoa(o.Port))
	}
	if o.User != "" {
		args = append(args, "-U", o.User)
	}
	return args
}

// command builds a pgbench command whose environment is the caller's
// without PG* variables, plus PGPASSWORD when there is a password.
func (o Options) command(ctx context.Context, args []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(o.BinDir, "pgbench"), args...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "PG") })
	if o.Password != "" {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+o.Password)
	}
	return cmd
}

// wholeSeconds is d in seconds, rounded up, at least 1.
func wholeSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}
