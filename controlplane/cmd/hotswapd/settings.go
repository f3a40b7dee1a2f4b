package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/controlplane/httpapi"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// reloadable are the flags whose new value a SIGHUP applies to the running
// server; the others take effect on the next start.
var reloadable = map[string]bool{
	"log-level": true, "execution-timeout": true, "monitor-window": true,
	"threshold-latency-factor": true, "threshold-min-latency-delta-ms": true, "threshold-lock-wait-ms": true,
	"threshold-cpu-percent": true, "threshold-cpu-for-ms": true, "threshold-replication-lag-seconds": true,
	"threshold-confirm-samples": true,
}

// thresholdFlags set the rollback thresholds of an execution whose request
// gives none (0: the reference's default).
func thresholdFlags() []cli.Flag {
	d := domain.DefaultThresholds()
	return []cli.Flag{
		&cli.Float64Flag{Name: "threshold-latency-factor", Usage: fmt.Sprintf("roll back when latency exceeds baseline times this (default %g)", d.LatencyFactor), EnvVars: []string{"HOTSWAPD_THRESHOLD_LATENCY_FACTOR"}},
		&cli.Float64Flag{Name: "threshold-min-latency-delta-ms", Usage: fmt.Sprintf("and by at least this many ms (default %g)", d.MinLatencyDeltaMs), EnvVars: []string{"HOTSWAPD_THRESHOLD_MIN_LATENCY_DELTA_MS"}},
		&cli.Float64Flag{Name: "threshold-lock-wait-ms", Usage: fmt.Sprintf("roll back when a session waits this long for a lock (default %g)", d.LockWaitMs), EnvVars: []string{"HOTSWAPD_THRESHOLD_LOCK_WAIT_MS"}},
		&cli.Float64Flag{Name: "threshold-cpu-percent", Usage: fmt.Sprintf("roll back when host CPU stays above this (default %g)", d.CPUPercent), EnvVars: []string{"HOTSWAPD_THRESHOLD_CPU_PERCENT"}},
		&cli.Int64Flag{Name: "threshold-cpu-for-ms", Usage: fmt.Sprintf("for this long (default %d)", d.CPUForMs), EnvVars: []string{"HOTSWAPD_THRESHOLD_CPU_FOR_MS"}},
		&cli.Float64Flag{Name: "threshold-replication-lag-seconds", Usage: fmt.Sprintf("roll back when a standby lags this much (default %g)", d.ReplicationLagSeconds), EnvVars: []string{"HOTSWAPD_THRESHOLD_REPLICATION_LAG_SECONDS"}},
		&cli.IntFlag{Name: "threshold-confirm-samples", Usage: fmt.Sprintf("samples in a row that must breach a threshold (default %d)", d.ConfirmSamples), EnvVars: []string{"HOTSWAPD_THRESHOLD_CONFIRM_SAMPLES"}},
	}
}

// settings are what a running server can change on SIGHUP.
type settings struct {
	LogLevel string
	Defaults httpapi.ExecutionDefaults
}

// settingsFrom reads the reloadable settings from the parsed flags.
func settingsFrom(c *cli.Context) settings {
	return settings{LogLevel: c.String("log-level"), Defaults: httpapi.ExecutionDefaults{
		Timeout: c.Duration("execution-timeout"), MonitorWindow: c.Duration("monitor-window"),
		Thresholds: domain.Thresholds{
			LatencyFactor: c.Float64("threshold-latency-factor"), MinLatencyDeltaMs: c.Float64("threshold-min-latency-delta-ms"),
			LockWaitMs: c.Float64("threshold-lock-wait-ms"), CPUPercent: c.Float64("threshold-cpu-percent"),
			CPUForMs: c.Int64("threshold-cpu-for-ms"), ReplicationLagSeconds: c.Float64("threshold-replication-lag-seconds"),
			ConfirmSamples: c.Int("threshold-confirm-samples"),
		}.WithDefaults(),
	}}
}

// validate refuses settings the API would refuse in a request.
func (s settings) validate() error {
	if err := s.Defaults.Thresholds.Validate(); err != nil {
		return fmt.Errorf("thresholds: %w", err)
	}
	if s.Defaults.Timeout <= 0 || s.Defaults.Timeout > 7*24*time.Hour {
		return fmt.Errorf("--execution-timeout must be from 1s to 168h")
	}
	if s.Defaults.MonitorWindow < 0 || s.Defaults.MonitorWindow > 24*time.Hour {
		return fmt.Errorf("--monitor-window must be from 0 to 24h")
	}
	return nil
}

// flagValues is every flag's value as text, to tell what a reload changed.
func flagValues(c *cli.Context) map[string]string {
	values := map[string]string{}
	for _, f := range c.App.Flags {
		name := f.Names()[0]
		values[name] = fmt.Sprint(c.Value(name))
	}
	return values
}
