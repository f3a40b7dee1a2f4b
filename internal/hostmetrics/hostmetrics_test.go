package hostmetrics

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeHost is a fake /proc and /sys tree with a settable clock.
type fakeHost struct {
	t    *testing.T
	root string
	now  time.Time
}

// newFakeHost makes a tree with sysfs entries for whole disks (sda, sdb,
// nvme0n1 on PCI), partitions below them, and virtual devices.
func newFakeHost(t *testing.T) *fakeHost {
	t.Helper()
	h := &fakeHost{t: t, root: t.TempDir(), now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	for _, dir := range []string{"proc", "sys/block", "sys/devices/pci0000:00/block", "sys/devices/virtual/block"} {
		h.mkdir(dir)
	}
	for _, d := range []string{"sda", "sdb", "sdc", "sdd", "nvme0n1", "cciss!c0d0"} {
		h.symlink("../devices/pci0000:00/block/"+d, "sys/block/"+d)
		h.mkdir("sys/devices/pci0000:00/block/" + d)
	}
	h.mkdir("sys/devices/pci0000:00/block/sda/sda1")
	h.mkdir("sys/devices/pci0000:00/block/nvme0n1/nvme0n1p1")
	for _, d := range []string{"dm-0", "loop0", "md0", "zram0", "vdz"} {
		h.symlink("../devices/virtual/block/"+d, "sys/block/"+d)
	}
	return h
}

func (h *fakeHost) mkdir(rel string) {
	if err := os.MkdirAll(filepath.Join(h.root, rel), 0o755); err != nil {
		h.t.Fatal(err)
	}
}

func (h *fakeHost) symlink(target, rel string) {
	if err := os.Symlink(target, filepath.Join(h.root, rel)); err != nil {
		h.t.Fatal(err)
	}
}

// write sets /proc/stat's cpu line and /proc/diskstats' reads and writes
// completed per device.
func (h *fakeHost) write(cpu string, disks [][3]any) {
	h.t.Helper()
	stat := "cpu  " + cpu + "\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 12345\nctxt 99\n"
	var b strings.Builder
	for i, d := range disks {
		// A kernel 5.5+ line: 20 fields, reads completed 4th, writes 8th.
		fmt.Fprintf(&b, "%4d %7d %s %d 11 22 33 %d 44 55 66 0 77 88 0 0 0 0 0 0\n", 8, i, d[0], d[1], d[2])
	}
	for name, text := range map[string]string{"stat": stat, "diskstats": b.String()} {
		if err := os.WriteFile(filepath.Join(h.root, "proc", name), []byte(text), 0o644); err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *fakeHost) reader() *Reader {
	return New(filepath.Join(h.root, "proc"), WithClock(func() time.Time { return h.now }))
}

func TestReadFakeHost(t *testing.T) {
	t.Parallel()
	h := newFakeHost(t)
	r := h.reader()
	h.write("100 0 50 800 50 0 0 0 0 0", [][3]any{
		{"sda", 100, 50}, {"sda1", 90, 40}, {"sdb", 10, 10}, {"nvme0n1", 1000, 2000},
		{"nvme0n1p1", 1000, 2000}, {"dm-0", 80, 40}, {"loop0", 5, 5}, {"md0", 7, 7},
		{"zram0", 9, 9}, {"vdz", 3, 3}, {"sdd", 500, 500}, {"cciss/c0d0", 1, 1},
	})
	first, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if want := (Host{At: h.now}); first != want {
		t.Errorf("first Read = %+v, want %+v (primed, no rates)", first, want)
	}

	h.now = h.now.Add(2 * time.Second)
	// Busy: user 150 + system 50 + irq 25 + softirq 25 = 250 of 500 ticks;
	// guest (40) is inside user already and must not count twice.
	h.write("250 0 100 1000 100 25 25 0 40 0", [][3]any{
		{"sda", 300, 250}, {"sda1", 470, 420}, {"sdb", 10, 10}, {"nvme0n1", 1400, 2200},
		{"nvme0n1p1", 1400, 2200}, {"dm-0", 9000, 9000}, {"loop0", 900, 900}, {"md0", 700, 700},
		{"zram0", 900, 900}, {"vdz", 300, 300}, {"sdd", 10, 10}, {"sdc", 1_000_000, 0},
		{"cciss/c0d0", 101, 1},
	})
	got, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	// Whole disks: sda +400, sdb +0, nvme0n1 +600, cciss/c0d0 +100; sdd went
	// back and sdc is new: 0. 1100 operations in 2 s.
	want := Host{At: h.now, IntervalMs: 2000, CPUPercent: 50, DiskIOPS: 550}
	if got != want {
		t.Errorf("second Read = %+v, want %+v", got, want)
	}
}

func TestCPUPercent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		prev, cur cpuTimes
		want      float64
	}{
		{"all busy", cpuTimes{total: 100, idle: 50}, cpuTimes{total: 200, idle: 50}, 100},
		{"all idle", cpuTimes{total: 100, idle: 50}, cpuTimes{total: 200, idle: 150}, 0},
		{"quarter", cpuTimes{total: 0, idle: 0}, cpuTimes{total: 400, idle: 300}, 25},
		{"no time passed", cpuTimes{total: 100, idle: 50}, cpuTimes{total: 100, idle: 50}, 0},
		{"counters went back", cpuTimes{total: 100, idle: 50}, cpuTimes{total: 10, idle: 5}, 0},
		{"iowait went back", cpuTimes{total: 100, idle: 50}, cpuTimes{total: 200, idle: 40}, 100},
	} {
		if got := cpuPercent(tc.prev, tc.cur); got != tc.want {
			t.Errorf("%s: cpuPercent = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseCPUShortLine(t *testing.T) {
	t.Parallel()
	got, err := parseCPU([]string{"10", "20", "30", "40"})
	if want := (cpuTimes{total: 100, idle: 40}); err != nil || got != want {
		t.Errorf("parseCPU(4 fields) = %+v, %v, want %+v", got, err, want)
	}
	if _, err := parseCPU([]string{"1", "2", "3"}); err == nil {
		t.Errorf("parseCPU(3 fields) succeeded")
	}
}

func TestWholeDiskWithoutSysfs(t *testing.T) {
	t.Parallel()
	noSys := filepath.Join(t.TempDir(), "sys")
	for name, want := range map[string]bool{
		"sda": true, "sda1": false, "sdab": true, "sdab12": false, "vda": true, "vdb2": false,
		"xvda": true, "xvda1": false, "hdc": true, "hdc3": false, "nvme0n1": true, "nvme0n1p1": false,
		"mmcblk0": true, "mmcblk0p1": false, "sr0": true, "loop0": false, "ram0": false,
		"zram0": false, "dm-0": false, "md127": false, "nbd0": false,
	} {
		if got := wholeDisk(noSys, name); got != want {
			t.Errorf("wholeDisk(%q) without sysfs = %v, want %v", name, got, want)
		}
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	if _, err := New(filepath.Join(t.TempDir(), "proc")).Read(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read of a missing /proc: error %v, want fs.ErrNotExist", err)
	}
	for name, files := range map[string][2]string{
		"no cpu line":       {"cpu0 1 2 3 4\n", ""},
		"bad cpu counter":   {"cpu  1 2 x 4\n", ""},
		"short disk line":   {"cpu  1 2 3 4\n", "8 0 sda 1 2 3\n"},
		"bad disk counter":  {"cpu  1 2 3 4\n", "8 0 sda 1 2 3 4 five 6 7 8\n"},
		"short cpu line":    {"cpu  1 2 3\n", ""},
		"bad writes column": {"cpu  1 2 3 4\n", "8 0 sda 1 2 3 4 -5 6 7 8\n"},
	} {
		h := newFakeHost(t)
		for i, file := range []string{"stat", "diskstats"} {
			if err := os.WriteFile(filepath.Join(h.root, "proc", file), []byte(files[i]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := h.reader().Read(); !errors.Is(err, errFormat) {
			t.Errorf("%s: Read error %v, want errFormat", name, err)
		}
	}
}

func TestReadRealProc(t *testing.T) {
	t.Parallel()
	r := New("/proc")
	first, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if first.IntervalMs != 0 || first.CPUPercent != 0 || first.DiskIOPS != 0 {
		t.Errorf("first Read = %+v, want a primed reading without rates", first)
	}
	// Keep a CPU busy for a while, so the busy share cannot be 0.
	for start := time.Now(); time.Since(start) < 200*time.Millisecond; {
		_ = fmt.Sprint(start)
	}
	got, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if got.IntervalMs < 150 || got.IntervalMs > 60_000 {
		t.Errorf("IntervalMs = %v, want about 200", got.IntervalMs)
	}
	if got.CPUPercent <= 0 || got.CPUPercent > 100 {
		t.Errorf("CPUPercent = %v while a CPU spun, want in (0, 100]", got.CPUPercent)
	}
	if got.DiskIOPS < 0 || got.DiskIOPS > 10_000_000 {
		t.Errorf("DiskIOPS = %v, want a plausible rate", got.DiskIOPS)
	}
	if len(r.prev.disks) == 0 {
		t.Logf("no whole physical disk found on this host (%v)", r.whole)
	}
}
