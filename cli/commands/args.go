package commands

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// normalizeArgs lets people put flags where they type them. urfave/cli v2
// stops parsing flags at the first argument and knows global flags only
// before the command, so "hotswap database show app -o json" would fail.
// It returns args reordered as: program, global flags, command path, the
// command's flags, then its arguments. Anything after "--" stays an argument.
func normalizeArgs(app *cli.App, args []string) []string {
	if len(args) == 0 {
		return args
	}
	globals, rest := extractFlags(app.Flags, args[1:])
	out := append([]string{args[0]}, globals...)
	path, leaf, rest := commandPath(app.Commands, rest)
	out = append(out, path...)
	if leaf == nil {
		return append(out, rest...)
	}
	flags, positional := splitFlags(leaf.Flags, rest)
	return append(append(out, flags...), positional...)
}

// extractFlags takes the tokens of the given flags (with their values) out
// of args, wherever they are before "--".
func extractFlags(defs []cli.Flag, args []string) (taken, rest []string) {
	for i := 0; i < len(args); i++ {
		t := args[i]
		if t == "--" {
			return taken, append(rest, args[i:]...)
		}
		name, hasValue, ok := flagName(t)
		def := findFlag(defs, name)
		if !ok || def == nil {
			rest = append(rest, t)
			continue
		}
		taken = append(taken, t)
		if !hasValue && takesValue(def) && i+1 < len(args) {
			i++
			taken = append(taken, args[i])
		}
	}
	return taken, rest
}

// commandPath consumes the leading command names of args.
func commandPath(cmds []*cli.Command, args []string) (path []string, leaf *cli.Command, rest []string) {
	for len(args) > 0 {
		next := findCommand(cmds, args[0])
		if next == nil {
			break
		}
		path, leaf, args, cmds = append(path, args[0]), next, args[1:], next.Subcommands
	}
	return path, leaf, args
}

// splitFlags separates a command's flags (with their values) from its
// positional arguments, which come back after "--" when one of them could
// pass for a flag.
func splitFlags(defs []cli.Flag, args []string) (flags, positional []string) {
	dashed := false
	for i := 0; i < len(args); i++ {
		t := args[i]
		if t == "--" {
			positional, dashed = append(positional, args[i+1:]...), true
			break
		}
		name, hasValue, ok := flagName(t)
		if !ok {
			positional = append(positional, t)
			continue
		}
		flags = append(flags, t)
		if def := findFlag(defs, name); def != nil && !hasValue && takesValue(def) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	if len(positional) > 0 && (dashed || slices.ContainsFunc(positional, looksLikeFlag)) {
		positional = append([]string{"--"}, positional...)
	}
	return flags, positional
}

func looksLikeFlag(t string) bool { return len(t) > 1 && t[0] == '-' }

// flagName parses "-x", "--name" or "--name=value".
func flagName(t string) (name string, hasValue, ok bool) {
	if len(t) < 2 || t[0] != '-' || t == "--" {
		return "", false, false
	}
	name, _, hasValue = strings.Cut(strings.TrimLeft(t, "-"), "=")
	return name, hasValue, name != ""
}

func findFlag(defs []cli.Flag, name string) cli.Flag {
	for _, f := range defs {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// takesValue reports whether a flag reads the next token as its value.
func takesValue(f cli.Flag) bool {
	if v, ok := f.(interface{ TakesValue() bool }); ok {
		return v.TakesValue()
	}
	return true
}
