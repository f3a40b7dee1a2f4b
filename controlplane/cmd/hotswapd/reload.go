package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/controlplane/httpapi"
)

// resolved is the outcome of parsing the command line, the environment and
// the config file.
type resolved struct {
	settings settings
	values   map[string]string // every flag's value, as text
}

// resolve parses args as a start would, reading the environment and the
// config file as they are now.
func resolve(args []string) (resolved, error) {
	var out resolved
	app := newApp()
	app.Writer, app.ErrWriter = io.Discard, io.Discard
	app.Action = func(c *cli.Context) error {
		out = resolved{settings: settingsFrom(c), values: flagValues(c)}
		return nil
	}
	if err := app.Run(args); err != nil {
		return resolved{}, err
	}
	if err := checkSettings(out.settings); err != nil {
		return resolved{}, err
	}
	return out, nil
}

// checkSettings refuses an unknown log level or out-of-range defaults.
func checkSettings(s settings) error {
	if hclog.LevelFromString(s.LogLevel) == hclog.NoLevel {
		return fmt.Errorf("--log-level %q: want trace, debug, info, warn or error", s.LogLevel)
	}
	return s.validate()
}

// defaultsSetter is the running server, as far as a reload is concerned.
type defaultsSetter interface {
	SetExecutionDefaults(httpapi.ExecutionDefaults)
}

// reloader applies a changed config file (or environment) on SIGHUP.
type reloader struct {
	args    []string
	logger  hclog.Logger
	server  defaultsSetter
	certs   certReloader // nil: no certificates to reread
	current resolved
}

// certReloader rereads the TLS certificate files.
type certReloader interface {
	ReloadTLS() error
}

// listen starts catching SIGHUP and returns where it arrives. It returns
// only once the handler is installed: from then on a SIGHUP no longer
// ends the process (its default action), it waits on the channel.
func listen() chan os.Signal {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	return hup
}

// watch reloads on every SIGHUP arriving on hup until ctx ends, then stops
// catching it.
func (r *reloader) watch(ctx context.Context, hup chan os.Signal) {
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.reload()
		}
	}
}

// reload resolves the settings again and applies the reloadable ones; a
// bad file changes nothing.
func (r *reloader) reload() {
	next, err := resolve(r.args)
	if err != nil {
		r.logger.Error("reload refused, the running settings are kept", "error", err)
		return
	}
	var applied, onRestart []string
	for _, name := range sortedKeys(next.values) {
		if next.values[name] == r.current.values[name] {
			continue
		}
		if reloadable[name] {
			applied = append(applied, name)
		} else {
			onRestart = append(onRestart, name)
		}
	}
	if r.certs != nil {
		if err := r.certs.ReloadTLS(); err != nil {
			r.logger.Error("TLS certificates not reloaded, the loaded ones are kept", "error", err)
		} else {
			r.logger.Info("TLS certificates reloaded")
		}
	}
	r.logger.SetLevel(hclog.LevelFromString(next.settings.LogLevel))
	r.server.SetExecutionDefaults(next.settings.Defaults)
	r.current.settings = next.settings
	for _, name := range applied {
		r.current.values[name] = next.values[name]
	}
	sort.Strings(onRestart)
	r.logger.Info("reloaded", "applied", applied, "on_next_start", onRestart)
}
