package backup

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestWriteThenRead(t *testing.T) {
	var buf bytes.Buffer
	in := Meta{ServerID: "s1", Version: "v1", Index: 42, Term: 3, CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	written, err := Write(&buf, in, []byte("state bytes"))
	if err != nil {
		t.Fatal(err)
	}
	meta, state, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if string(state) != "state bytes" || meta != written || meta.Index != 42 || meta.Size != 11 {
		t.Errorf("read back %+v %q, want %+v %q", meta, state, written, "state bytes")
	}
}

func TestReadRefusesDamagedFiles(t *testing.T) {
	var buf bytes.Buffer
	if _, err := Write(&buf, Meta{ServerID: "s1"}, []byte("the state of the cluster")); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	flipped := []byte(good)
	flipped[len(flipped)-3] ^= 0x01
	cases := map[string]struct {
		file string
		want string
	}{
		"empty":         {"", "not a HotSwap snapshot"},
		"other file":    {"PGDMP\x01\x0e", "not a HotSwap snapshot"},
		"no metadata":   {Header + "\n", "read metadata"},
		"bad metadata":  {Header + "\n{\"size\": \"x\"}\n", "invalid metadata"},
		"unknown field": {Header + "\n{\"sha256\":\"" + strings.Repeat("0", 64) + "\",\"extra\":1}\n", "invalid metadata"},
		"truncated":     {good[:len(good)-4], "truncated"},
		"flipped bit":   {string(flipped), "checksum mismatch"},
		"trailing":      {good + "x", "bytes follow"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := Read(strings.NewReader(c.file))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Read = %v, want an error saying %q", err, c.want)
			}
		})
	}
}
