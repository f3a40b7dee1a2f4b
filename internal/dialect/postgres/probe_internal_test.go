package postgres

import "testing"

// TestProbeLocks: what the probe locks, and when a step is not probed.
func TestProbeLocks(t *testing.T) {
	fk := []lockTarget{{name: `"orders"`, mode: accessExclusive}, {name: `"customers"`, mode: shareRowExclusive}}
	owned := relationKind{kind: "r", owned: true}
	cases := []struct {
		name    string
		targets []lockTarget
		kinds   []relationKind
		want    string
		ok      bool
	}{
		{"table and referenced table", fk, []relationKind{owned, owned},
			"LOCK TABLE ONLY \"orders\" IN ACCESS EXCLUSIVE MODE NOWAIT;\nLOCK TABLE ONLY \"customers\" IN SHARE ROW EXCLUSIVE MODE NOWAIT;\n", true},
		{"referenced table of another owner", fk, []relationKind{owned, {kind: "r"}}, "", false},
		{"a view", fk[:1], []relationKind{{kind: "v", owned: true}}, "", false},
		{"an index", fk[:1], []relationKind{{kind: "i", owned: true}}, "", false},
		{"a table the script makes", fk, []relationKind{{}, owned},
			"LOCK TABLE ONLY \"customers\" IN SHARE ROW EXCLUSIVE MODE NOWAIT;\n", true},
		{"one table twice: the stronger mode", []lockTarget{{name: `"t"`, mode: share}, {name: `"t"`, mode: accessExclusive}},
			[]relationKind{owned, owned}, "LOCK TABLE ONLY \"t\" IN ACCESS EXCLUSIVE MODE NOWAIT;\n", true},
		{"two tables, one mode", []lockTarget{{name: `"a"`, mode: share}, {name: `s."b"`, mode: share}},
			[]relationKind{owned, {kind: "p", owned: true}}, "LOCK TABLE ONLY \"a\", ONLY s.\"b\" IN SHARE MODE NOWAIT;\n", true},
		{"answers missing", fk, []relationKind{owned}, "", false},
	}
	for _, c := range cases {
		locks, ok := probeLocks(c.targets, c.kinds)
		if got := probeSQL(locks); ok != c.ok || got != c.want {
			t.Errorf("%s: probe %q, %v; want %q, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

// TestSetParameterIsNotProbed: a script that sets a parameter may resolve
// its names elsewhere than the probe would.
func TestSetParameterIsNotProbed(t *testing.T) {
	for script, want := range map[string]bool{
		"SET search_path = app; ALTER TABLE t ADD COLUMN c int": true,
		"SET LOCAL ROLE owner; ALTER TABLE t ADD COLUMN c int":  true,
		"ALTER TABLE t ADD COLUMN c int":                        false,
	} {
		p, err := planScript(script)
		if err != nil {
			t.Fatalf("plan %q: %v", script, err)
		}
		if got := p.setsParameters(); got != want {
			t.Errorf("%q sets parameters: %v, want %v", script, got, want)
		}
	}
}
