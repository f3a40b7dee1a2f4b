package main

import (
	"fmt"
	"slices"
	"time"
)

// The goals of issue 13 on this 2-core machine.
const (
	goalCores = 1.0
	goalP99   = 50 * time.Millisecond
)

// report prints each figure per agent count, its growth, and the goals.
func report(o options, ls []level) {
	fmt.Printf("\none hotswapd, simulated agents (heartbeats, 1 Hz samples), %d executions in flight in a monitor window;\n", o.executions)
	fmt.Printf("each agent count measured for %s after %s of settling\n\n", o.duration, o.settle)
	fmt.Printf("%-34s", "agents")
	for _, l := range ls {
		fmt.Printf(" %12d", l.agents)
	}
	fmt.Println()
	row("hotswapd CPU, cores", ls, func(l level) string { return fmt.Sprintf("%.3f", l.cores) })
	row("hotswapd RSS, MiB", ls, func(l level) string { return fmt.Sprintf("%.1f", float64(l.rss)/(1<<20)) })
	row("Raft entries applied per second", ls, func(l level) string { return fmt.Sprintf("%.2f", l.entriesPerSecond) })
	row("API p50, all reads", ls, func(l level) string { return ms(percentile(l.all, 0.50)) })
	row("API p99, all reads", ls, func(l level) string { return ms(percentile(l.all, 0.99)) })
	for _, name := range callNames(ls) {
		row("  p99 "+name, ls, func(l level) string { return ms(percentile(l.reads[name], 0.99)) })
	}
	row("reads timed (failed)", ls, func(l level) string { return fmt.Sprintf("%d (%d)", len(l.all), l.readErrors) })
	row("executions in flight", ls, func(l level) string { return fmt.Sprintf("%d", l.running) })
	row("agents connected (sessions opened)", ls, func(l level) string { return fmt.Sprintf("%d (%d)", l.connected, l.sessions) })
	row("simulated agents' CPU, cores", ls, func(l level) string { return fmt.Sprintf("%.3f", l.benchCores) })
	growth(ls)
	goals(ls)
}

func row(name string, ls []level, cell func(level) string) {
	fmt.Printf("%-34s", name)
	for _, l := range ls {
		fmt.Printf(" %12s", cell(l))
	}
	fmt.Println()
}

func callNames(ls []level) []string {
	var names []string
	for name := range ls[0].reads {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// growth prints each figure per added agent between the first and last count.
func growth(ls []level) {
	if len(ls) < 2 {
		return
	}
	a, b := ls[0], ls[len(ls)-1]
	n := float64(b.agents - a.agents)
	fmt.Printf("\nper agent added (%d -> %d): CPU %+.2f millicores, RSS %+.1f KiB, Raft %+.4f entries/s, API p99 %+.3f ms\n",
		a.agents, b.agents, (b.cores-a.cores)*1000/n, float64(b.rss-a.rss)/1024/n, (b.entriesPerSecond-a.entriesPerSecond)/n,
		float64(percentile(b.all, 0.99)-percentile(a.all, 0.99))/float64(time.Millisecond)/n)
}

func goals(ls []level) {
	l := ls[len(ls)-1]
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "not met"
	}
	p99 := percentile(l.all, 0.99)
	fmt.Printf("\ngoal at %d agents: hotswapd under %.0f core: %s (%.3f); API p99 under %s: %s (%s)\n",
		l.agents, goalCores, verdict(l.cores < goalCores), l.cores, goalP99, verdict(p99 < goalP99), ms(p99))
}
