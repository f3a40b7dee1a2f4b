// Package migrationdir reads a folder of migrations written for another
// tool, golang-migrate, Flyway or goose, into the ordered list of
// migrations "hotswap migration import" creates. It only reads files: a
// folder whose numbering has gaps or duplicates, or whose migrations lack a
// down script, is refused with every problem listed.
package migrationdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The formats a folder can be in.
const (
	GolangMigrate = "golang-migrate" // NNN_name.up.sql and NNN_name.down.sql
	Flyway        = "flyway"         // V1__name.sql and U1__name.sql
	Goose         = "goose"          // NNN_name.sql with -- +goose Up / Down
)

// Migration is one migration of a folder.
type Migration struct {
	Version  uint64 `json:"version"`
	Name     string `json:"name"` // a valid HotSwap migration name: "0001_create_users"
	UpFile   string `json:"upFile"`
	DownFile string `json:"downFile"`
	Up       string `json:"-"`
	Down     string `json:"-"`
}

// Set is a folder's migrations, in order.
type Set struct {
	Format     string      `json:"format"`
	Migrations []Migration `json:"migrations"`
}

// Problems is why a folder was refused: one line per problem.
type Problems []string

func (p Problems) Error() string {
	return "the folder cannot be imported:\n  " + strings.Join(p, "\n  ")
}

// ErrNoMigrations is a folder with no file of a known format.
var ErrNoMigrations = errors.New("migrationdir: no golang-migrate (NNN_name.up.sql), Flyway (V1__name.sql) " +
	"or goose (NNN_name.sql with -- +goose Up) migrations in the folder")

var (
	migrateFile = regexp.MustCompile(`^(\d+)_(.+)\.(up|down)\.sql$`)
	flywayFile  = regexp.MustCompile(`^([VU])([^_]+)__(.+)\.sql$`)
	gooseFile   = regexp.MustCompile(`^(\d+)_(.+)\.sql$`)
)

// Read reads the folder dir: its format is found from its file names (and,
// for goose, the annotations inside). A folder with problems is a Problems
// error.
func Read(dir string) (Set, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return Set{}, fmt.Errorf("migrationdir: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	format, err := detect(dir, names)
	if err != nil {
		return Set{}, err
	}
	var files []file
	var problems Problems
	switch format {
	case GolangMigrate:
		files, problems = parseNames(names, migrateFile, migrateParts)
	case Flyway:
		files, problems = parseNames(names, flywayFile, flywayParts)
	case Goose:
		files, problems = parseNames(names, gooseFile, gooseParts)
	}
	ms, more := assemble(dir, format, files)
	problems = append(append(problems, more...), checkNumbering(files)...)
	if len(problems) > 0 {
		return Set{}, problems
	}
	return Set{Format: format, Migrations: ms}, nil
}

// detect tells the folder's format from its files.
func detect(dir string, names []string) (string, error) {
	var migrate, flyway, goose int
	for _, n := range names {
		switch {
		case migrateFile.MatchString(n):
			migrate++
		case flywayFile.MatchString(n):
			flyway++
		case gooseFile.MatchString(n) && isGoose(filepath.Join(dir, n)):
			goose++
		}
	}
	switch {
	case migrate > 0 && flyway+goose == 0:
		return GolangMigrate, nil
	case flyway > 0 && migrate+goose == 0:
		return Flyway, nil
	case goose > 0 && migrate+flyway == 0:
		return Goose, nil
	case migrate+flyway+goose == 0:
		return "", ErrNoMigrations
	}
	return "", Problems{fmt.Sprintf("the folder mixes formats: %d golang-migrate, %d Flyway and %d goose files; import one format at a time",
		migrate, flyway, goose)}
}

func isGoose(path string) bool {
	raw, err := os.ReadFile(path)
	return err == nil && strings.Contains(string(raw), "+goose Up")
}

// file is one file of a migration: its version, name and direction.
type file struct {
	name    string
	version uint64
	title   string
	dir     string // "up", "down", or "both" (goose)
}

// parts turns a file name's match into a file, or says what is wrong.
type parts func(m []string) (file, string)

func parseNames(names []string, re *regexp.Regexp, p parts) ([]file, Problems) {
	var files []file
	var problems Problems
	for _, n := range names {
		m := re.FindStringSubmatch(n)
		if m == nil {
			problems = append(problems, n+": not a migration file of this folder's format")
			continue
		}
		f, problem := p(m)
		if problem != "" {
			problems = append(problems, n+": "+problem)
			continue
		}
		f.name = n
		files = append(files, f)
	}
	return files, problems
}

func migrateParts(m []string) (file, string) {
	v, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return file{}, "version " + m[1] + " is not a number"
	}
	return file{version: v, title: m[2], dir: m[3]}, ""
}

func flywayParts(m []string) (file, string) {
	v, err := strconv.ParseUint(m[2], 10, 64)
	if err != nil {
		return file{}, "version " + m[2] + " is not a whole number (dotted versions are not supported)"
	}
	dir := "up"
	if m[1] == "U" {
		dir = "down"
	}
	return file{version: v, title: m[3], dir: dir}, ""
}

func gooseParts(m []string) (file, string) {
	v, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return file{}, "version " + m[1] + " is not a number"
	}
	return file{version: v, title: m[2], dir: "both"}, ""
}
