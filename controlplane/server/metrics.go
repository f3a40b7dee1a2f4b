package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hotswap-db/hotswap/controlplane/agentlink"
	"github.com/hotswap-db/hotswap/controlplane/cluster"
)

// newMetrics builds this server's Prometheus registry (its own, not the
// process-global default) and the /metrics handler over it.
func newMetrics(node *cluster.Node, links *agentlink.Server) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "agents_connected",
			Help: "Agents with an open session on this server (the leader holds them all)."},
			func() float64 { return float64(links.Connected()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "databases_registered",
			Help: "Databases registered in the control plane."},
			func() float64 { return float64(len(node.State().Databases())) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hotswap_raft_is_leader",
			Help: "1 when this server leads the Raft group."},
			func() float64 {
				if node.IsLeader() {
					return 1
				}
				return 0
			}),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
