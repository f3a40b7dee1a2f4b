package lint

import (
	"fmt"
	"strconv"
	"strings"
)

// Flavor is the server family a script targets.
type Flavor string

// The flavors the linters know.
const (
	FlavorPostgreSQL Flavor = "PostgreSQL"
	FlavorMySQL      Flavor = "MySQL"
	FlavorMariaDB    Flavor = "MariaDB"
)

// Target is the server a script is judged against. The zero value means
// "not given".
type Target struct {
	Flavor Flavor `json:"flavor,omitempty"`
	Major  int    `json:"major"`
	Minor  int    `json:"minor"`
	Patch  int    `json:"patch"`
}

// IsZero reports whether no target was given.
func (t Target) IsZero() bool { return t == Target{} }

// AtLeast reports whether t is version major.minor.patch or newer.
func (t Target) AtLeast(major, minor, patch int) bool {
	if t.Major != major {
		return t.Major > major
	}
	if t.Minor != minor {
		return t.Minor > minor
	}
	return t.Patch >= patch
}

// String prints the target as "MySQL 8.0.23".
func (t Target) String() string {
	v := fmt.Sprintf("%d.%d", t.Major, t.Minor)
	if t.Patch != 0 {
		v += fmt.Sprintf(".%d", t.Patch)
	}
	if t.Flavor == "" {
		return v
	}
	return string(t.Flavor) + " " + v
}

// ParseTarget reads "MySQL 8.0.23", "MariaDB 10.11", "PostgreSQL 15",
// a bare "8.0.23", or a server's reported version such as
// "10.11.6-MariaDB-log" or "15.4 (Debian 15.4-1)". A bare version has no
// flavor; the caller fills it in.
func ParseTarget(s string) (Target, error) {
	s = strings.TrimSpace(s)
	var t Target
	lower := strings.ToLower(s)
	switch {
	case strings.Contains(lower, "mariadb"):
		t.Flavor = FlavorMariaDB
	case strings.Contains(lower, "mysql"):
		t.Flavor = FlavorMySQL
	case strings.Contains(lower, "postgres"):
		t.Flavor = FlavorPostgreSQL
	}
	num := firstVersion(s)
	if num == "" {
		return Target{}, fmt.Errorf("lint: no version in target %q", s)
	}
	parts := strings.Split(num, ".")
	vals := []*int{&t.Major, &t.Minor, &t.Patch}
	for i, p := range parts {
		if i >= len(vals) {
			break
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return Target{}, fmt.Errorf("lint: bad version in target %q: %w", s, err)
		}
		*vals[i] = n
	}
	return t, nil
}

// firstVersion returns the first run of digits and dots in s.
func firstVersion(s string) string {
	start := strings.IndexAny(s, "0123456789")
	if start < 0 {
		return ""
	}
	end := start
	for end < len(s) && (s[end] == '.' || (s[end] >= '0' && s[end] <= '9')) {
		end++
	}
	return strings.TrimRight(s[start:end], ".")
}

// HeaderTarget reads a `-- target: MySQL 8.0.23` first line. It returns
// false when the first line is not such a comment.
func HeaderTarget(script string) (Target, bool) {
	line, _, _ := strings.Cut(strings.TrimLeft(script, "\ufeff \t\r\n"), "\n")
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "--")
	if !ok {
		return Target{}, false
	}
	key, val, ok := strings.Cut(strings.TrimSpace(rest), ":")
	if !ok || !strings.EqualFold(strings.TrimSpace(key), "target") {
		return Target{}, false
	}
	t, err := ParseTarget(val)
	return t, err == nil
}

// ResolveTarget picks the target of a run: the option when given, else the
// script's header, else def. A target without a flavor takes def's.
func ResolveTarget(opt Target, script string, def Target) Target {
	t := opt
	if t.IsZero() {
		if h, ok := HeaderTarget(script); ok {
			t = h
		} else {
			t = def
		}
	}
	if t.Flavor == "" {
		t.Flavor = def.Flavor
	}
	return t
}
