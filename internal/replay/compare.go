package replay

import (
	"fmt"
	"strconv"
)

// SlackMs is the absolute slack Compare allows on top of the factor, so
// that noise on sub-millisecond latencies does not fail a rollout: on a
// busy host one scheduling delay moves a short replay's p95 by a
// millisecond or two (0.26 ms -> 1.95 ms seen for an added column), while
// the regressions a shadow run is for (a scan where an index was, a
// rewritten plan) cost tens of milliseconds on any table worth indexing.
const SlackMs = 2.0

// Compare decides whether a replay after a change (after) stays within
// maxFactor of the replay before it (before): ok when after's p95 is at most
// before's p95 times maxFactor plus SlackMs, and, when no statement failed
// before, none fails after. A replay that ran nothing proves nothing and is
// not ok. The reason gives the numbers either way, e.g.
// "p95 1.20 ms -> 9.80 ms (8.2x, over the 1.5x limit)".
func Compare(before, after Result, maxFactor float64) (ok bool, reason string) {
	if before.Runs == 0 {
		return false, fmt.Sprintf("no baseline: no statement succeeded before the change (%d failed)", before.Errors)
	}
	if after.Runs == 0 && after.Errors == 0 {
		return false, "no statement was replayed after the change"
	}
	latencyOK := after.P95Ms <= before.P95Ms*maxFactor+SlackMs
	reason = fmt.Sprintf("p95 %.2f ms -> %.2f ms (%s, %s the %sx limit)",
		before.P95Ms, after.P95Ms, ratio(before.P95Ms, after.P95Ms), verdict(latencyOK),
		strconv.FormatFloat(maxFactor, 'f', -1, 64))
	errorsOK := before.Errors > 0 || after.Errors == 0
	if !errorsOK {
		reason += fmt.Sprintf("; %d of %d statements failed after the change, none before",
			after.Errors, after.Errors+after.Runs)
		if len(after.Failures) > 0 {
			f := after.Failures[0]
			reason += fmt.Sprintf(" (first: %q: %s)", f.Statement, f.Error)
		}
	}
	return latencyOK && errorsOK, reason
}

// ratio formats after/before as "8.2x", or "n/a" without a before.
func ratio(before, after float64) string {
	if before <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1fx", after/before)
}

// verdict words the latency check.
func verdict(ok bool) string {
	if ok {
		return "within"
	}
	return "over"
}
