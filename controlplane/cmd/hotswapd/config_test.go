package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/hotswap-db/hotswap/controlplane/httpapi"
)

func writeConfig(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestConfigFilePrecedence checks flag > environment > file > default.
func TestConfigFilePrecedence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotswapd.yaml")
	writeConfig(t, path, `
http-addr: 10.0.0.1:5000
rpc-addr: 10.0.0.1:5001
monitor-window: 1m
log-level: debug
peers: [s1=10.0.0.1:5002, s2=10.0.0.2:5002]
threshold-latency-factor: 2.5
`)
	t.Setenv("HOTSWAPD_MONITOR_WINDOW", "5m")
	got, err := resolve([]string{"hotswapd", "--config", path, "--http-addr", "127.0.0.1:7000"})
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	for name, want := range map[string]string{
		"http-addr":      "127.0.0.1:7000", // flag over file
		"monitor-window": "5m0s",           // environment over file
		"rpc-addr":       "10.0.0.1:5001",  // file over default
		"raft-addr":      "127.0.0.1:5002", // default
		"peers":          "s1=10.0.0.1:5002,s2=10.0.0.2:5002",
	} {
		if got.values[name] != want {
			t.Errorf("%s = %q, want %q", name, got.values[name], want)
		}
	}
	if got.settings.LogLevel != "debug" || got.settings.Defaults.Thresholds.LatencyFactor != 2.5 {
		t.Errorf("settings = %+v, want log level debug and latency factor 2.5 from the file", got.settings)
	}
	if got.settings.Defaults.Thresholds.ConfirmSamples != 2 {
		t.Errorf("confirm samples = %d, want the reference's 2", got.settings.Defaults.Thresholds.ConfirmSamples)
	}
}

// TestConfigFileRefusesBadInput checks that a typo, a nested value or a bad
// value is an error naming the key.
func TestConfigFileRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, text, want string }{
		{"unknown key", "http_addr: 1.2.3.4:5000\n", "unknown keys http_addr"},
		{"nested value", "peers: {s1: a}\n", "peers"},
		{"bad duration", "monitor-window: soon\n", "monitor-window"},
		{"bad threshold", "threshold-confirm-samples: 99\n", "confirmSamples"},
		{"bad log level", "log-level: loud\n", "log-level"},
		{"not yaml", "a: [\n", "hotswapd.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "hotswapd.yaml")
			writeConfig(t, path, tc.text)
			_, err := resolve([]string{"hotswapd", "--config", path})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("resolve = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := resolve([]string{"hotswapd", "--config", filepath.Join(dir, "missing.yaml")}); err == nil {
		t.Error("a missing config file was accepted")
	}
	writeConfig(t, filepath.Join(dir, "empty.yaml"), "# nothing yet\n")
	if _, err := resolve([]string{"hotswapd", "--config", filepath.Join(dir, "empty.yaml")}); err != nil {
		t.Errorf("an empty config file: %v", err)
	}
}

// fakeServer records the execution defaults it was given.
type fakeServer struct {
	mu   sync.Mutex
	got  []httpapi.ExecutionDefaults
	seen chan struct{}
}

func (f *fakeServer) SetExecutionDefaults(d httpapi.ExecutionDefaults) {
	f.mu.Lock()
	f.got = append(f.got, d)
	f.mu.Unlock()
	f.seen <- struct{}{}
}

// TestReloadOnSIGHUP checks that a SIGHUP applies a new log level and new
// thresholds, and that a broken file changes nothing.
func TestReloadOnSIGHUP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hotswapd.yaml")
	writeConfig(t, path, "log-level: info\n")
	args := []string{"hotswapd", "--config", path}
	start, err := resolve(args)
	if err != nil {
		t.Fatal(err)
	}
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: &strings.Builder{}})
	srv := &fakeServer{seen: make(chan struct{}, 4)}
	r := &reloader{args: args, logger: logger, server: srv, current: start}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watching := make(chan struct{})
	caught := listen() // before the first SIGHUP below: from here it no longer ends the process
	go func() { defer close(watching); r.watch(ctx, caught) }()

	writeConfig(t, path, "log-level: debug\nthreshold-latency-factor: 4\nhttp-addr: 10.9.9.9:5000\n")
	hup := func() {
		// The handler is installed (listen returned); a signal may still be
		// coalesced with one in flight: resend until one is seen.
		deadline := time.After(10 * time.Second)
		for {
			if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			select {
			case <-srv.seen:
				return
			case <-time.After(100 * time.Millisecond):
			case <-deadline:
				t.Fatal("SIGHUP not handled within 10s")
			}
		}
	}
	hup()
	if logger.GetLevel() != hclog.Debug {
		t.Errorf("log level after reload = %v, want debug", logger.GetLevel())
	}
	srv.mu.Lock()
	last := srv.got[len(srv.got)-1]
	srv.mu.Unlock()
	if last.Thresholds.LatencyFactor != 4 {
		t.Errorf("latency factor after reload = %g, want 4", last.Thresholds.LatencyFactor)
	}

	// A SIGHUP resent by hup may still be queued: stop the watcher first,
	// so that only the reload below reads the refused file. A second
	// channel keeps SIGHUP caught once the watcher stops catching it: a
	// late one would otherwise end the test process (its default action).
	signal.Notify(make(chan os.Signal, 1), syscall.SIGHUP)
	cancel()
	<-watching
	for drained := false; !drained; {
		select {
		case <-srv.seen:
		default:
			drained = true
		}
	}
	writeConfig(t, path, "log-level: error\nno-such-key: 1\n")
	r.reload()
	if logger.GetLevel() != hclog.Debug {
		t.Errorf("a refused file changed the log level to %v", logger.GetLevel())
	}
	select {
	case <-srv.seen:
		t.Error("a refused file changed the execution defaults")
	default:
	}
}

