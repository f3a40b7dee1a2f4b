package main

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// printTokenUsage explains --print-token.
const printTokenUsage = "print a new cluster's admin token on stdout: always, never, or auto " +
	"(not when stdout is the systemd journal); it is always saved to DATA-DIR/bootstrap-token"

// tokenOutput returns where the bootstrap token is printed, or nil for the
// token file only. A service's stdout ends up in a log that many can read,
// so auto stays quiet there.
func tokenOutput(mode string) (io.Writer, error) {
	switch mode {
	case "always":
		return os.Stdout, nil
	case "never":
		return nil, nil
	case "auto", "":
		if stdoutIsJournal() {
			return nil, nil
		}
		return os.Stdout, nil
	}
	return nil, fmt.Errorf("--print-token %q: want auto, always or never", mode)
}

// stdoutIsJournal tells whether stdout is the journal stream systemd names
// in JOURNAL_STREAM ("device:inode").
func stdoutIsJournal() bool {
	stream := os.Getenv("JOURNAL_STREAM")
	if stream == "" {
		return false
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(os.Stdout.Fd()), &st); err != nil {
		return false
	}
	return stream == fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}
