package migrationdir

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// assemble joins the files of each version into one migration with both
// scripts, in version order.
func assemble(dir, format string, files []file) ([]Migration, Problems) {
	byVersion := map[uint64][]file{}
	for _, f := range files {
		byVersion[f.version] = append(byVersion[f.version], f)
	}
	versions := make([]uint64, 0, len(byVersion))
	for v := range byVersion {
		versions = append(versions, v)
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i] < versions[j] })
	var out []Migration
	var problems Problems
	for _, v := range versions {
		m, problem := migrationOf(dir, format, byVersion[v])
		if problem != "" {
			problems = append(problems, problem)
			continue
		}
		out = append(out, m)
	}
	return out, problems
}

// migrationOf makes one migration of the files of one version.
func migrationOf(dir, format string, fs []file) (Migration, string) {
	var up, down []file
	for _, f := range fs {
		switch f.dir {
		case "up", "both":
			up = append(up, f)
		case "down":
			down = append(down, f)
		}
	}
	v := fs[0].version
	switch {
	case len(up) > 1 || len(down) > 1:
		return Migration{}, fmt.Sprintf("version %d is used more than once: %s", v, fileNames(fs))
	case len(up) == 0:
		return Migration{}, fmt.Sprintf("version %d has a down script (%s) but no up script", v, fileNames(fs))
	case len(down) == 0 && format != Goose:
		return Migration{}, fmt.Sprintf("version %d (%s) has no down script (%s): HotSwap needs one to roll back",
			v, up[0].name, downName(format, up[0]))
	}
	m := Migration{Version: v, Name: migrationName(up[0]), UpFile: up[0].name}
	var err error
	if m.Up, err = read(dir, up[0].name); err != nil {
		return Migration{}, err.Error()
	}
	if format == Goose {
		return gooseSplit(m)
	}
	m.DownFile = down[0].name
	if m.Down, err = read(dir, down[0].name); err != nil {
		return Migration{}, err.Error()
	}
	return m, ""
}

func read(dir, name string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return string(raw), nil
}

// downName is the file a missing down script would be in.
func downName(format string, up file) string {
	if format == Flyway {
		return "U" + strings.TrimPrefix(up.name, "V")
	}
	return strings.TrimSuffix(up.name, ".up.sql") + ".down.sql"
}

func fileNames(fs []file) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

var notNameChars = regexp.MustCompile(`[^a-z0-9_]+`)

// migrationName is a valid HotSwap migration name for a file: its version
// as written (leading zeros kept) and its title, lowercased, with anything
// but letters, digits and underscores made an underscore.
func migrationName(f file) string {
	version, _, _ := strings.Cut(strings.TrimLeft(f.name, "VU"), "_")
	title := strings.Trim(notNameChars.ReplaceAllString(strings.ToLower(f.title), "_"), "_")
	name := version + "_" + title
	if len(name) > 128 {
		name = name[:128]
	}
	return name
}

// gooseSplit cuts a goose file into its Up and Down sections, dropping the
// goose annotations.
func gooseSplit(m Migration) (Migration, string) {
	var up, down strings.Builder
	section := ""
	for _, line := range strings.SplitAfter(m.Up, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "-- +goose Up"):
			section = "up"
			continue
		case strings.HasPrefix(trimmed, "-- +goose Down"):
			section = "down"
			continue
		case strings.HasPrefix(trimmed, "-- +goose "):
			continue // StatementBegin/End, NO TRANSACTION: HotSwap splits and runs statements itself
		}
		switch section {
		case "up":
			up.WriteString(line)
		case "down":
			down.WriteString(line)
		}
	}
	m.Up, m.Down, m.DownFile = up.String(), down.String(), m.UpFile
	if strings.TrimSpace(m.Down) == "" {
		return Migration{}, fmt.Sprintf("version %d (%s) has no -- +goose Down section: HotSwap needs one to roll back",
			m.Version, m.UpFile)
	}
	return m, ""
}

// checkNumbering refuses gaps in a sequential numbering (duplicates are
// found per version, by migrationOf); it may start anywhere, as a project
// that squashed its first migrations does. Versions that are timestamps
// (14 digits, 20060102150405) are not sequential: only their order counts.
func checkNumbering(files []file) Problems {
	first := map[uint64]string{} // version -> the file that names it
	var versions []uint64
	for _, f := range files {
		name, seen := first[f.version]
		if !seen {
			versions = append(versions, f.version)
		}
		if !seen || f.dir != "down" && strings.Contains(name, "down") {
			first[f.version] = f.name // the up file names a version best
		}
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i] < versions[j] })
	if len(versions) == 0 || versions[0] >= 1e13 {
		return nil
	}
	var problems Problems
	for i := 1; i < len(versions); i++ {
		if prev, v := versions[i-1], versions[i]; v != prev+1 {
			problems = append(problems, fmt.Sprintf("gap in the numbering: version %d (%s) follows %d (%s); missing %s",
				v, first[v], prev, first[prev], missing(prev, v)))
		}
	}
	return problems
}

func missing(prev, v uint64) string {
	if v-prev == 2 {
		return fmt.Sprintf("%d", prev+1)
	}
	return fmt.Sprintf("%d to %d", prev+1, v-1)
}
