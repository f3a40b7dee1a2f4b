package pgbench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Txn is one transaction of a per-transaction log.
type Txn struct {
	End     time.Time     // when the transaction ended
	Latency time.Duration // how long it took; 0 when it failed
	Failed  bool          // it failed (or, with a latency limit, was skipped)
}

// Second is what the successful transactions that ended in one wall-clock
// second add up to.
type Second struct {
	TPS   int           // how many ended in the second
	Worst time.Duration // the highest latency among them
}

// ReadLog reads the per-transaction logs pgbench wrote with LogPrefix
// prefix: every file named prefix.*, in no particular order. A last line
// without its newline (pgbench was interrupted mid-write) is left out.
func ReadLog(prefix string) ([]Txn, error) {
	files, err := filepath.Glob(prefix + ".*")
	if err != nil {
		return nil, fmt.Errorf("pgbench logs %s.*: %w", prefix, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("pgbench logs %s.*: no such files", prefix)
	}
	var out []Txn
	for _, f := range files {
		txns, err := readLogFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, txns...)
	}
	return out, nil
}

// readLogFile reads one per-transaction log.
func readLogFile(path string) ([]Txn, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pgbench log: %w", err)
	}
	defer f.Close()
	var out []Txn
	rd := bufio.NewReader(f)
	for n := 1; ; n++ {
		line, err := rd.ReadString('\n')
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("pgbench log %s: %w", path, err)
		}
		t, err := parseLogLine(line)
		if err != nil {
			return nil, fmt.Errorf("pgbench log %s line %d: %w", path, n, err)
		}
		out = append(out, t)
	}
}

// parseLogLine parses one line of a per-transaction log:
//
//	client_id transaction_no time script_no time_epoch time_us [schedule_lag] [retries]
//
// where time is the latency in microseconds, or "failed" (or with
// --failures-detailed "serialization" or "deadlock", with --latency-limit
// "skipped") when the transaction did not succeed.
func parseLogLine(line string) (Txn, error) {
	f := strings.Fields(line)
	if len(f) < 6 {
		return Txn{}, fmt.Errorf("%d fields, want at least 6: %q", len(f), strings.TrimSpace(line))
	}
	sec, err := strconv.ParseInt(f[4], 10, 64)
	if err != nil {
		return Txn{}, fmt.Errorf("time_epoch: %w", err)
	}
	usec, err := strconv.ParseInt(f[5], 10, 64)
	if err != nil {
		return Txn{}, fmt.Errorf("time_us: %w", err)
	}
	t := Txn{End: time.Unix(sec, usec*int64(time.Microsecond))}
	lat, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		t.Failed = true
		return t, nil
	}
	t.Latency = time.Duration(lat) * time.Microsecond
	return t, nil
}

// PerSecond groups the successful transactions by the Unix second they
// ended in. A second in which none ended has no entry.
func PerSecond(txns []Txn) map[int64]Second {
	out := map[int64]Second{}
	for _, t := range txns {
		if t.Failed {
			continue
		}
		s := out[t.End.Unix()]
		s.TPS++
		s.Worst = max(s.Worst, t.Latency)
		out[t.End.Unix()] = s
	}
	return out
}

// Failed counts the transactions that failed.
func Failed(txns []Txn) int {
	n := 0
	for _, t := range txns {
		if t.Failed {
			n++
		}
	}
	return n
}
