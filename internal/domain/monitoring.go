package domain

import (
	"fmt"
	"strings"
	"time"
)

// Counters the guard rules watch, as named in decisions.
const (
	CounterLatency        = "latency"
	CounterLockWait       = "lock_wait"
	CounterCPU            = "cpu"
	CounterReplicationLag = "replication_lag"
)

// Thresholds are the limits of a rollout. The defaults follow the
// reference: latency over 1.5x the baseline, a lock wait over 5 s, CPU over
// 90% for 2 minutes roll back; replication lag over 60 s pauses. Latency
// is judged per statement: over LatencyFactor times its baseline mean and
// over the mean by more than its baseline's spread allows, and never by
// less than MinLatencyDeltaMs (0.05 ms by default).
type Thresholds struct {
	LatencyFactor         float64 `json:"latencyFactor"`
	MinLatencyDeltaMs     float64 `json:"minLatencyDeltaMs"`
	LockWaitMs            float64 `json:"lockWaitMs"`
	CPUPercent            float64 `json:"cpuPercent"`
	CPUForMs              int64   `json:"cpuForMs"`
	ReplicationLagSeconds float64 `json:"replicationLagSeconds"`
	ConfirmSamples        int     `json:"confirmSamples"`
}

// DefaultThresholds returns the reference's thresholds.
func DefaultThresholds() Thresholds {
	return Thresholds{LatencyFactor: 1.5, MinLatencyDeltaMs: 0.05, LockWaitMs: 5000, CPUPercent: 90,
		CPUForMs: 120_000, ReplicationLagSeconds: 60, ConfirmSamples: 2}
}

// WithDefaults fills every zero field from DefaultThresholds.
func (t Thresholds) WithDefaults() Thresholds {
	return t.Or(DefaultThresholds())
}

// Or fills every zero field of t from d.
func (t Thresholds) Or(d Thresholds) Thresholds {
	if t.LatencyFactor == 0 {
		t.LatencyFactor = d.LatencyFactor
	}
	if t.MinLatencyDeltaMs == 0 {
		t.MinLatencyDeltaMs = d.MinLatencyDeltaMs
	}
	if t.LockWaitMs == 0 {
		t.LockWaitMs = d.LockWaitMs
	}
	if t.CPUPercent == 0 {
		t.CPUPercent = d.CPUPercent
	}
	if t.CPUForMs == 0 {
		t.CPUForMs = d.CPUForMs
	}
	if t.ReplicationLagSeconds == 0 {
		t.ReplicationLagSeconds = d.ReplicationLagSeconds
	}
	if t.ConfirmSamples == 0 {
		t.ConfirmSamples = d.ConfirmSamples
	}
	return t
}

// Validate checks thresholds given by a user.
func (t Thresholds) Validate() error {
	switch {
	case t.LatencyFactor < 1:
		return fmt.Errorf("latencyFactor must be at least 1")
	case t.LockWaitMs < 0 || t.CPUPercent < 0 || t.CPUPercent > 100 || t.CPUForMs < 0 || t.ReplicationLagSeconds < 0:
		return fmt.Errorf("thresholds must not be negative, cpuPercent at most 100")
	case t.ConfirmSamples < 1 || t.ConfirmSamples > 20:
		return fmt.Errorf("confirmSamples must be from 1 to 20")
	}
	return nil
}

// Baseline is what normal looked like before a step.
type Baseline struct {
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	Samples      int       `json:"samples"`
	AvgLatencyMs float64   `json:"avgLatencyMs"`
	P95LatencyMs float64   `json:"p95LatencyMsEstimate"`
	TPS          float64   `json:"tps"`
	CPUPercent   float64   `json:"cpuPercent"`
	LagSeconds   float64   `json:"replicationLagSeconds"`

	// Statements are the significant application statements of the
	// window, each with its own latency baseline: what the latency rule
	// judges.
	Statements []StatementBaseline `json:"statements,omitempty"`
	// LatencyNotArmed says why the latency rule is not armed (the window
	// held too little traffic to judge); empty when it is.
	LatencyNotArmed string `json:"latencyNotArmed,omitempty"`
	// Source is the instance whose samples made the baseline
	// ("agent/instance") when it judges another one: after a BlueGreen
	// switch, green under the traffic is judged against blue's baseline
	// under the same traffic. Statements are then matched by Fingerprint,
	// not by ID. Empty when the baseline is the judged instance's own.
	Source string `json:"source,omitempty"`
}

// Summary gives the baseline's figures in words: its window, traffic and
// latency, and how many statements it judges.
func (b Baseline) Summary() string {
	s := fmt.Sprintf("%d sample(s) from %s to %s: %s tps, %s ms mean latency", b.Samples,
		b.From.Format("15:04:05.000"), b.To.Format("15:04:05.000"), num(b.TPS), num(b.AvgLatencyMs))
	if n := len(b.Statements); n > 0 {
		top := b.Statements[0]
		s += fmt.Sprintf(", %d statement(s) judged (the most called: %d calls at %.3f ms)", n, top.Calls, top.MeanMs)
	}
	return s
}

