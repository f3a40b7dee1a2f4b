package hostmetrics

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Fields of a /proc/diskstats line (0-based, after splitting on spaces).
const (
	diskName         = 2
	diskReadsDone    = 3
	diskWritesDone   = 7
	diskMinimumField = 8
)

// readDisks reads the operations completed by each whole physical disk.
func (r *Reader) readDisks(path string) (map[string]uint64, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	disks := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if len(fields) < diskMinimumField {
			return nil, fmt.Errorf("%w: %s: %d fields in %q", errFormat, path, len(fields), sc.Text())
		}
		name := fields[diskName]
		if !r.isWholeDisk(name) {
			continue
		}
		ops, err := diskOps(fields)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %s: %w", errFormat, path, name, err)
		}
		disks[name] = ops
	}
	return disks, nil
}

// diskOps adds up the reads and writes completed of a diskstats line.
func diskOps(fields []string) (uint64, error) {
	reads, err := strconv.ParseUint(fields[diskReadsDone], 10, 64)
	if err != nil {
		return 0, err
	}
	writes, err := strconv.ParseUint(fields[diskWritesDone], 10, 64)
	if err != nil {
		return 0, err
	}
	return reads + writes, nil
}

// isWholeDisk reports, and remembers, whether the device named name is a
// whole physical disk.
func (r *Reader) isWholeDisk(name string) bool {
	whole, ok := r.whole[name]
	if !ok {
		whole = wholeDisk(r.sysRoot, name)
		r.whole[name] = whole
	}
	return whole
}

// virtualPrefixes name block devices that are not disks, or that sit on top
// of other disks (their I/O would count twice).
var virtualPrefixes = []string{"loop", "ram", "zram", "dm-", "md", "nbd"}

// wholeDisk tells a whole physical disk from a partition or a virtual
// device. With sysfs: whole disks, and only they, have an entry in
// <sysRoot>/block (a partition sits below its disk, /sys/block/sda/sda1),
// and virtual devices link to a path under devices/virtual. Without sysfs
// the device's name decides.
func wholeDisk(sysRoot, name string) bool {
	if hasPrefix(name, virtualPrefixes) {
		return false
	}
	block := filepath.Join(sysRoot, "block")
	if _, err := os.Stat(block); err != nil {
		return !partitionName.MatchString(name)
	}
	// sysfs spells a "/" of a device name (cciss/c0d0) as "!".
	entry := filepath.Join(block, strings.ReplaceAll(name, "/", "!"))
	if _, err := os.Lstat(entry); err != nil {
		return false
	}
	target, err := os.Readlink(entry)
	return err != nil || !strings.Contains(target, "/devices/virtual/")
}

// partitionName matches the usual names of partitions: sda1, vdb2, xvda1,
// hdc3, nvme0n1p2, mmcblk0p1.
var partitionName = regexp.MustCompile(`^((s|h|v|xv)d[a-z]+\d+|(nvme\d+n\d+|mmcblk\d+)p\d+)$`)

// hasPrefix reports whether s starts with one of prefixes.
func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
