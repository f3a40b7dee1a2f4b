// Package hostmetrics reads a Linux database host's own load, CPU busy
// share and disk operations per second, from /proc (and /sys, to tell whole
// physical disks from partitions and virtual devices). The agent adds these
// figures to each sample of the instances on its host, so that a slowdown
// can be told apart from a saturated machine.
package hostmetrics

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Host is one reading of the host's figures, over the interval since the
// previous Read.
type Host struct {
	// At is when the counters were read, in UTC.
	At time.Time
	// IntervalMs is the time since the previous Read; 0 on the first.
	IntervalMs float64
	// CPUPercent is the share of CPU time, over every CPU, spent neither
	// idle nor waiting for I/O (0-100).
	CPUPercent float64
	// DiskIOPS is the reads and writes completed per second by the whole
	// physical disks (partitions, loop, RAM, device-mapper and other
	// virtual block devices left out, so no operation counts twice).
	DiskIOPS float64
}

// Reader reads the host's counters and keeps the previous reading to
// compute rates. It is meant for one goroutine and is not safe for
// concurrent use.
type Reader struct {
	procRoot string
	sysRoot  string
	now      func() time.Time
	prev     *snapshot
	// whole caches, per device name, whether it is a whole physical disk.
	whole map[string]bool
}

// Option changes how a Reader reads.
type Option func(*Reader)

// WithSysRoot makes the Reader look for block devices under dir instead of
// the "sys" folder beside procRoot.
func WithSysRoot(dir string) Option { return func(r *Reader) { r.sysRoot = dir } }

// WithClock makes the Reader time its readings with now instead of
// time.Now.
func WithClock(now func() time.Time) Option { return func(r *Reader) { r.now = now } }

// New returns a Reader of the proc file system mounted at procRoot ("/proc"
// in production; tests point it at a fake tree). Block devices are looked up
// under the "sys" folder beside procRoot ("/sys" for "/proc") unless
// WithSysRoot says otherwise.
func New(procRoot string, opts ...Option) *Reader {
	r := &Reader{
		procRoot: procRoot,
		sysRoot:  filepath.Join(filepath.Dir(filepath.Clean(procRoot)), "sys"),
		now:      time.Now,
		whole:    map[string]bool{},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Read reads the counters and returns the figures for the interval since the
// previous Read. The first Read primes the counters: its IntervalMs, CPU
// share and IOPS are 0. A counter that went back (a device replaced) counts
// as no activity.
func (r *Reader) Read() (Host, error) {
	cur, err := r.snapshot()
	if err != nil {
		return Host{}, err
	}
	h := Host{At: cur.at.UTC()}
	if r.prev != nil {
		h = rates(r.prev, cur)
	}
	r.prev = cur
	return h, nil
}

// snapshot is one reading of the raw counters.
type snapshot struct {
	at    time.Time
	cpu   cpuTimes
	disks map[string]uint64 // operations completed, per whole disk
}

// snapshot reads /proc/stat and /proc/diskstats.
func (r *Reader) snapshot() (*snapshot, error) {
	cpu, err := readCPU(filepath.Join(r.procRoot, "stat"))
	if err != nil {
		return nil, err
	}
	disks, err := r.readDisks(filepath.Join(r.procRoot, "diskstats"))
	if err != nil {
		return nil, err
	}
	return &snapshot{at: r.now(), cpu: cpu, disks: disks}, nil
}

// rates computes a Host from two snapshots.
func rates(prev, cur *snapshot) Host {
	h := Host{At: cur.at.UTC()}
	// cur.at and prev.at keep the monotonic clock reading: Sub ignores
	// changes of the wall clock.
	secs := cur.at.Sub(prev.at).Seconds()
	if secs <= 0 {
		return h
	}
	h.IntervalMs = secs * 1000
	h.CPUPercent = cpuPercent(prev.cpu, cur.cpu)
	var ops uint64
	for name, n := range cur.disks {
		if before, ok := prev.disks[name]; ok && n >= before {
			ops += n - before
		}
	}
	h.DiskIOPS = float64(ops) / secs
	return h
}

// readFile reads a whole file, saying which one failed.
func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hostmetrics: %w", err)
	}
	return b, nil
}

// errFormat means a /proc file did not look as expected.
var errFormat = errors.New("hostmetrics: unexpected format")