// StatementBaseline is one application statement's latency over a
// baseline window.
type StatementBaseline struct {
	ID string `json:"id"`
	// Fingerprint is the statement's StatementSample.Fingerprint.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Calls in the window; Samples is in how many samples it ran.
	Calls   int64 `json:"calls"`
	Samples int   `json:"samples"`
	// MeanMs is the call-weighted mean execution time, SDMs the spread of
	// single calls around it, SpreadMs the spread of the interval means
	// from sample to sample (both standard deviations).
	MeanMs   float64 `json:"meanMs"`
	SDMs     float64 `json:"sdMs"`
	SpreadMs float64 `json:"spreadMs"`
}

// SlowStatement is a statement a latency decision found slower than its
// baseline allows.
type SlowStatement struct {
	ID       string  `json:"id"`
	Calls    int64   `json:"calls"`
	BeforeMs float64 `json:"beforeMs"`
	AfterMs  float64 `json:"afterMs"`
	LimitMs  float64 `json:"limitMs"`
}

// Decision is what a rule concluded.
type Decision struct {
	Action     string    `json:"action"` // rollback, pause, resume
	Counter    string    `json:"counter"`
	InstanceID string    `json:"instanceId,omitempty"`
	Value      float64   `json:"value"`
	Threshold  float64   `json:"threshold"`
	OnsetAt    time.Time `json:"onsetAt"`
	DetectedAt time.Time `json:"detectedAt"`
	// Statements names, for a latency decision, the statements that got
	// slower, with their mean before and after.
	Statements []SlowStatement `json:"statements,omitempty"`
	// Against names the baseline the decision judged by, with its figures,
	// when it is another instance's (a BlueGreen switch: blue's under the
	// same traffic); empty for the instance's own.
	Against string `json:"against,omitempty"`
	// Set by the control plane when it commits the decision.
	StepID             string    `json:"stepId,omitempty"`
	DecidedBy          string    `json:"decidedBy,omitempty"` // agent or leader
	CommittedAt        time.Time `json:"committedAt,omitzero"`
	RollbackFinishedAt time.Time `json:"rollbackFinishedAt,omitzero"`
}

// Reason says the decision in words.
func (d Decision) Reason() string {
	unit := map[string]string{CounterLatency: "ms", CounterLockWait: "ms", CounterCPU: "%", CounterReplicationLag: "s"}[d.Counter]
	name := map[string]string{CounterLatency: "query latency", CounterLockWait: "lock wait", CounterCPU: "CPU", CounterReplicationLag: "replication lag"}[d.Counter]
	switch d.Action {
	case "resume":
		return fmt.Sprintf("%s back to %s%s (under %s%s) on %s", name, num(d.Value), unit, num(d.Threshold), unit, d.InstanceID)
	}
	s := fmt.Sprintf("%s %s%s over the threshold %s%s on %s", name, num(d.Value), unit, num(d.Threshold), unit, d.InstanceID) +
		slowerText(d.Statements)
	if d.Against != "" {
		s += "; judged against " + d.Against
	}
	return s
}

// num writes a figure with the digits that matter: 5100, 95.2, 0.052.
func num(v float64) string {
	switch {
	case v >= 100 || v <= -100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1 || v <= -1:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

// slowerText lists the statements that got slower, for Reason.
func slowerText(ss []SlowStatement) string {
	if len(ss) == 0 {
		return ""
	}
	parts := make([]string, 0, len(ss))
	for i, s := range ss {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("%d more", len(ss)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("statement %s %.3fms -> %.3fms (%d calls)", s.ID, s.BeforeMs, s.AfterMs, s.Calls))
	}
	return "; slower: " + strings.Join(parts, ", ")
}

// MonitorSettings say how an execution is watched.
type MonitorSettings struct {
	Thresholds Thresholds `json:"thresholds"`
	// BaselineWindowSeconds is the window before each step whose samples
	// make its baseline (default 60).
	BaselineWindowSeconds int `json:"baselineWindowSeconds"`
	// MonitorWindowSeconds is how long each step is watched after it ends
	// before the next one starts (or the execution succeeds).
	MonitorWindowSeconds int `json:"monitorWindowSeconds"`
	// SampleIntervalMs is the agents' sampling interval while a step runs
	// or is in its monitor window (default 250).
	SampleIntervalMs int `json:"sampleIntervalMs"`
}

// Snapshot is a sample kept with an execution, naming its instance.
type Snapshot struct {
	Agent string `json:"agent"`
	Sample
}