// TestTokenOutput checks that auto stays quiet when stdout is the journal.
func TestTokenOutput(t *testing.T) {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(os.Stdout.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JOURNAL_STREAM", "")
	if w, _ := tokenOutput("auto"); w == nil {
		t.Error("auto outside the journal prints nothing, want stdout")
	}
	t.Setenv("JOURNAL_STREAM", "1:2")
	if w, _ := tokenOutput("auto"); w == nil {
		t.Error("auto with another journal stream prints nothing, want stdout")
	}
	t.Setenv("JOURNAL_STREAM", strings.Join([]string{uitoa(st.Dev), uitoa(st.Ino)}, ":"))
	if w, _ := tokenOutput("auto"); w != nil {
		t.Error("auto with stdout on the journal prints the token, want the file only")
	}
	if w, _ := tokenOutput("always"); w == nil {
		t.Error("always prints nothing")
	}
	if w, _ := tokenOutput("never"); w != nil {
		t.Error("never prints")
	}
	if _, err := tokenOutput("sometimes"); err == nil {
		t.Error("--print-token sometimes accepted")
	}
}

func uitoa(v uint64) string { return strconv.FormatUint(v, 10) }

// TestPackagedConfigFile checks that the packaged example names only real
// flags, the commented-out ones included, with values they accept.
func TestPackagedConfigFile(t *testing.T) {
	data, err := os.ReadFile("../../../packaging/hotswapd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`(?m)^# ([a-z][a-z0-9-]*: )`).ReplaceAllString(string(data), "$1")
	text = strings.Replace(text, "join: ", "# join: ", 1) // join and peers exclude each other
	path := filepath.Join(t.TempDir(), "hotswapd.yaml")
	writeConfig(t, path, text)
	got, err := resolve([]string{"hotswapd", "--config", path})
	if err != nil {
		t.Fatalf("packaged config, every key uncommented: %v\n%s", err, text)
	}
	if got.values["data-dir"] != "/var/lib/hotswap" || got.values["server-id"] != "s1" {
		t.Errorf("data-dir %q, server-id %q: want /var/lib/hotswap and s1", got.values["data-dir"], got.values["server-id"])
	}
}

// TestReadBootstrapToken checks that a given token must look like one
// hotswapd makes.
func TestReadBootstrapToken(t *testing.T) {
	dir := t.TempDir()
	good := "hst_" + strings.Repeat("0123456789abcdef", 4)
	for _, tc := range []struct {
		name, text string
		ok         bool
	}{
		{"made by openssl rand -hex 32", good + "\n", true},
		{"no prefix", strings.TrimPrefix(good, "hst_"), false},
		{"too short", good[:40], false},
		{"upper case", strings.ToUpper(good), false},
		{"empty", "", false},
	} {
		path := filepath.Join(dir, "token")
		writeConfig(t, path, tc.text)
		got, err := readBootstrapToken(path)
		if tc.ok && (err != nil || got != good) {
			t.Errorf("%s: got %q, %v; want the token", tc.name, got, err)
		}
		if !tc.ok && err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if got, err := readBootstrapToken(""); got != "" || err != nil {
		t.Errorf("no file: got %q, %v; want nothing", got, err)
	}
}
