// Package metrics exposes a server's Prometheus metrics, in base units
// (seconds, ratios from 0 to 1). Migration counts and durations are
// computed from the replicated state at each scrape, so they survive a
// failover; only the leader exports them, so a sum() over the servers
// counts each execution once. Per-instance gauges come from the samples
// agents stream to the leader. What each server measures of itself (Raft)
// carries a server label.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/controlplane/monitor"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// Node is what the metrics read of the Raft node.
type Node interface {
	State() *fsm.State
	Status() (api.ClusterStatus, error)
	IsLeader() bool
	Applied() map[fsm.MessageType]fsm.AppliedStat
}

// Connected counts the agents with a session on this server.
type Connected interface{ Connected() int }

// Registry is a server's metrics.
type Registry struct {
	reg        *prometheus.Registry
	validation prometheus.Histogram
}

// durationBuckets suit migrations: from a second to two hours.
var durationBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200}

// New builds the registry (its own, not the process-global default).
func New(node Node, agents Connected, samples *monitor.Store) *Registry {
	r := &Registry{reg: prometheus.NewRegistry(), validation: prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "migration_validation_duration_seconds", Help: "Time to validate a migration on create or update (fields and SQL parsing).",
		Buckets: []float64{.0005, .001, .005, .01, .05, .1, .5, 1, 5},
	})}
	r.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		r.validation,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "agents_connected",
			Help: "Agents with an open session on this server (the leader holds them all)."},
			func() float64 { return float64(agents.Connected()) }),
		&stateCollector{node: node},
		&raftCollector{node: node},
		&instanceCollector{node: node, samples: samples},
	)
	return r
}

// Handler serves /metrics.
func (r *Registry) Handler() http.Handler { return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{}) }

// ObserveValidation records how long a validation took.
func (r *Registry) ObserveValidation(d time.Duration) { r.validation.Observe(d.Seconds()) }

var (
	inProgressDesc = prometheus.NewDesc("migrations_in_progress", "Executions running or paused (dry runs excluded).", nil, nil)
	executedDesc   = prometheus.NewDesc("migrations_executed_total", "Executions started (dry runs excluded).", nil, nil)
	succeededDesc  = prometheus.NewDesc("migrations_succeeded_total", "Executions that succeeded.", nil, nil)
	failedDesc     = prometheus.NewDesc("migrations_failed_total", "Executions that failed.", nil, nil)
	rolledBackDesc = prometheus.NewDesc("migrations_rolled_back_total", "Executions rolled back.", nil, nil)
	execDurDesc    = prometheus.NewDesc("migration_execution_duration_seconds", "Duration of finished executions, start to end.", nil, nil)
	rbDurDesc      = prometheus.NewDesc("migration_rollback_duration_seconds", "Duration of rollbacks, from the decision to roll back to rolled back.", nil, nil)
	databasesDesc  = prometheus.NewDesc("databases_registered", "Databases registered.", nil, nil)
)

// stateCollector derives migration counts and durations from the state.
// Every server holds the same state: only the leader reports it, so that
// summing over servers does not count an execution once per server.
type stateCollector struct{ node Node }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{inProgressDesc, executedDesc, succeededDesc, failedDesc, rolledBackDesc, execDurDesc,
		rbDurDesc, databasesDesc} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	if !c.node.IsLeader() {
		return
	}
	ch <- prometheus.MustNewConstMetric(databasesDesc, prometheus.GaugeValue, float64(len(c.node.State().Databases())))
	counts := map[domain.ExecutionStatus]float64{}
	var executed, inProgress float64
	execDur, rbDur := newHist(), newHist()
	for _, e := range c.node.State().Executions(func(e *domain.Execution) bool { return !e.DryRun }) {
		counts[e.Status]++
		if !e.StartedAt.IsZero() {
			executed++
		}
		if e.Status == domain.ExecutionRunning || e.Status == domain.ExecutionPaused {
			inProgress++
		}
		if e.Status.Terminal() && !e.StartedAt.IsZero() {
			execDur.observe(e.CompletedAt.Sub(e.StartedAt).Seconds())
		}
		if !e.RollbackStartedAt.IsZero() && !e.RollbackCompletedAt.IsZero() {
			rbDur.observe(e.RollbackCompletedAt.Sub(e.RollbackStartedAt).Seconds())
		}
	}
	ch <- prometheus.MustNewConstMetric(inProgressDesc, prometheus.GaugeValue, inProgress)
	ch <- prometheus.MustNewConstMetric(executedDesc, prometheus.CounterValue, executed)
	ch <- prometheus.MustNewConstMetric(succeededDesc, prometheus.CounterValue, counts[domain.ExecutionSucceeded])
	ch <- prometheus.MustNewConstMetric(failedDesc, prometheus.CounterValue, counts[domain.ExecutionFailed])
	ch <- prometheus.MustNewConstMetric(rolledBackDesc, prometheus.CounterValue, counts[domain.ExecutionRolledBack])
	ch <- execDur.metric(execDurDesc)
	ch <- rbDur.metric(rbDurDesc)
}

// hist accumulates a histogram's buckets at scrape time.
type hist struct {
	count   uint64
	sum     float64
	buckets map[float64]uint64
}

func newHist() *hist { return &hist{buckets: map[float64]uint64{}} }

func (h *hist) observe(v float64) {
	h.count++
	h.sum += v
	for _, b := range durationBuckets {
		if v <= b {
			h.buckets[b]++
		}
	}
}

func (h *hist) metric(d *prometheus.Desc) prometheus.Metric {
	return prometheus.MustNewConstHistogram(d, h.count, h.sum, h.buckets)
}

