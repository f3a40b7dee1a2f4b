package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"
)

// configFlag names the config file. Its keys are the flags' names; a flag
// or its environment variable wins over the file, the file over the default.
var configFlag = &cli.StringFlag{Name: "config", Usage: "YAML file of settings, keyed by flag name (flags and HOTSWAPD_* win over it; SIGHUP rereads it)",
	EnvVars: []string{"HOTSWAPD_CONFIG"}}

// notInFile are the flags a config file cannot set.
var notInFile = map[string]bool{"config": true, "help": true, "version": true}

// applyConfigFile fills every flag the command line and the environment
// left unset from the config file named by --config, if any.
func applyConfigFile(c *cli.Context) error {
	path := c.String("config")
	if path == "" {
		return nil
	}
	values, err := readConfigFile(path, flagNames(c))
	if err != nil {
		return err
	}
	for _, name := range sortedKeys(values) {
		if c.IsSet(name) {
			continue
		}
		if err := c.Set(name, values[name]); err != nil {
			return fmt.Errorf("config file %s: %s: %w", path, name, err)
		}
	}
	return nil
}

// readConfigFile decodes a YAML mapping of flag name to value. A key that
// is no flag is refused, so a typo does not go unnoticed; a list is joined
// with commas (peers: [a, b]).
func readConfigFile(path string, known map[string]bool) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	var raw map[string]yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	values := make(map[string]string, len(raw))
	var unknown []string
	for key, node := range raw {
		if !known[key] {
			unknown = append(unknown, key)
			continue
		}
		v, err := scalarOrList(node)
		if err != nil {
			return nil, fmt.Errorf("config file %s: %s: %w", path, key, err)
		}
		values[key] = v
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("config file %s: unknown keys %s (the keys are the flags' names, see --help)",
			path, strings.Join(unknown, ", "))
	}
	return values, nil
}

// scalarOrList returns a scalar's text, or a list of scalars joined with commas.
func scalarOrList(n yaml.Node) (string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value, nil
	case yaml.SequenceNode:
		items := make([]string, 0, len(n.Content))
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode {
				return "", fmt.Errorf("line %d: a list of plain values expected", item.Line)
			}
			items = append(items, item.Value)
		}
		return strings.Join(items, ","), nil
	}
	return "", fmt.Errorf("line %d: a value or a list of values expected", n.Line)
}

// flagNames is the set of flags a config file may set.
func flagNames(c *cli.Context) map[string]bool {
	names := map[string]bool{}
	for _, f := range c.App.Flags {
		for _, n := range f.Names() {
			if !notInFile[n] {
				names[n] = true
			}
		}
	}
	return names
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
