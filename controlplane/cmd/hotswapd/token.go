package main

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
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

// bootstrapTokenFlagUsage explains --bootstrap-token-file.
const bootstrapTokenFlagUsage = "file holding the admin token a new cluster starts with, instead of a random one " +
	"(hst_ and 64 hex digits, e.g. from a Kubernetes Secret); read by the first leader only"

// bootstrapTokenPattern is the shape of the tokens hotswapd makes.
var bootstrapTokenPattern = regexp.MustCompile(`^hst_[0-9a-f]{64}$`)

// readBootstrapToken reads and checks --bootstrap-token-file; "" when not given.
func readBootstrapToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--bootstrap-token-file: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if !bootstrapTokenPattern.MatchString(token) {
		return "", fmt.Errorf("--bootstrap-token-file %s: want hst_ and 64 hex digits "+
			"(echo hst_$(openssl rand -hex 32))", path)
	}
	return token, nil
}
