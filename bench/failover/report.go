package main

import (
	"fmt"
	"slices"
	"time"
)

// report prints min, median and max of each figure and the goal.
func report(o options, rs []result) {
	fmt.Printf("\nleader kill -9 during a Phased rollout of %d steps (monitor window %ds), 3 servers, %d runs;\n", o.instances, o.monitorSeconds, len(rs))
	fmt.Printf("killed %s before the first step's monitor window ended; times from the kill\n\n", o.killBefore)
	fmt.Printf("%-44s %10s %10s %10s\n", "", "min", "median", "max")
	rows := []struct {
		name string
		get  func(result) time.Duration
	}{
		{"new leader agreed by the survivors", func(r result) time.Duration { return r.leader }},
		{"agent reconnected to the new leader", func(r result) time.Duration { return r.agent }},
		{"next step assigned by the new leader", func(r result) time.Duration { return r.nextStep }},
		{"  after the monitor window ended", func(r result) time.Duration { return r.afterWindow }},
		{"next step running on the agent", func(r result) time.Duration { return r.nextRan }},
	}
	var next []time.Duration
	for _, row := range rows {
		d := collect(rs, row.get)
		if row.name == "next step running on the agent" {
			next = d
		}
		fmt.Printf("%-44s %10s %10s %10s\n", row.name, ms(d[0]), ms(median(d)), ms(d[len(d)-1]))
	}
	verdict := "met"
	if next[len(next)-1] >= goal {
		verdict = fmt.Sprintf("not met in %d of %d runs", countOver(next, goal), len(next))
	}
	fmt.Printf("\ngoal: next step running under %s after the kill: %s (median %s, slowest %s)\n", goal, verdict, ms(median(next)), ms(next[len(next)-1]))
}

func collect(rs []result, get func(result) time.Duration) []time.Duration {
	out := make([]time.Duration, 0, len(rs))
	for _, r := range rs {
		out = append(out, get(r))
	}
	slices.Sort(out)
	return out
}

// median of sorted ds.
func median(ds []time.Duration) time.Duration {
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}

func countOver(ds []time.Duration, limit time.Duration) int {
	n := 0
	for _, d := range ds {
		if d >= limit {
			n++
		}
	}
	return n
}
