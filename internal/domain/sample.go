package domain

import "time"

// Sample is one reading of an instance's native counters and its host's,
// taken by the agent. Rates and latencies cover the interval since the
// previous sample (IntervalMs). The agent's own sessions and queries are
// kept out of every figure.
type Sample struct {
	InstanceID string    `json:"instanceId"`
	At         time.Time `json:"at"`
	IntervalMs float64   `json:"intervalMs"`

	// AvgLatencyMs is the mean execution time of the statements that
	// completed in the interval (pg_stat_statements: delta total_exec_time
	// over delta calls). Zero when no statement completed.
	AvgLatencyMs float64 `json:"avgLatencyMs"`
	// P95LatencyMs and P99LatencyMs are estimates (see docs/metrics.md).
	P95LatencyMs float64 `json:"p95LatencyMsEstimate"`
	P99LatencyMs float64 `json:"p99LatencyMsEstimate"`
	// Calls is how many statements completed in the interval.
	Calls int64 `json:"calls"`
	// TPS is committed plus rolled back transactions per second
	// (pg_stat_database deltas).
	TPS float64 `json:"tps"`

	ActiveConnections int `json:"activeConnections"`
	ActiveSessions    int `json:"activeSessions"`
	// LockWaiters is how many sessions wait on a heavyweight lock now;
	// LockWaitMs is the longest of those waits so far.
	LockWaiters int     `json:"lockWaiters"`
	LockWaitMs  float64 `json:"lockWaitMs"`
	// ReplicationLagSeconds is the worst replay lag this instance sees: of
	// its standbys on a primary, its own on a standby.
	ReplicationLagSeconds float64 `json:"replicationLagSeconds"`
	Deadlocks             int64   `json:"deadlocks"`

	// Host figures from /proc: CPU busy share over the interval (0-100)
	// and disk I/O operations per second.
	CPUPercent float64 `json:"cpuPercent"`
	DiskIOPS   float64 `json:"diskIops"`

	// Statements are the most called application statements of the
	// interval, each with its own figures (at most MaxSampleStatements),
	// for the latency rule that compares each with its own baseline.
	Statements []StatementSample `json:"statements,omitempty"`
	// QueuedBehindAgent is how many sessions wait for a lock behind one of
	// the agent's own sessions that itself waits in the lock queue: the
	// delay a DDL's bounded lock wait imposes, which the latency rule
	// leaves to the lock-queue guard.
	QueuedBehindAgent int `json:"queuedBehindAgent,omitempty"`
}

// MaxSampleStatements bounds Sample.Statements.
const MaxSampleStatements = 64

// StatementSample is one application statement's calls that completed in a
// sample's interval (pg_stat_statements: the entry's deltas). The agent's
// own statements are never listed.
type StatementSample struct {
	// ID is the engine's id of the normalized statement (PostgreSQL's
	// queryid), as text.
	ID string `json:"id"`
	// Fingerprint names the normalized statement by its text, the same on
	// every server (a hash of PostgreSQL's normalized query text; its
	// queryid depends on the server's table OIDs): how a statement is
	// matched with another instance's baseline. Empty when unknown.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Calls is how many calls completed in the interval; MeanMs is their
	// mean execution time and SDMs their standard deviation.
	Calls  int64   `json:"calls"`
	MeanMs float64 `json:"meanMs"`
	SDMs   float64 `json:"sdMs"`
}
