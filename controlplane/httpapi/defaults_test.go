package httpapi

import (
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// TestExecutionDefaultsChangeAtRunTime checks that a request without
// monitor settings gets the defaults in force when it arrives, and that a
// request's own thresholds still win.
func TestExecutionDefaultsChangeAtRunTime(t *testing.T) {
	a := New(Config{MonitorWindow: time.Minute})
	req := &api.ExecuteRequest{}
	if errs := a.monitorDefaults(req); len(errs) > 0 {
		t.Fatalf("monitorDefaults: %v", errs)
	}
	if got, want := req.Monitoring.Thresholds, domain.DefaultThresholds(); got != want {
		t.Errorf("thresholds before a change = %+v, want the reference's %+v", got, want)
	}
	if got := req.Monitoring.MonitorWindowSeconds; got != 60 {
		t.Errorf("monitor window before a change = %d s, want 60", got)
	}

	a.SetExecutionDefaults(ExecutionDefaults{MonitorWindow: 5 * time.Minute,
		Thresholds: domain.Thresholds{LatencyFactor: 3, ConfirmSamples: 4}})
	req = &api.ExecuteRequest{}
	if errs := a.monitorDefaults(req); len(errs) > 0 {
		t.Fatalf("monitorDefaults: %v", errs)
	}
	th := req.Monitoring.Thresholds
	if th.LatencyFactor != 3 || th.ConfirmSamples != 4 || th.LockWaitMs != domain.DefaultThresholds().LockWaitMs {
		t.Errorf("thresholds after a change = %+v, want latency factor 3, confirm 4, the rest the reference's", th)
	}
	if got := req.Monitoring.MonitorWindowSeconds; got != 300 {
		t.Errorf("monitor window after a change = %d s, want 300", got)
	}
	if got := a.executionDefaults().Timeout; got != 30*time.Minute {
		t.Errorf("timeout left at 0 = %v, want 30m", got)
	}

	req = &api.ExecuteRequest{Monitoring: &domain.MonitorSettings{Thresholds: domain.Thresholds{LatencyFactor: 1.2}}}
	if errs := a.monitorDefaults(req); len(errs) > 0 {
		t.Fatalf("monitorDefaults: %v", errs)
	}
	if got := req.Monitoring.Thresholds.LatencyFactor; got != 1.2 {
		t.Errorf("request's own latency factor = %g, want 1.2 kept", got)
	}
}
