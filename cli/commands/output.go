package commands

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
)

// The output formats of --output.
const (
	formatTable = "table"
	formatJSON  = "json"
	formatYAML  = "yaml"
)

// formats lists the values --output takes.
func formats() []string { return []string{formatTable, formatJSON, formatYAML} }

// printer writes a command's result in the format asked for.
type printer struct {
	w      io.Writer
	format string
}

func newPrinter(c *cli.Context) printer {
	return printer{w: c.App.Writer, format: c.String("output")}
}

// isJSON reports whether the output is for programs (json or yaml) rather
// than for people (table).
func (p printer) isJSON() bool { return p.format == formatJSON || p.format == formatYAML }

// json prints v for programs with the API's field names: indented JSON, or
// the same document as YAML with -o yaml.
func (p printer) json(v any) error {
	if p.format == formatYAML {
		return writeYAML(p.w, v)
	}
	enc := json.NewEncoder(p.w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// encoded prints a JSON document that write produces, as is, or as YAML
// with -o yaml.
func (p printer) encoded(write func(io.Writer) error) error {
	if p.format != formatYAML {
		return write(p.w)
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	return jsonToYAML(p.w, buf.Bytes())
}

// show prints v as JSON or YAML, or calls table to print it for people.
func (p printer) show(v any, table func(printer) error) error {
	if p.isJSON() {
		return p.json(v)
	}
	return table(p)
}

// table prints aligned columns under a header.
func (p printer) table(header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// field is one "Label: value" line of a detail view.
type field struct{ label, value string }

// fields prints label/value lines with the values aligned.
func (p printer) fields(fs ...field) error {
	tw := tabwriter.NewWriter(p.w, 0, 0, 1, ' ', 0)
	for _, f := range fs {
		fmt.Fprintf(tw, "%s:\t%s\n", f.label, f.value)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write fields: %w", err)
	}
	return nil
}

// linef prints one line of text.
func (p printer) linef(format string, a ...any) {
	fmt.Fprintf(p.w, format+"\n", a...)
}

// or returns s, or "-" when it is empty, so a table cell is never blank.
func or(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// yesNo says a boolean in words.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// when formats a time for people: UTC to the second, "-" when unset.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// list joins values with ", ", "-" when there are none.
func list[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return or(strings.Join(s, ", "))
}

// done confirms an action that has no answer to print; JSON output prints
// nothing, as the API answered nothing (204).
func done(c *cli.Context, format string, a ...any) error {
	if p := newPrinter(c); !p.isJSON() {
		p.linef(format, a...)
	}
	return nil
}
