package demo

import (
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/pgbench"
)

func TestMeasure(t *testing.T) {
	at := func(sec, ms int) time.Time { return time.Unix(int64(1000+sec), int64(ms)*int64(time.Millisecond)) }
	txns := []pgbench.Txn{
		{End: at(0, 500), Latency: 900 * time.Millisecond}, // began before the window, ran in it
		{End: at(1, 100), Latency: time.Millisecond},
		{End: at(1, 200), Latency: 2 * time.Millisecond},
		{End: at(1, 300), Failed: true},
		{End: at(3, 100), Latency: 5 * time.Millisecond},
		{End: at(3, 900), Latency: 1500 * time.Millisecond}, // ended after the window, ran in it
		{End: at(5, 0), Latency: time.Second},               // began after the window
	}
	// The window 0.2 s .. 3.5 s holds the whole seconds 1 and 2 (none in 2).
	got := measure(txns, at(0, 200), at(3, 500))
	want := figures{worst: 1500 * time.Millisecond, tps: 4 / 3.3, lowest: 0}
	if got != want {
		t.Errorf("measure = %+v, want %+v", got, want)
	}
	// No whole second: the lowest is the average.
	got = measure(txns, at(1, 0), at(1, 500))
	if want := (figures{worst: 2 * time.Millisecond, tps: 4, lowest: 4}); got != want {
		t.Errorf("measure of half a second = %+v, want %+v", got, want)
	}
}
