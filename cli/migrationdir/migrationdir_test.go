package migrationdir_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/cli/migrationdir"
)

func folder(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type got struct{ version, name, up, down string }

func summary(s migrationdir.Set) []got {
	var out []got
	for _, m := range s.Migrations {
		out = append(out, got{strconv.FormatUint(m.Version, 10), m.Name,
			strings.TrimSpace(m.Up), strings.TrimSpace(m.Down)})
	}
	return out
}

func TestFormats(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		format string
		want   []got
	}{
		{"golang-migrate", map[string]string{
			"000002_add-email.up.sql": "ALTER TABLE users ADD email text;", "000002_add-email.down.sql": "ALTER TABLE users DROP email;",
			"000001_create_users.up.sql": "CREATE TABLE users (id int);", "000001_create_users.down.sql": "DROP TABLE users;",
			"README.md": "not a migration"},
			migrationdir.GolangMigrate, []got{{"1", "000001_create_users", "CREATE TABLE users (id int);", "DROP TABLE users;"},
				{"2", "000002_add_email", "ALTER TABLE users ADD email text;", "ALTER TABLE users DROP email;"}}},
		{"flyway", map[string]string{
			"V1__Create_Users.sql": "CREATE TABLE users (id int);", "U1__Create_Users.sql": "DROP TABLE users;",
			"V2__add.email.sql": "ALTER TABLE users ADD email text;", "U2__add.email.sql": "ALTER TABLE users DROP email;"},
			migrationdir.Flyway, []got{{"1", "1_create_users", "CREATE TABLE users (id int);", "DROP TABLE users;"},
				{"2", "2_add_email", "ALTER TABLE users ADD email text;", "ALTER TABLE users DROP email;"}}},
		{"goose with timestamps", map[string]string{
			"20240101120000_users.sql": "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE users (id int);\n-- +goose StatementEnd\n\n-- +goose Down\nDROP TABLE users;\n",
			"20240315090000_email.sql": "-- +goose Up\nALTER TABLE users ADD email text;\n-- +goose Down\nALTER TABLE users DROP email;\n"},
			migrationdir.Goose, []got{{"20240101120000", "20240101120000_users", "CREATE TABLE users (id int);", "DROP TABLE users;"},
				{"20240315090000", "20240315090000_email", "ALTER TABLE users ADD email text;", "ALTER TABLE users DROP email;"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := migrationdir.Read(folder(t, tt.files))
			if err != nil {
				t.Fatalf("Read() error = %v", err)
			}
			if s.Format != tt.format || !reflect.DeepEqual(summary(s), tt.want) {
				t.Errorf("Read() = %s %+v, want %s %+v", s.Format, summary(s), tt.format, tt.want)
			}
		})
	}
}

func TestRefused(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // one line each
	}{
		{"gap", map[string]string{"1_a.up.sql": "x", "1_a.down.sql": "x", "2_b.up.sql": "x", "2_b.down.sql": "x",
			"5_c.up.sql": "x", "5_c.down.sql": "x", "7_d.up.sql": "x", "7_d.down.sql": "x"},
			[]string{"gap in the numbering: version 5 (5_c.up.sql) follows 2 (2_b.up.sql); missing 3 to 4",
				"gap in the numbering: version 7 (7_d.up.sql) follows 5 (5_c.up.sql); missing 6"}},
		{"duplicate", map[string]string{"V1__a.sql": "x", "U1__a.sql": "x", "V01__b.sql": "x", "V2__c.sql": "x", "U2__c.sql": "x"},
			[]string{"version 1 is used more than once: U1__a.sql, V01__b.sql, V1__a.sql"}},
		{"no down", map[string]string{"1_a.up.sql": "x", "2_b.up.sql": "x", "2_b.down.sql": "x"},
			[]string{"version 1 (1_a.up.sql) has no down script (1_a.down.sql): HotSwap needs one to roll back"}},
		{"goose without Down", map[string]string{"1_a.sql": "-- +goose Up\nCREATE TABLE a (id int);\n"},
			[]string{"version 1 (1_a.sql) has no -- +goose Down section: HotSwap needs one to roll back"}},
		{"mixed", map[string]string{"1_a.up.sql": "x", "V2__b.sql": "x"},
			[]string{"the folder mixes formats: 1 golang-migrate, 1 Flyway and 0 goose files; import one format at a time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := migrationdir.Read(folder(t, tt.files))
			var p migrationdir.Problems
			if !errors.As(err, &p) || !reflect.DeepEqual([]string(p), tt.want) {
				t.Errorf("Read() error = %v, want the problems\n  %s", err, strings.Join(tt.want, "\n  "))
			}
		})
	}
	if _, err := migrationdir.Read(folder(t, map[string]string{"notes.sql": "SELECT 1;"})); !errors.Is(err, migrationdir.ErrNoMigrations) {
		t.Errorf("Read(no migrations) error = %v, want ErrNoMigrations", err)
	}
}
