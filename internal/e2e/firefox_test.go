package e2e

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/testbed"
)

// firefox finds Firefox: $HOTSWAP_FIREFOX, else firefox-esr or firefox on PATH.
func firefox() string {
	if p := os.Getenv("HOTSWAP_FIREFOX"); p != "" {
		return p
	}
	for _, name := range []string{"firefox-esr", "firefox"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestConsoleLoadsInFirefox has headless Firefox take a screenshot of the
// console a real server serves. The page is empty until its script runs
// (the sign-in form is drawn by it), so dark pixels of text in the shot
// mean the bundle loaded and ran in Firefox. It is not a drive of the
// console: Firefox is not scripted here (no geckodriver); TestConsole
// drives Chromium.
func TestConsoleLoadsInFirefox(t *testing.T) {
	bin := firefox()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Firefox found (install firefox-esr: scripts/install-deps.sh), and CI is set")
		}
		t.Skip("no Firefox found (firefox-esr, firefox or $HOTSWAP_FIREFOX): install it with scripts/install-deps.sh")
	}
	srv := testbed.StartCluster(t, bins, 1)[0]
	bootstrapToken(t, []*testbed.Server{srv})
	dir := artifacts(t)
	shot := filepath.Join(dir, "firefox-login.png")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-remote", "--profile", t.TempDir(),
		"--window-size=1280,900", "--screenshot", shot, srv.URL()+"/ui/")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "MOZ_CRASHREPORTER_DISABLE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s --screenshot: %v\n%s", bin, err, out)
	}
	raw, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("Firefox wrote no screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if n := darkPixels(img); n < 200 {
		t.Errorf("the Firefox screenshot (%s) has %d dark pixels: the console's sign-in form was not drawn", shot, n)
	}
	t.Logf("Firefox screenshot of the console: %s", shot)
}

// darkPixels counts the pixels dark enough to be text.
func darkPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if (r+g+bl)/3 < 0x6000 {
				n++
			}
		}
	}
	return n
}