var (
	server          = []string{"server"}
	raftLeaderDesc  = prometheus.NewDesc("hotswap_raft_is_leader", "1 when this server leads the Raft group.", server, nil)
	raftTermDesc    = prometheus.NewDesc("hotswap_raft_term", "Current Raft term.", server, nil)
	raftLastDesc    = prometheus.NewDesc("hotswap_raft_last_index", "Last index in this server's Raft log.", server, nil)
	raftCommitDesc  = prometheus.NewDesc("hotswap_raft_commit_index", "Raft commit index known to this server.", server, nil)
	raftAppliedDesc = prometheus.NewDesc("hotswap_raft_applied_index", "Last index applied to this server's state.", server, nil)
	raftPeersDesc   = prometheus.NewDesc("hotswap_raft_servers", "Servers in the Raft configuration.", server, nil)
	raftEntriesDesc = prometheus.NewDesc("hotswap_raft_applied_entries_total",
		"Command entries this server applied to its state since it started, by command (every server applies every entry).",
		[]string{"server", "command"}, nil)
	raftBytesDesc = prometheus.NewDesc("hotswap_raft_applied_bytes_total",
		"Size of the command entries this server applied since it started (type byte and encoded body), by command.",
		[]string{"server", "command"}, nil)
)

// raftCollector reports the Raft node's state.
type raftCollector struct{ node Node }

func (c *raftCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{raftLeaderDesc, raftTermDesc, raftLastDesc, raftCommitDesc, raftAppliedDesc, raftPeersDesc,
		raftEntriesDesc, raftBytesDesc} {
		ch <- d
	}
}

func (c *raftCollector) Collect(ch chan<- prometheus.Metric) {
	st, _ := c.node.Status()
	leader := 0.0
	if c.node.IsLeader() {
		leader = 1
	}
	id := st.ServerID
	ch <- prometheus.MustNewConstMetric(raftLeaderDesc, prometheus.GaugeValue, leader, id)
	ch <- prometheus.MustNewConstMetric(raftTermDesc, prometheus.GaugeValue, float64(st.Term), id)
	ch <- prometheus.MustNewConstMetric(raftLastDesc, prometheus.GaugeValue, float64(st.LastIndex), id)
	ch <- prometheus.MustNewConstMetric(raftCommitDesc, prometheus.GaugeValue, float64(st.CommitIndex), id)
	ch <- prometheus.MustNewConstMetric(raftAppliedDesc, prometheus.GaugeValue, float64(st.AppliedIndex), id)
	ch <- prometheus.MustNewConstMetric(raftPeersDesc, prometheus.GaugeValue, float64(len(st.Servers)), id)
	for t, a := range c.node.Applied() {
		ch <- prometheus.MustNewConstMetric(raftEntriesDesc, prometheus.CounterValue, float64(a.Entries), id, t.String())
		ch <- prometheus.MustNewConstMetric(raftBytesDesc, prometheus.CounterValue, float64(a.Bytes), id, t.String())
	}
}

var instanceLabels = []string{"database", "agent", "instance"}

// The per-instance gauges, from each instance's newest sample, in base
// units: the samples' milliseconds become seconds, percentages ratios.
var instanceGauges = []struct {
	desc  *prometheus.Desc
	value func(domain.Sample) float64
}{
	{prometheus.NewDesc("hotswap_instance_active_connections", "Client connections (the agent's excluded).", instanceLabels, nil),
		func(s domain.Sample) float64 { return float64(s.ActiveConnections) }},
	{prometheus.NewDesc("hotswap_instance_replication_lag_seconds", "Worst replay lag the instance sees.", instanceLabels, nil),
		func(s domain.Sample) float64 { return s.ReplicationLagSeconds }},
	{prometheus.NewDesc("hotswap_instance_query_latency_seconds", "Mean statement latency over the last sample interval.", instanceLabels, nil),
		func(s domain.Sample) float64 { return s.AvgLatencyMs / 1000 }},
	{prometheus.NewDesc("hotswap_instance_query_latency_p99_estimate_seconds", "Estimated 99th percentile statement latency (see docs/metrics.md).", instanceLabels, nil),
		func(s domain.Sample) float64 { return s.P99LatencyMs / 1000 }},
	{prometheus.NewDesc("hotswap_instance_transactions_per_second", "Transactions per second over the last sample interval.", instanceLabels, nil),
		func(s domain.Sample) float64 { return s.TPS }},
	{prometheus.NewDesc("hotswap_instance_lock_wait_seconds", "Longest current heavyweight lock wait.", instanceLabels, nil),
		func(s domain.Sample) float64 { return s.LockWaitMs / 1000 }},
	{prometheus.NewDesc("hotswap_instance_host_cpu_ratio", "The instance's host CPU busy share, 0 to 1.", instanceLabels, nil),
		func(s domain.Sample) float64 { return s.CPUPercent / 100 }},
}

// instanceCollector reports each registered instance's newest sample.
type instanceCollector struct {
	node    Node
	samples *monitor.Store
}

func (c *instanceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, g := range instanceGauges {
		ch <- g.desc
	}
}

func (c *instanceCollector) Collect(ch chan<- prometheus.Metric) {
	for _, db := range c.node.State().Databases() {
		for _, in := range db.Instances {
			s, ok := c.samples.Latest(monitor.Key{Agent: in.Agent, Instance: in.InstanceID})
			if !ok {
				continue
			}
			for _, g := range instanceGauges {
				ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, g.value(s), db.Name, in.Agent, in.InstanceID)
			}
		}
	}
}
