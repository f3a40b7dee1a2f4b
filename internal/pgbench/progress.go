package pgbench

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Progress is one of pgbench's progress reports (-P): the figures of the
// interval that just ended.
type Progress struct {
	Elapsed   time.Duration // since the run began
	TPS       float64       // transactions per second in the interval
	LatencyMs float64       // average latency in the interval, 0 when no transaction ended
	StddevMs  float64       // latency standard deviation in the interval
	Failed    int64         // transactions that failed in the interval
}

// parseProgress parses a progress line as PostgreSQL 15 writes it:
//
//	progress: 5.0 s, 5377.0 tps, lat 0.743 ms stddev 0.212, 0 failed
//
// Older versions omit the failures, and options add parts (", lag 0.1 ms",
// ", 2 skipped", ", 1 retried, 3 retries"): those are ignored.
func parseProgress(line string) (Progress, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "progress: ")
	if !ok {
		return Progress{}, false
	}
	var p Progress
	parts := strings.Split(rest, ", ")
	if len(parts) < 3 || !parseElapsed(parts[0], &p) || !parseTPS(parts[1], &p) || !parseLatency(parts[2], &p) {
		return Progress{}, false
	}
	for _, part := range parts[3:] {
		if n, ok := strings.CutSuffix(part, " failed"); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			if err != nil {
				return Progress{}, false
			}
			p.Failed = v
		}
	}
	return p, true
}

// parseElapsed parses "5.0 s".
func parseElapsed(s string, p *Progress) bool {
	v, ok := number(s, "", " s")
	p.Elapsed = time.Duration(v * float64(time.Second)).Round(time.Millisecond)
	return ok
}

// parseTPS parses "5377.0 tps".
func parseTPS(s string, p *Progress) bool {
	v, ok := number(s, "", " tps")
	p.TPS = v
	return ok
}

// parseLatency parses "lat 0.743 ms stddev 0.212".
func parseLatency(s string, p *Progress) bool {
	lat, stddev, ok := strings.Cut(s, " ms stddev ")
	if !ok {
		return false
	}
	var okLat, okDev bool
	p.LatencyMs, okLat = number(lat, "lat ", "")
	p.StddevMs, okDev = number(stddev, "", "")
	return okLat && okDev
}

// number parses the float between prefix and suffix in s; NaN reads as 0.
func number(s, prefix, suffix string) (float64, bool) {
	s, okPrefix := strings.CutPrefix(s, prefix)
	s, okSuffix := strings.CutSuffix(s, suffix)
	v, err := strconv.ParseFloat(s, 64)
	if !okPrefix || !okSuffix || err != nil {
		return 0, false
	}
	if math.IsNaN(v) {
		v = 0
	}
	return v, true
}
