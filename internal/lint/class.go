package lint

import (
	"fmt"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// Class is the operation class of a statement or finding; it decides the
// risk level of the migration.
type Class int

// The operation classes, from harmless to dangerous.
const (
	ClassNone       Class = iota // reads, session settings, transaction control
	ClassAdditive                // new tables, indexes built online, nullable columns
	ClassMetadata                // catalog-only changes (defaults, widenings, comments)
	ClassConstraint              // adds a constraint or NOT NULL
	ClassBlocking                // blocking scan or build, long lock, online rebuild
	ClassDML                     // unbatched UPDATE/DELETE
	ClassFailure                 // the statement will fail
	ClassDataLoss                // drops or deletes data
	ClassRename                  // renames a table or column in use
	ClassTypeChange              // changes a column's data type
	ClassRewrite                 // rewrites or copies the table while blocking writes
)

var classNames = [...]string{"none", "additive", "metadata", "constraint", "blocking", "dml", "failure", "data-loss", "rename", "type-change", "rewrite"}

// String returns the class's name as it appears in JSON.
func (c Class) String() string {
	if c < 0 || int(c) >= len(classNames) {
		return fmt.Sprintf("class(%d)", int(c))
	}
	return classNames[c]
}

// MarshalText writes the class's name.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a class's name.
func (c *Class) UnmarshalText(b []byte) error {
	for i, n := range classNames {
		if n == string(b) {
			*c = Class(i)
			return nil
		}
	}
	return fmt.Errorf("lint: unknown class %q", b)
}

// Risk is the risk level of the class, after the reference: Low for
// additive and metadata-only changes; Medium for constraints and NOT NULL,
// blocking scans or builds, long locks, unbatched DML and statements that
// will fail; High for data loss, renames, type changes and rewrites or
// copies that block writes.
func (c Class) Risk() domain.RiskLevel {
	switch {
	case c >= ClassDataLoss:
		return domain.RiskHigh
	case c >= ClassConstraint:
		return domain.RiskMedium
	default:
		return domain.RiskLow
	}
}

// ComputeRisk is the risk of a script: the highest of its statements'
// classes and of the classes of its hazards. Ignored hazards count too:
// silencing a finding never lowers the risk.
func ComputeRisk(stmts []Statement, findings, ignored []Finding) domain.RiskLevel {
	top := ClassNone
	for _, s := range stmts {
		top = max(top, s.Class)
	}
	for _, list := range [][]Finding{findings, ignored} {
		for _, f := range list {
			if f.Severity.Hazard() {
				top = max(top, f.Class)
			}
		}
	}
	return top.Risk()
}

// AtLeast returns the higher of a user's risk level and the computed one:
// a user may raise the risk, never lower it.
func AtLeast(user, computed domain.RiskLevel) domain.RiskLevel {
	rank := map[domain.RiskLevel]int{domain.RiskLow: 0, domain.RiskMedium: 1, domain.RiskHigh: 2}
	if u, ok := rank[user]; ok && u > rank[computed] {
		return user
	}
	return computed
}
