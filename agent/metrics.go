package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// agentMetrics are the agent's own figures, served at /metrics on the
// config's metrics_addr: what sampling costs, the state of the stream to
// the control plane, and how long steps take.
type agentMetrics struct {
	reg       *prometheus.Registry
	sample    *prometheus.HistogramVec
	sampleErr *prometheus.CounterVec
	connected prometheus.Gauge
	sessions  prometheus.Counter
	step      *prometheus.HistogramVec
}

func newAgentMetrics() *agentMetrics {
	m := &agentMetrics{
		reg: prometheus.NewRegistry(),
		sample: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hotswap_agent_sample_duration_seconds",
			Help:    "Time to read one sample of an instance's counters (one round trip to the database, plus /proc).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"instance"}),
		sampleErr: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hotswap_agent_sample_errors_total",
			Help: "Samples of an instance that failed."}, []string{"instance"}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hotswap_agent_stream_connected",
			Help: "1 while the agent has a session with the control plane's leader."}),
		sessions: prometheus.NewCounter(prometheus.CounterOpts{Name: "hotswap_agent_stream_sessions_total",
			Help: "Sessions opened with a control plane server (reconnections and redirects included)."}),
		step: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hotswap_agent_step_duration_seconds",
			Help:    "Time to run a step on an instance, retries included, by kind and outcome (ok, error, cancelled).",
			Buckets: []float64{.01, .05, .1, .5, 1, 5, 15, 60, 300, 900, 3600}}, []string{"kind", "outcome"}),
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.sample, m.sampleErr, m.connected, m.sessions, m.step)
	return m
}

// observeSample records one sample of an instance.
func (m *agentMetrics) observeSample(instance string, took time.Duration, err error) {
	m.sample.WithLabelValues(instance).Observe(took.Seconds())
	if err != nil {
		m.sampleErr.WithLabelValues(instance).Inc()
	}
}

// observeStep records one step that ended.
func (m *agentMetrics) observeStep(kind, outcome string, took time.Duration) {
	m.step.WithLabelValues(kind, outcome).Observe(took.Seconds())
}

// setConnected records whether a session is open.
func (m *agentMetrics) setConnected(open bool) {
	if open {
		m.sessions.Inc()
		m.connected.Set(1)
		return
	}
	m.connected.Set(0)
}

// serve serves /metrics on addr until ctx ends. The listener is opened
// before it returns, so a bad address fails the start.
func (m *agentMetrics) serve(ctx context.Context, addr string, log hclog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics_addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped; the agent goes on without it", "error", err)
		}
	}()
	return nil
}
