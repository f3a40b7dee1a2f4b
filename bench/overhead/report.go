package main

import (
	"fmt"
	"io"
	"runtime"
)

// Goal and reference for the agent's share of the machine.
const (
	goalShare      = 0.01
	referenceShare = 0.05
)

// printReport prints each run's throughput, the means and ratios, then the
// sampler's own cost per agent setting.
func printReport(w io.Writer, o options, settings []*setting, rs []result) {
	fmt.Fprintf(w, "\npgbench tpcb-like, scale %d, %d clients, %s runs, settings alternating; %d cores\n\n",
		o.scale, o.clients, o.duration, runtime.NumCPU())
	printTPS(w, settings, rs)
	printCost(w, settings, rs)
}

// printTPS prints the runs' throughput, the means and their ratios to no
// agent.
func printTPS(w io.Writer, settings []*setting, rs []result) {
	fmt.Fprintf(w, "%-8s", "tps")
	for _, s := range settings {
		fmt.Fprintf(w, " %14s", s.name)
	}
	for i, r := range rs {
		if r.setting == 0 {
			fmt.Fprintf(w, "\nrun %-4d", i/len(settings)+1)
		}
		fmt.Fprintf(w, " %14.0f", r.tps)
	}
	fmt.Fprintf(w, "\n%-8s", "mean")
	none := mean(rs, 0, func(r result) float64 { return r.tps })
	for i := range settings {
		fmt.Fprintf(w, " %14.0f", mean(rs, i, func(r result) float64 { return r.tps }))
	}
	fmt.Fprintf(w, "\n%-8s %14s", "vs none", "")
	for i := range settings[1:] {
		fmt.Fprintf(w, " %14s", fmt.Sprintf("%.1f%%", 100*mean(rs, i+1, func(r result) float64 { return r.tps })/none))
	}
	fmt.Fprintln(w, "\n\nThroughput varies about 10% between runs on this machine: a difference of the means")
	fmt.Fprintln(w, "smaller than that is noise, not the agent.")
}

// printCost prints the sampler's measured cost per agent setting: rates and
// shares of the machine.
func printCost(w io.Writer, settings []*setting, rs []result) {
	cores := float64(runtime.NumCPU())
	fmt.Fprintf(w, "\nthe sampler's own cost, measured (mean over the runs)   %14s %14s\n", settings[1].name, settings[2].name)
	row := func(label string, f func(r result) float64, format string) {
		fmt.Fprintf(w, "%-54s", label)
		for i := 1; i < len(settings); i++ {
			fmt.Fprintf(w, " %14s", fmt.Sprintf(format, mean(rs, i, f)))
		}
		fmt.Fprintln(w)
	}
	share := func(f func(r result) float64) func(r result) float64 {
		return func(r result) float64 { return 100 * f(r) / cores }
	}
	dbTime := func(r result) float64 { return r.sampleMs / 1000 }
	agentCPU := func(r result) float64 { return r.agentCPU }
	sessCPU := func(r result) float64 { return r.sessionCPU }
	onHost := func(r result) float64 { return r.agentCPU + r.sessionCPU }
	row("sampling queries per second", func(r result) float64 { return r.samples }, "%.2f")
	row("(a) their database time, ms per second", func(r result) float64 { return r.sampleMs }, "%.2f")
	row(fmt.Sprintf("    share of the machine (%.0f CPU-s per s)", cores), share(dbTime), "%.3f%%")
	row("(b) agent process CPU, ms per second", func(r result) float64 { return 1000 * r.agentCPU }, "%.1f")
	row("    share of the machine", share(agentCPU), "%.3f%%")
	row("(c) the agent's database sessions' CPU, ms per second", func(r result) float64 { return 1000 * r.sessionCPU }, "%.1f")
	row("    share of the machine", share(sessCPU), "%.3f%%")
	row("agent's cost on the host, (b) + (c), share", share(onHost), "%.3f%%")
	fmt.Fprintf(w, "%-54s", fmt.Sprintf("goal: under %.0f%% of the machine (reference: %.0f%%)", 100*goalShare, 100*referenceShare))
	for i := 1; i < len(settings); i++ {
		fmt.Fprintf(w, " %14s", met(mean(rs, i, onHost)/cores < goalShare))
	}
	fmt.Fprintln(w)
	row("hotswapd CPU, share (its own machines in production)", share(func(r result) float64 { return r.srvCPU }), "%.3f%%")
	printNotes(w, rs, cores)
}

// printNotes prints hotswapd's CPU with no agent, for comparison, and
// where the figures come from.
func printNotes(w io.Writer, rs []result, cores float64) {
	noAgent := mean(rs, 0, func(r result) float64 { return r.srvCPU })
	fmt.Fprintf(w, "%-54s %14.3f%%\n", "hotswapd CPU with no agent connected, share", 100*noAgent/cores)
	fmt.Fprintln(w, "\n(a) is pg_stat_statements' total_exec_time of the queries starting with '/* hotswap-agent';")
	fmt.Fprintln(w, "(b) and (c) are utime+stime from /proc/<pid>/stat of the agent and of its backends (c includes")
	fmt.Fprintln(w, "(a), plus planning, protocol and the agent's heartbeat probes).")
}

// mean is the mean of f over the runs of setting.
func mean(rs []result, setting int, f func(result) float64) float64 {
	var sum float64
	n := 0
	for _, r := range rs {
		if r.setting == setting {
			sum += f(r)
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}
