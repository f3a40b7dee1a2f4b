package commands

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// canonical returns the valid value equal to s ignoring case, else s as
// given, for the server to refuse with the list of valid values.
func canonical[T ~string](s string, valid []T) T {
	for _, v := range valid {
		if strings.EqualFold(s, string(v)) {
			return v
		}
	}
	return T(s)
}

// setString copies a string flag into dst when it was given.
func setString(c *cli.Context, name string, dst *string) {
	if c.IsSet(name) {
		*dst = c.String(name)
	}
}

// anySet reports whether any of the flags was given.
func anySet(c *cli.Context, flags []cli.Flag) bool {
	return slices.ContainsFunc(flags, func(f cli.Flag) bool { return c.IsSet(f.Names()[0]) })
}

// readInput reads a file named by a flag, or stdin for "-".
func readInput(c *cli.Context, flag, path string) ([]byte, error) {
	var raw []byte
	var err error
	if path == "-" {
		raw, err = io.ReadAll(c.App.Reader)
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, usageErr(c, "--%s: %v", flag, err)
	}
	return raw, nil
}

// requireFlags refuses a command line missing any of the flags.
func requireFlags(c *cli.Context, names ...string) error {
	var missing []string
	for _, n := range names {
		if !c.IsSet(n) {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) > 0 {
		return usageErr(c, "missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// withFlagNames adds to each field of an API error the flag that set it,
// e.g. "migrationScript (--up up.sql)", so a syntax error points at the file.
// flagOf maps the API's top-level field names to flag names.
func withFlagNames(c *cli.Context, err error, flagOf map[string]string) error {
	var ae *api.Error
	if !errors.As(err, &ae) || len(ae.Details) == 0 {
		return err
	}
	out := *ae
	out.Details = make([]domain.FieldError, len(ae.Details))
	for i, d := range ae.Details {
		if flag, ok := flagOf[d.Field]; ok && c.IsSet(flag) {
			d.Field = fmt.Sprintf("%s (%s)", d.Field, wholeFlagText(c, flag))
			out.Details[i] = d
			continue
		}
		top := d.Field[:strings.IndexFunc(d.Field+".", func(r rune) bool { return r == '.' || r == '[' })]
		if flag, ok := flagOf[top]; ok && c.IsSet(flag) {
			if text, ok := flagText(c, flag, d.Field); ok {
				d.Field = fmt.Sprintf("%s (%s)", d.Field, text)
			}
		}
		out.Details[i] = d
	}
	return &out
}

// wholeFlagText is a single-valued flag as given: "--never-free bogus",
// or "--terminate-privileged" for a boolean.
func wholeFlagText(c *cli.Context, flag string) string {
	if _, isBool := c.Value(flag).(bool); isBool {
		return "--" + flag
	}
	return "--" + flag + " " + quoteIfNeeded(fmt.Sprint(c.Value(flag)))
}

// flagText is a flag as given: "--up up.sql". For a repeatable flag it is
// the element the field names ("tags[1]", "labels.team"), or all of them for
// the whole list; false when no value given names that element.
func flagText(c *cli.Context, flag, field string) (string, bool) {
	vals := c.StringSlice(flag)
	if len(vals) == 0 {
		vals = []string{c.String(flag)}
	}
	if _, rest, ok := strings.Cut(field, "["); ok {
		idx, _, _ := strings.Cut(rest, "]")
		i, err := strconv.Atoi(idx)
		if err != nil || i < 0 || i >= len(vals) {
			return "", false
		}
		vals = vals[i : i+1]
	} else if _, key, ok := strings.Cut(field, "."); ok {
		i := slices.IndexFunc(vals, func(v string) bool { return strings.HasPrefix(v, key+"=") })
		if i < 0 {
			return "", false
		}
		vals = vals[i : i+1]
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = "--" + flag + " " + quoteIfNeeded(v)
	}
	return strings.Join(parts, ", "), true
}

// quoteIfNeeded quotes a value that would not read as one word.
func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"'") {
		return strconv.Quote(s)
	}
	return s
}
