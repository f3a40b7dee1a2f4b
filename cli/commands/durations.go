package commands

import (
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// bareDuration finds a duration flag given a bare number ("--timeout 30"),
// which Go's duration syntax refuses with a bare "parse error": it returns
// a usage error that says to add a unit, or nil.
func bareDuration(app *cli.App, args []string) error {
	if len(args) < 2 {
		return nil
	}
	defs := app.Flags
	_, rest := extractFlags(app.Flags, args[1:])
	path, leaf, _ := commandPath(app.Commands, rest)
	if leaf != nil {
		defs = append(append([]cli.Flag{}, defs...), leaf.Flags...)
	}
	for i := 1; i < len(args) && args[i] != "--"; i++ {
		name, hasValue, ok := flagName(args[i])
		if !ok {
			continue
		}
		if _, isDur := findFlag(defs, name).(*cli.DurationFlag); !isDur {
			continue
		}
		value := ""
		if hasValue {
			_, value, _ = strings.Cut(args[i], "=")
		} else if i+1 < len(args) {
			value = args[i+1]
		}
		if _, err := strconv.ParseFloat(value, 64); err == nil {
			cmd := strings.Join(append([]string{app.Name}, path...), " ")
			return &usageError{msg: "--" + name + " " + value + ": add a unit, e.g. " + value + "s (units: ms, s, m, h)", cmd: cmd}
		}
	}
	return nil
}
