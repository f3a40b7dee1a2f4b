package commands

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestCompletionScripts(t *testing.T) {
	for shell, want := range map[string]string{"bash": "complete -o bashdefault -o default -F _hotswap_complete hotswap",
		"zsh": "compdef _hotswap hotswap", "fish": "complete -c hotswap"} {
		r := runCLI(t, "", "completion", shell)
		if r.code != ExitOK || !strings.Contains(r.stdout, want) {
			t.Errorf("completion %s: exit %d, %q; want a script with %q", shell, r.code, r.stdout, want)
		}
	}
	if r := runCLI(t, "", "completion", "tcsh"); r.code != ExitUsage || !strings.Contains(r.stderr, "want bash, zsh or fish") {
		t.Errorf("completion tcsh: exit %d, %s; want a usage error", r.code, r.stderr)
	}
}

// TestBashCompletion sources the bash script in a real bash and completes
// partial command lines with a built hotswap binary.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is needed for this test: ", err)
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "hotswap"), "github.com/hotswap-db/hotswap/cli/cmd/hotswap")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build hotswap: %v\n%s", err, out)
	}
	script := runCLI(t, "", "completion", "bash").stdout
	if err := os.WriteFile(filepath.Join(dir, "hotswap.bash"), []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		line string // the words typed, the last one being completed
		want []string
	}{
		{"hotswap mig", []string{"migration", "mig"}},
		{"hotswap migration ", []string{"create", "import", "list"}},
		{"hotswap migration import --dr", []string{"--dry-run"}},
		{"hotswap -o json database sh", []string{"show"}},
	}
	for _, tt := range tests {
		words := strings.Split(tt.line, " ")
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c", `source hotswap.bash
COMP_WORDS=(`+quoteWords(words)+`); COMP_CWORD=`+itoa(len(words)-1)+`
_hotswap_complete; printf '%s\n' "${COMPREPLY[@]}"`)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tt.line, err, out)
		}
		got := strings.Fields(string(out))
		slices.Sort(got)
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("bash completes %q to %v, want %s among them", tt.line, got, w)
			}
		}
	}
}

func quoteWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + w + "'"
	}
	return strings.Join(q, " ")
}

func itoa(n int) string { return strconv.Itoa(n) }
