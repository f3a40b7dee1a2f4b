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

// The application counts as degraded during a bucket of time in which
// fewer transactions end than degradedShare of normal.
const (
	degradedShare = 0.5
	bucket        = 100 * time.Millisecond
)

// appView is what the application (pgbench) saw in one run.
type appView struct {
	normalTPS   float64       // in the baseline window before the execution
	normalWorst time.Duration // worst latency in that window
	worst       time.Duration // worst latency from the execution's start to 2 s after the rollback
	degraded    time.Duration // time in that span with throughput under degradedShare of normal
}

// measureApp computes the application's view of a run from pgbench's log:
// normal is the baseline window before start, the harm from start to end.
func measureApp(txns []pgbench.Txn, start, end time.Time) appView {
	var v appView
	normal := 0
	ended := map[int64]int{} // transactions per bucket
	for _, t := range txns {
		switch {
		case t.Failed:
		case !t.End.Before(start.Add(-baselineWindow)) && t.End.Before(start):
			normal++
			v.normalWorst = max(v.normalWorst, t.Latency)
		case !t.End.Before(start) && t.End.Before(end):
			v.worst = max(v.worst, t.Latency)
			ended[t.End.Sub(start).Nanoseconds()/int64(bucket)]++
		}
	}
	v.normalTPS = float64(normal) / baselineWindow.Seconds()
	for b := range int64(end.Sub(start) / bucket) {
		if float64(ended[b]) < degradedShare*v.normalTPS*bucket.Seconds() {
			v.degraded += bucket
		}
	}
	return v
}

// printReport prints each run, the medians, the computed polling monitor
// beside them with the ratios, and the goals.
func printReport(w io.Writer, o options, rs []result) {
	fmt.Fprintf(w, "\nDROP INDEX items_k under pgbench (%d clients selecting by k, %d rows), guard sampling every %dms; runs: %d\n",
		o.clients, o.rows, o.sampleMs, len(rs))
	fmt.Fprintf(w, "times from the moment DROP INDEX committed; poll = a %s polling monitor, computed (not run)\n\n", o.pollEvery)
	const head = "%-7s %9s %10s %12s %17s | %8s %16s %9s | %13s %16s\n"
	fmt.Fprintf(w, head, "", "decision", "committed", "rolled back", "decided by", "app tps", "worst lat", "degraded", "poll decision", "poll rolled back")
	for i, r := range rs {
		fmt.Fprintf(w, head, fmt.Sprintf("run %d", i+1),
			ms(r.decision), ms(r.committed), ms(r.finished), r.decidedBy, fmt.Sprintf("%.0f", r.app.normalTPS),
			ms(r.app.worst)+" ("+ms(r.app.normalWorst)+")", ms(r.app.degraded), ms(r.pollDecision), ms(r.pollFinished))
	}
	med := medians(rs)
	fmt.Fprintf(w, head, "median", ms(med.decision), ms(med.committed), ms(med.finished), "", fmt.Sprintf("%.0f", med.app.normalTPS),
		ms(med.app.worst)+" ("+ms(med.app.normalWorst)+")", ms(med.app.degraded), ms(med.pollDecision), ms(med.pollFinished))
	fmt.Fprintf(w, "%-7s %9s %10s %12s\n", "goal", "<= "+goalDecision.String(), "", "<= "+goalFinished.String())
	fmt.Fprintf(w, "\napp: pgbench's throughput in the %s before the execution; its worst latency from the execution's\n", baselineWindow)
	fmt.Fprintf(w, "start to 2 s after the rollback (in brackets: in the %s before); the time in that span, in %s\n", baselineWindow, bucket)
	fmt.Fprintf(w, "buckets, with throughput under %.0f%% of normal.\n", 100*degradedShare)
	printRatios(w, o, med)
	printGoals(w, rs, med)
}

// printRatios compares the medians with the polling monitor's: at the
// ticks these runs had, and on average over its phase (half an interval).
func printRatios(w io.Writer, o options, med result) {
	avgDecision := o.pollEvery / 2
	avgFinished := avgDecision + med.rollback
	fmt.Fprintf(w, "\n%-36s %9s %24s %24s\n", "", "HotSwap", o.pollEvery.String()+" poll, these ticks", o.pollEvery.String()+" poll, average")
	row := func(label string, hs, ticks, avg time.Duration) {
		fmt.Fprintf(w, "%-36s %9s %24s %24s\n", label, ms(hs),
			fmt.Sprintf("%s (%.1fx)", ms(ticks), ratio(ticks, hs)), fmt.Sprintf("%s (%.1fx)", ms(avg), ratio(avg, hs)))
	}
	row("median onset -> decision", med.decision, med.pollDecision, avgDecision)
	row("median onset -> rollback finished", med.finished, med.pollFinished, avgFinished)
	fmt.Fprintf(w, "\nThe poll is computed from each run, not run: it decides at the first wall-clock multiple of\n")
	fmt.Fprintf(w, "%s after the onset (\"these ticks\": each run starts after a random wait, so at a random\n", o.pollEvery)
	fmt.Fprintln(w, "phase; \"average\": half an interval, the expectation over the phase), and its rollback takes")
	fmt.Fprintln(w, "as long after its decision as HotSwap's did. It is assumed to see the breach at that first")
	fmt.Fprintln(w, "poll: generous, as an average over 10 s may need a second one.")
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
	d := func(f func(result) time.Duration) time.Duration { return median(rs, f) }
	return result{
		decision:     d(func(r result) time.Duration { return r.decision }),
		committed:    d(func(r result) time.Duration { return r.committed }),
		finished:     d(func(r result) time.Duration { return r.finished }),
		rollback:     d(func(r result) time.Duration { return r.rollback }),
		pollDecision: d(func(r result) time.Duration { return r.pollDecision }),
		pollFinished: d(func(r result) time.Duration { return r.pollFinished }),
		app: appView{
			normalTPS:   median(rs, func(r result) float64 { return r.app.normalTPS }),
			normalWorst: d(func(r result) time.Duration { return r.app.normalWorst }),
			worst:       d(func(r result) time.Duration { return r.app.worst }),
			degraded:    d(func(r result) time.Duration { return r.app.degraded }),
		},
	}
}

// median is the median of f over the runs (the mean of the middle two for
// an even count).
func median[T ~int64 | ~float64](rs []result, f func(result) T) T {
	v := make([]T, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
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
