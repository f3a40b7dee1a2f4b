package httpapi

import (
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// ExecutionDefaults are what an execution request that leaves them out
// gets. The server may change them while it runs (hotswapd on SIGHUP); an
// execution keeps the values it was created with.
type ExecutionDefaults struct {
	Timeout       time.Duration     // 0: 30 min
	MonitorWindow time.Duration     // the monitor window after each step
	Thresholds    domain.Thresholds // zero fields: the reference's defaults
}

// SetExecutionDefaults replaces the defaults later requests get.
func (a *API) SetExecutionDefaults(d ExecutionDefaults) {
	if d.Timeout <= 0 {
		d.Timeout = 30 * time.Minute
	}
	d.Thresholds = d.Thresholds.WithDefaults()
	a.defaults.Store(&d)
}

// executionDefaults returns the defaults in force.
func (a *API) executionDefaults() ExecutionDefaults {
	return *a.defaults.Load()
}
