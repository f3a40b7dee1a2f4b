package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/hotswap-db/hotswap/internal/pgbench"
)

// Goals printed beside the figures.
const (
	goalDecision = time.Second
	goalFinished = 5 * time.Second
)

// degradedShare is the share of normal throughput under which a second
// counts as degraded.
const degradedShare = 0.5

// appView is what the application (pgbench) saw in one run.
type appView struct {
	normalTPS   float64       // in the baseline window before the execution
	normalWorst time.Duration // worst latency in that window
	worst       time.Duration // worst latency from the onset to 2 s after the rollback
	degraded    int           // seconds in that span with TPS under degradedShare of normal
}

// measureApp computes the application's view of a run from pgbench's log:
// normal is the baseline window before start, the harm is from onset to end.
func measureApp(txns []pgbench.Txn, start, onset, end time.Time) appView {
	var v appView
	normal := 0
	for _, t := range txns {
		switch {
		case t.Failed:
		case !t.End.Before(start.Add(-baselineWindow)) && t.End.Before(start):
			normal++
			v.normalWorst = max(v.normalWorst, t.Latency)
		case !t.End.Before(onset) && !t.End.After(end):
			v.worst = max(v.worst, t.Latency)
		}
	}
	v.normalTPS = float64(normal) / baselineWindow.Seconds()
	seconds := pgbench.PerSecond(txns)
	for s := onset.Unix(); s <= end.Unix(); s++ {
		if float64(seconds[s].TPS) < degradedShare*v.normalTPS {
			v.degraded++
		}
	}
	return v
}

// printReport prints each run, the medians, the computed polling monitor
// beside them with the ratios, and the goals.
func printReport(w io.Writer, o options, rs []result) {
	fmt.Fprintf(w, "\nDROP INDEX items_k under pgbench (%d clients selecting by k, %d rows), guard sampling every %dms; %d runs\n",
		o.clients, o.rows, o.sampleMs, len(rs))
	fmt.Fprintf(w, "times from the moment DROP INDEX committed; poll = a %s polling monitor, computed (not run)\n\n", o.pollEvery)
	const head = "%-7s %9s %10s %12s %8s | %12s %10s %8s | %13s %15s\n"
	fmt.Fprintf(w, head, "", "decision", "committed", "rolled back", "by", "app: worst", "(normal)", "s < 50%", "poll: decision", "poll: rolled back")
	for i, r := range rs {
		fmt.Fprintf(w, "%-7s %9s %10s %12s %8s | %12s %10s %8d | %13s %15s\n", fmt.Sprintf("run %d", i+1),
			ms(r.decision), ms(r.committed), ms(r.finished), r.decidedBy,
			ms(r.app.worst), ms(r.app.normalWorst), r.app.degraded, ms(r.pollDecision), ms(r.pollFinished))
	}
	med := medians(rs)
	fmt.Fprintf(w, "%-7s %9s %10s %12s %8s | %12s %10s %8s | %13s %15s\n", "median",
		ms(med.decision), ms(med.committed), ms(med.finished), "",
		ms(med.app.worst), ms(med.app.normalWorst), fmt.Sprint(med.app.degraded), ms(med.pollDecision), ms(med.pollFinished))
	fmt.Fprintf(w, "%-7s %9s %10s %12s\n", "goal", "<= "+goalDecision.String(), "", "<= "+goalFinished.String())
	printRatios(w, o, med)
	printGoals(w, rs, med)
}

// printRatios compares the medians with the polling monitor's.
func printRatios(w io.Writer, o options, med result) {
	fmt.Fprintf(w, "\nmedian onset -> decision:          HotSwap %8s   %s poll %8s   (%.1fx)\n",
		ms(med.decision), o.pollEvery, ms(med.pollDecision), ratio(med.pollDecision, med.decision))
	fmt.Fprintf(w, "median onset -> rollback finished: HotSwap %8s   %s poll %8s   (%.1fx)\n",
		ms(med.finished), o.pollEvery, ms(med.pollFinished), ratio(med.pollFinished, med.finished))
	fmt.Fprintf(w, "the poll is computed from each run: its decision at the first wall-clock multiple of %s after\n", o.pollEvery)
	fmt.Fprintf(w, "the onset (0 to %s later, half that on average), its rollback as long after as HotSwap's; it\n", o.pollEvery)
	fmt.Fprintln(w, "is assumed to see the breach at that first poll (a 10 s average may need a second one).")
}

// printGoals says whether every run met each goal.
func printGoals(w io.Writer, rs []result, med result) {
	worstDecision, worstFinished := time.Duration(0), time.Duration(0)
	for _, r := range rs {
		worstDecision, worstFinished = max(worstDecision, r.decision), max(worstFinished, r.finished)
	}
	fmt.Fprintf(w, "\ngoal: decision within %s of onset     %s (median %s, slowest run %s)\n",
		goalDecision, met(worstDecision <= goalDecision), ms(med.decision), ms(worstDecision))
	fmt.Fprintf(w, "goal: rollback finished within %s      %s (median %s, slowest run %s)\n",
		goalFinished, met(worstFinished <= goalFinished), ms(med.finished), ms(worstFinished))
}

// medians returns a result whose every figure is the median of the runs'.
func medians(rs []result) result {
	pick := func(f func(result) time.Duration) time.Duration {
		v := make([]time.Duration, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return result{
		decision:     pick(func(r result) time.Duration { return r.decision }),
		committed:    pick(func(r result) time.Duration { return r.committed }),
		finished:     pick(func(r result) time.Duration { return r.finished }),
		pollDecision: pick(func(r result) time.Duration { return r.pollDecision }),
		pollFinished: pick(func(r result) time.Duration { return r.pollFinished }),
		app: appView{
			worst:       pick(func(r result) time.Duration { return r.app.worst }),
			normalWorst: pick(func(r result) time.Duration { return r.app.normalWorst }),
			degraded:    int(pick(func(r result) time.Duration { return time.Duration(r.app.degraded) })),
		},
	}
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}
