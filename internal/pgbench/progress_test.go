package pgbench

import (
	"os"
	"reflect"
	"testing"
	"time"
)

func TestParseProgress(t *testing.T) {
	cases := []struct {
		line string
		want Progress
		ok   bool
	}{
		{"progress: 5.0 s, 5377.0 tps, lat 0.743 ms stddev 0.212, 0 failed",
			Progress{Elapsed: 5 * time.Second, TPS: 5377, LatencyMs: 0.743, StddevMs: 0.212}, true},
		{"progress: 12.5 s, 1081.1 tps, lat 12.949 ms stddev 182.638, 3 failed\n",
			Progress{Elapsed: 12500 * time.Millisecond, TPS: 1081.1, LatencyMs: 12.949, StddevMs: 182.638, Failed: 3}, true},
		{"progress: 3.0 s, 0.0 tps, lat 0.000 ms stddev 0.000, 0 failed",
			Progress{Elapsed: 3 * time.Second}, true},
		// PostgreSQL 14 and older: no failures.
		{"progress: 2.0 s, 2738.6 tps, lat 1.454 ms stddev 0.535",
			Progress{Elapsed: 2 * time.Second, TPS: 2738.6, LatencyMs: 1.454, StddevMs: 0.535}, true},
		{"progress: 2.0 s, 0.0 tps, lat NaN ms stddev NaN",
			Progress{Elapsed: 2 * time.Second}, true},
		// Throttling and retries add parts.
		{"progress: 4.0 s, 100.0 tps, lat 2.500 ms stddev 1.000, 7 failed, lag 0.125 ms, 2 skipped, 1 retried, 3 retries",
			Progress{Elapsed: 4 * time.Second, TPS: 100, LatencyMs: 2.5, StddevMs: 1, Failed: 7}, true},
		{"pgbench: error: client 0 script 0 aborted in command 1 query 0", Progress{}, false},
		{"progress: soon", Progress{}, false},
		{"progress: 1.0 s, many tps, lat 1.000 ms stddev 0.100, 0 failed", Progress{}, false},
		{"progress: 1.0 s, 1.0 tps, lat 1.000 ms stddev 0.100, x failed", Progress{}, false},
		{"", Progress{}, false},
	}
	for _, c := range cases {
		got, ok := parseProgress(c.line)
		if ok != c.ok || got != c.want {
			t.Errorf("parseProgress(%q) = %+v, %v; want %+v, %v", c.line, got, ok, c.want, c.ok)
		}
	}
}

func TestScanStderr(t *testing.T) {
	f, err := os.Open("testdata/stderr.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []Progress
	tail := scanStderr(f, func(p Progress) { got = append(got, p) })
	want := []Progress{
		{Elapsed: 1 * time.Second, TPS: 2201.9, LatencyMs: 1.797, StddevMs: 0.71},
		{Elapsed: 2 * time.Second, TPS: 1275.2, LatencyMs: 1.564, StddevMs: 0.583},
		{Elapsed: 3 * time.Second},
		{Elapsed: 5 * time.Second, TPS: 1081.1, LatencyMs: 12.949, StddevMs: 182.638, Failed: 3},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("progress = %+v\nwant %+v", got, want)
	}
	if wantTail := []string{"pgbench: warning: something pgbench said"}; !reflect.DeepEqual(tail, wantTail) {
		t.Errorf("tail = %q, want %q", tail, wantTail)
	}
}
