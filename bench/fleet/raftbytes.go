package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// raftLog is what the server applied to its state, by command type: the
// counters hotswapd exports at /metrics (hotswap_raft_applied_entries_total
// and hotswap_raft_applied_bytes_total). Bytes are each entry's type byte
// and encoded body, as committed to the Raft log; one server, so applied
// is committed.
type raftLog struct {
	entries, bytes map[string]float64
}

func (e *env) raftLog(ctx context.Context) (raftLog, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL()+"/metrics", nil)
	if err != nil {
		return raftLog{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return raftLog{}, fmt.Errorf("read metrics: %w", err)
	}
	defer resp.Body.Close()
	out := raftLog{entries: map[string]float64{}, bytes: map[string]float64{}}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		for prefix, into := range map[string]map[string]float64{
			"hotswap_raft_applied_entries_total{": out.entries, "hotswap_raft_applied_bytes_total{": out.bytes} {
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				labels, value, _ := strings.Cut(rest, "} ")
				cmd := label(labels, "command")
				v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
				if err == nil {
					into[cmd] = v
				}
			}
		}
	}
	return out, sc.Err()
}

// label returns the value of label name in a metric's labels
// (`command="x",server="y"`), empty when it is not there.
func label(labels, name string) string {
	for _, l := range strings.Split(labels, ",") {
		if v, ok := strings.CutPrefix(l, name+`="`); ok {
			return strings.TrimSuffix(v, `"`)
		}
	}
	return ""
}

// since is what was applied between before and l.
func (l raftLog) since(before raftLog) raftLog {
	d := raftLog{entries: map[string]float64{}, bytes: map[string]float64{}}
	for k, v := range l.entries {
		if n := v - before.entries[k]; n > 0 {
			d.entries[k], d.bytes[k] = n, l.bytes[k]-before.bytes[k]
		}
	}
	return d
}

func (l raftLog) total() (entries, bytes float64) {
	for k, v := range l.entries {
		entries += v
		bytes += l.bytes[k]
	}
	return entries, bytes
}

// breakdown lists the commands by bytes, largest first, per database.
func (l raftLog) breakdown(databases int) string {
	var keys []string
	for k := range l.bytes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return int(l.bytes[b] - l.bytes[a]) })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.0f B in %.1f", k, l.bytes[k]/float64(databases), l.entries[k]/float64(databases)))
	}
	return strings.Join(parts, ", ")
}

// measured runs fn and returns what the server applied meanwhile.
func (e *env) measured(ctx context.Context, fn func() error) (raftLog, error) {
	before, err := e.raftLog(ctx)
	if err != nil {
		return raftLog{}, err
	}
	if err := fn(); err != nil {
		return raftLog{}, err
	}
	after, err := e.raftLog(ctx)
	return after.since(before), err
}
