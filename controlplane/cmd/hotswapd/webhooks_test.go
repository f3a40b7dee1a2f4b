package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWebhookFlags(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "secret")
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(good, []byte("a-long-enough-shared-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(short, []byte("tiny"), 0o600); err != nil {
		t.Fatal(err)
	}
	hooks, err := webhooks([]string{"https://hooks.example.com/hotswap", "http://10.0.0.9:8080/x"}, good)
	if err != nil || len(hooks) != 2 || string(hooks[0].Secret) != "a-long-enough-shared-secret" {
		t.Fatalf("webhooks = %+v, %v; want two with the trimmed secret", hooks, err)
	}
	for _, c := range []struct {
		urls       []string
		file, want string
	}{
		{[]string{"https://h/x"}, "", "needs --webhook-secret-file"},
		{nil, good, "no --webhook"},
		{[]string{"https://h/x"}, short, "at least 16"},
		{[]string{"https://h/x"}, filepath.Join(dir, "none"), "no such file"},
		{[]string{"ftp://h/x"}, good, "http:// or https://"},
		{[]string{"hooks.example.com"}, good, "http:// or https://"},
	} {
		if _, err := webhooks(c.urls, c.file); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("webhooks(%v, %q) = %v, want an error saying %q", c.urls, c.file, err, c.want)
		}
	}
}
