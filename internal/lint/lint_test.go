package lint_test

import (
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
)

func TestParseTarget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want lint.Target
	}{
		{"MySQL 8.0.23", lint.Target{Flavor: lint.FlavorMySQL, Major: 8, Minor: 0, Patch: 23}},
		{"MariaDB 10.11", lint.Target{Flavor: lint.FlavorMariaDB, Major: 10, Minor: 11}},
		{"10.11.6-MariaDB-log", lint.Target{Flavor: lint.FlavorMariaDB, Major: 10, Minor: 11, Patch: 6}},
		{"15.4 (Debian 15.4-1)", lint.Target{Major: 15, Minor: 4}},
		{"PostgreSQL 12", lint.Target{Flavor: lint.FlavorPostgreSQL, Major: 12}},
	} {
		got, err := lint.ParseTarget(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	if _, err := lint.ParseTarget("latest"); err == nil {
		t.Errorf("ParseTarget(latest) succeeded")
	}
}

func TestResolveTarget(t *testing.T) {
	t.Parallel()
	def := lint.Target{Flavor: lint.FlavorMySQL, Major: 8, Patch: 40}
	script := "-- target: MariaDB 10.3\nALTER TABLE t ADD c INT;"
	if got := lint.ResolveTarget(lint.Target{}, script, def); got != (lint.Target{Flavor: lint.FlavorMariaDB, Major: 10, Minor: 3}) {
		t.Errorf("header target = %+v", got)
	}
	if got := lint.ResolveTarget(lint.Target{Major: 5, Minor: 7}, script, def); got != (lint.Target{Flavor: lint.FlavorMySQL, Major: 5, Minor: 7}) {
		t.Errorf("option target = %+v, want it to win and take the default flavor", got)
	}
	if got := lint.ResolveTarget(lint.Target{}, "SELECT 1; -- target: MySQL 5.6", def); got != def {
		t.Errorf("a target comment past the first line = %+v, want the default", got)
	}
	if !(lint.Target{Major: 8, Patch: 29}).AtLeast(8, 0, 29) || (lint.Target{Major: 8, Patch: 28}).AtLeast(8, 0, 29) {
		t.Errorf("AtLeast compares wrongly")
	}
}

// smallCatalog knows one tiny table.
type smallCatalog struct{}

func (smallCatalog) Table(schema, name string) (lint.TableInfo, bool) {
	if name == "tiny" {
		return lint.TableInfo{Rows: 10, Bytes: 8192}, true
	}
	return lint.TableInfo{}, false
}

func TestAssembleIgnoresKeepReason(t *testing.T) {
	t.Parallel()
	script := "-- hotswap:ignore ban-drop-column unused since 4.2\nALTER TABLE a DROP COLUMN b;\nALTER TABLE c DROP COLUMN d; -- hotswap:ignore ban-drop-column\n"
	in := lint.Input{
		Statements: []lint.Statement{{Offset: 51, End: 78, Class: lint.ClassDataLoss}, {Offset: 80, End: 107, Class: lint.ClassDataLoss}},
		Findings: []lint.Finding{
			{Rule: "ban-drop-column", Severity: lint.Error, Class: lint.ClassDataLoss, Statement: 1},
			{Rule: "ban-drop-column", Severity: lint.Error, Class: lint.ClassDataLoss, Statement: 2},
		},
		Comments: []lint.Comment{{Offset: 0, End: 50, Text: script[0:50]}, {Offset: 109, End: 141, Text: script[109:141]}},
	}
	r := lint.Assemble(script, in, lint.Options{})
	if len(r.Ignored) != 1 || r.Ignored[0].Statement != 1 || r.Ignored[0].IgnoreReason != "unused since 4.2" {
		t.Fatalf("ignored = %+v, want statement 1 with its reason", r.Ignored)
	}
	var rules []string
	for _, f := range r.Findings {
		rules = append(rules, f.Rule)
	}
	if len(r.Findings) != 2 || r.Findings[0].Rule != "ban-drop-column" || r.Findings[1].Rule != lint.RuleIgnoreWithoutReason {
		t.Errorf("findings = %v, want the unreasoned ignore to silence nothing and be reported", rules)
	}
	if r.Risk != domain.RiskHigh {
		t.Errorf("risk = %s, want High: ignoring never lowers the risk", r.Risk)
	}
	if r.Findings[0].Line != 3 || r.Findings[0].Column != 1 {
		t.Errorf("position = %d:%d, want 3:1", r.Findings[0].Line, r.Findings[0].Column)
	}
}

func TestAssembleRerankBySize(t *testing.T) {
	t.Parallel()
	mk := func(table string) lint.Input {
		return lint.Input{
			Statements: []lint.Statement{{Offset: 0, End: 10, Class: lint.ClassAdditive}},
			Findings: []lint.Finding{{Rule: "require-concurrent-index-creation", Severity: lint.Warning, Class: lint.ClassBlocking,
				Statement: 1, Table: table, SizeDependent: true}},
		}
	}
	small := lint.Assemble("CREATE INDEX", mk("tiny"), lint.Options{Catalog: smallCatalog{}})
	if small.Flagged() || small.Risk != domain.RiskLow {
		t.Errorf("small table: flagged=%v risk=%s, want an advisory and Low", small.Flagged(), small.Risk)
	}
	big := lint.Assemble("CREATE INDEX", mk("huge"), lint.Options{Catalog: smallCatalog{}})
	if !big.Flagged() || big.Risk != domain.RiskMedium {
		t.Errorf("unknown table: flagged=%v risk=%s, want a warning and Medium", big.Flagged(), big.Risk)
	}
	opt := lint.Assemble("CREATE INDEX", mk("huge"), lint.Options{Ignore: map[string]string{"require-concurrent-index-creation": "maintenance window"}})
	if opt.Flagged() || len(opt.Ignored) != 1 || opt.Ignored[0].IgnoreReason != "maintenance window" {
		t.Errorf("option ignore: flagged=%v ignored=%+v", opt.Flagged(), opt.Ignored)
	}
}

func TestRisk(t *testing.T) {
	t.Parallel()
	for c, want := range map[lint.Class]domain.RiskLevel{
		lint.ClassNone: domain.RiskLow, lint.ClassMetadata: domain.RiskLow, lint.ClassConstraint: domain.RiskMedium,
		lint.ClassFailure: domain.RiskMedium, lint.ClassDataLoss: domain.RiskHigh, lint.ClassRewrite: domain.RiskHigh,
	} {
		if got := c.Risk(); got != want {
			t.Errorf("%s.Risk() = %s, want %s", c, got, want)
		}
	}
	if lint.AtLeast(domain.RiskLow, domain.RiskHigh) != domain.RiskHigh || lint.AtLeast(domain.RiskHigh, domain.RiskLow) != domain.RiskHigh {
		t.Errorf("AtLeast lets a user lower the risk, or refuses a raise")
	}
	var c lint.Class
	if err := c.UnmarshalText([]byte("data-loss")); err != nil || c != lint.ClassDataLoss {
		t.Errorf("UnmarshalText = %v, %v", c, err)
	}
}
