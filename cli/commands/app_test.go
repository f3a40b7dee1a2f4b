package commands

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/domain"
)

func TestNormalizeArgs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"already ordered", "hotswap -o json agent list", "hotswap -o json agent list"},
		{"global flag after the command", "hotswap agent list -o json", "hotswap -o json agent list"},
		{"global flag with =", "hotswap agent list --output=json", "hotswap --output=json agent list"},
		{"flags after the argument", "hotswap database update app --label a=b --file x.json",
			"hotswap database update --label a=b --file x.json app"},
		{"stdin value stays with its flag", "hotswap migration create --up - --name m",
			"hotswap migration create --up - --name m"},
		{"alias command", "hotswap db show app -o json", "hotswap -o json db show app"},
		{"help after the argument", "hotswap agent show x --help", "hotswap agent show --help x"},
		{"dash-dash keeps arguments", "hotswap database show -- -odd", "hotswap database show -- -odd"},
		{"unknown command left alone", "hotswap frob -x", "hotswap frob -x"},
	}
	app := NewApp(io.Discard, io.Discard)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(normalizeArgs(app, strings.Fields(tt.in)), " ")
			if got != tt.want {
				t.Errorf("normalizeArgs(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseInstance(t *testing.T) {
	tests := []struct {
		in      string
		want    domain.InstanceRef
		wantErr bool
	}{
		{"host1/main=Master", domain.InstanceRef{Agent: "host1", InstanceID: "main", Role: domain.RoleMaster}, false},
		{"h/r1=asyncreplica", domain.InstanceRef{Agent: "h", InstanceID: "r1", Role: domain.RoleAsyncReplica}, false},
		{"h/r1=Primary", domain.InstanceRef{Agent: "h", InstanceID: "r1", Role: "Primary"}, false}, // the server names the valid roles
		{"host1", domain.InstanceRef{}, true},
		{"host1/main", domain.InstanceRef{}, true},
		{"host1=Master", domain.InstanceRef{}, true},
		{"/main=Master", domain.InstanceRef{}, true},
		{"host1/=Master", domain.InstanceRef{}, true},
		{"host1/main=", domain.InstanceRef{}, true},
	}
	for _, tt := range tests {
		got, err := parseInstance(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseInstance(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// leaves returns every runnable command of the app with its full name.
func leaves(app *cli.App) map[string]*cli.Command {
	out := map[string]*cli.Command{}
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			if len(c.Subcommands) == 0 {
				out[prefix+c.Name] = c
			}
			walk(prefix+c.Name+" ", c.Subcommands)
		}
	}
	walk("", app.Commands)
	return out
}

func TestEveryCommandHasHelpWithExamples(t *testing.T) {
	app := NewApp(io.Discard, io.Discard)
	for name := range leaves(app) {
		t.Run(name, func(t *testing.T) {
			r := runCLI(t, "", append(strings.Fields(name), "--help")...)
			if r.code != ExitOK {
				t.Fatalf("%s --help: exit %d: %s", name, r.code, r.stderr)
			}
			_, examples, ok := strings.Cut(r.stdout, "Examples:\n")
			if !ok || !strings.Contains(examples, "hotswap "+name) {
				t.Errorf("%s --help = %q, want examples of hotswap %s", name, r.stdout, name)
			}
		})
	}
}

// TestGlobalFlagNamesNotReused guards normalizeArgs, which moves global
// flags to the front wherever they are.
func TestGlobalFlagNamesNotReused(t *testing.T) {
	app := NewApp(io.Discard, io.Discard)
	var globals []string
	for _, f := range app.Flags {
		globals = append(globals, f.Names()...)
	}
	for name, c := range leaves(app) {
		for _, f := range c.Flags {
			for _, n := range f.Names() {
				if slices.Contains(globals, n) {
					t.Errorf("%s: flag %q shadows a global flag", name, n)
				}
			}
		}
	}
}
