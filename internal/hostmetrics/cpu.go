package hostmetrics

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// cpuTimes are the aggregate CPU counters of /proc/stat, in clock ticks.
type cpuTimes struct {
	// total is user + nice + system + idle + iowait + irq + softirq +
	// steal (guest time is already inside user and nice).
	total uint64
	// idle is idle + iowait: time the CPUs did no work.
	idle uint64
}

// cpuFields is how many fields of the cpu line add up to the total.
const cpuFields = 8

// readCPU reads the aggregate "cpu" line of /proc/stat.
func readCPU(path string) (cpuTimes, error) {
	b, err := readFile(path)
	if err != nil {
		return cpuTimes{}, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 0 && fields[0] == "cpu" {
			t, err := parseCPU(fields[1:])
			if err != nil {
				return cpuTimes{}, fmt.Errorf("%w: %s: %w", errFormat, path, err)
			}
			return t, nil
		}
	}
	return cpuTimes{}, fmt.Errorf("%w: %s has no aggregate cpu line", errFormat, path)
}

// parseCPU adds up the counters of a cpu line (without its label). Kernels
// older than 2.6.11 have fewer than eight fields; four are the minimum.
func parseCPU(fields []string) (cpuTimes, error) {
	if len(fields) < 4 {
		return cpuTimes{}, fmt.Errorf("%d fields on the cpu line, want at least 4", len(fields))
	}
	var t cpuTimes
	for i, f := range fields[:min(len(fields), cpuFields)] {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return cpuTimes{}, fmt.Errorf("cpu field %d: %w", i+1, err)
		}
		t.total += n
		if i == 3 || i == 4 { // idle, iowait
			t.idle += n
		}
	}
	return t, nil
}

// cpuPercent is the busy share of the CPU time between two readings, 0 when
// no time passed or the counters went back.
func cpuPercent(prev, cur cpuTimes) float64 {
	if cur.total <= prev.total {
		return 0
	}
	total := float64(cur.total - prev.total)
	// iowait may go back a little on some kernels: clamp, do not wrap.
	idle := float64(cur.idle) - float64(prev.idle)
	busy := min(max(total-idle, 0), total)
	return 100 * busy / total
}
