package pgbench

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseLogLine(t *testing.T) {
	cases := []struct {
		line string
		want Txn
	}{
		{"0 1 3050 0 1795780096 235918\n", Txn{End: time.Unix(1795780096, 235918000), Latency: 3050 * time.Microsecond}},
		{"3 17 failed 0 1795780096 5", Txn{End: time.Unix(1795780096, 5000), Failed: true}},
		{"3 17 serialization 0 1795780096 5", Txn{End: time.Unix(1795780096, 5000), Failed: true}},
		// With a rate (schedule lag) and retries.
		{"1 2 120 0 1795780100 999999 15 2", Txn{End: time.Unix(1795780100, 999999000), Latency: 120 * time.Microsecond}},
	}
	for _, c := range cases {
		got, err := parseLogLine(c.line)
		if err != nil || !got.End.Equal(c.want.End) || got.Latency != c.want.Latency || got.Failed != c.want.Failed {
			t.Errorf("parseLogLine(%q) = %+v, %v; want %+v", c.line, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "0 1 3050 0 1795780096", "0 1 3050 0 soon 235918", "0 1 3050 0 1795780096 x"} {
		if got, err := parseLogLine(bad); err == nil {
			t.Errorf("parseLogLine(%q) = %+v, want an error", bad, got)
		}
	}
}

func TestReadLog(t *testing.T) {
	txns, err := ReadLog(filepath.Join("testdata", "app"))
	if err != nil {
		t.Fatal(err)
	}
	// app.28740.1 ends in a half-written line, which is left out.
	want := []Txn{
		{End: time.Unix(1795780096, 235918000), Latency: 3050 * time.Microsecond},
		{End: time.Unix(1795780096, 237607000), Latency: 3921 * time.Microsecond},
		{End: time.Unix(1795780097, 8100000), Latency: 2170 * time.Microsecond},
		{End: time.Unix(1795780096, 236467000), Failed: true},
		{End: time.Unix(1795780096, 999999000), Latency: 4366 * time.Microsecond},
	}
	if len(txns) != len(want) {
		t.Fatalf("ReadLog: %d transactions %+v, want %d", len(txns), txns, len(want))
	}
	for i := range want {
		if !txns[i].End.Equal(want[i].End) || txns[i].Latency != want[i].Latency || txns[i].Failed != want[i].Failed {
			t.Errorf("transaction %d = %+v, want %+v", i, txns[i], want[i])
		}
	}
	if n := Failed(txns); n != 1 {
		t.Errorf("Failed = %d, want 1", n)
	}
	per := PerSecond(txns)
	wantPer := map[int64]Second{
		1795780096: {TPS: 3, Worst: 4366 * time.Microsecond},
		1795780097: {TPS: 1, Worst: 2170 * time.Microsecond},
	}
	if len(per) != len(wantPer) || per[1795780096] != wantPer[1795780096] || per[1795780097] != wantPer[1795780097] {
		t.Errorf("PerSecond = %+v, want %+v", per, wantPer)
	}
}

func TestReadLogMissing(t *testing.T) {
	_, err := ReadLog(filepath.Join(t.TempDir(), "none"))
	if err == nil || !strings.Contains(err.Error(), "no such files") {
		t.Errorf("ReadLog of nothing: %v, want no such files", err)
	}
}

func TestRunArgsAndEnv(t *testing.T) {
	t.Setenv("PGHOST", "elsewhere")
	t.Setenv("PGPASSWORD", "parent")
	o := Options{BinDir: "/pg/bin", Host: "127.0.0.1", Port: 5433, User: "u", Password: "s3cret", Database: "app",
		Clients: 4, Threads: 2, Duration: 1500 * time.Millisecond, LogPrefix: "/tmp/x", Progress: time.Second}
	args, err := o.runArgs("/tmp/script.sql")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"-h", "127.0.0.1", "-p", "5433", "-U", "u", "-n", "-T", "2", "-c", "4", "-j", "2",
		"-P", "1", "-l", "--log-prefix", "/tmp/x", "-f", "/tmp/script.sql", "app"}
	if !slices.Equal(args, want) {
		t.Errorf("runArgs = %q\nwant %q", args, want)
	}
	cmd := o.command(t.Context(), args)
	if cmd.Path != "/pg/bin/pgbench" || slices.Contains(cmd.Args, "s3cret") {
		t.Errorf("command %s %q", cmd.Path, cmd.Args)
	}
	var pg []string
	for _, kv := range cmd.Env {
		if strings.HasPrefix(kv, "PG") {
			pg = append(pg, kv)
		}
	}
	if !slices.Equal(pg, []string{"PGPASSWORD=s3cret"}) {
		t.Errorf("PG* environment = %q, want only PGPASSWORD=s3cret", pg)
	}
	if _, err := (Options{}).runArgs(""); err == nil {
		t.Error("runArgs without a Duration: no error")
	}
}
