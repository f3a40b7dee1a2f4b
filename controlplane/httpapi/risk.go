package httpapi

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
	"github.com/hotswap-db/hotswap/internal/sqlcheck"
)

// verdict is the linter's judgement of a migration's forward script. A
// zero verdict means the engine has no linter on the control plane.
type verdict struct {
	result lint.Result
	linted bool
}

// judge lints the forward script of spec with the engine's checker,
// against the version the database's master reports.
func (a *API) judge(db domain.Database, script string) verdict {
	r, err := sqlcheck.Lint(db.Type, script, lint.Options{Target: a.reportedTarget(db)})
	if err != nil {
		return verdict{} // no checker, or a syntax error already reported by checkScripts
	}
	return verdict{result: r, linted: true}
}

// reportedTarget is the server version the database's master reported,
// zero when unknown (the script's `-- target:` line or the engine's
// default then applies).
func (a *API) reportedTarget(db domain.Database) lint.Target {
	master, ok := db.Master()
	if !ok {
		return lint.Target{}
	}
	ag, err := a.raft.State().Agent(master.Agent)
	if err != nil {
		return lint.Target{}
	}
	for _, in := range ag.Instances {
		if in.InstanceID == master.InstanceID && in.ServerVersion != "" {
			if t, err := lint.ParseTarget(in.ServerVersion); err == nil {
				return t
			}
		}
	}
	return lint.Target{}
}

// settleRisk applies the computed risk to spec: an empty requested risk
// takes the computed one, a higher one is kept, a lower one is refused
// unless an Admin gives the reason.
func settleRisk(spec *domain.MigrationSpec, requested domain.RiskLevel, v verdict, admin bool) []domain.FieldError {
	reason := strings.TrimSpace(spec.RiskReason)
	if len(reason) > domain.MaxNoteBytes {
		return []domain.FieldError{{Field: "riskReason", Message: fmt.Sprintf("at most %d bytes", domain.MaxNoteBytes)}}
	}
	if !v.linted {
		return nil
	}
	computed := v.result.Risk
	switch {
	case requested == "":
		spec.RiskLevel = computed
	case lint.AtLeast(requested, computed) == requested:
	case !admin:
		return []domain.FieldError{{Field: "riskLevel", Message: fmt.Sprintf(
			"the computed risk is %s (%s); a migration's risk may be raised above the computed one, never lowered below it "+
				"(an Admin may, giving a riskReason)", computed, riskReasons(v.result))}}
	case reason == "":
		return []domain.FieldError{{Field: "riskLevel", Message: fmt.Sprintf(
			"the computed risk is %s (%s); it is never lowered below it without a reason: give riskReason",
			computed, riskReasons(v.result))}}
	}
	return nil
}

// riskOverride records an Admin's lowering of the risk, nil when the risk
// is not below the computed one.
func riskOverride(spec domain.MigrationSpec, v verdict, p principal, at time.Time) *domain.RiskOverride {
	if !v.linted || lint.AtLeast(spec.RiskLevel, v.result.Risk) == spec.RiskLevel {
		return nil
	}
	return &domain.RiskOverride{By: p.Name, Reason: strings.TrimSpace(spec.RiskReason), Computed: v.result.Risk, At: at}
}

// riskReasons names what sets a result's risk: the hazards, ignored or
// not, and the statements of the highest class.
func riskReasons(r lint.Result) string {
	var why []string
	for _, list := range [][]lint.Finding{r.Findings, r.Ignored} {
		for _, f := range list {
			if f.Severity.Hazard() && f.Class.Risk() == r.Risk {
				why = append(why, fmt.Sprintf("%s at line %d", f.Rule, f.Line))
			}
		}
	}
	if len(why) == 0 {
		for _, s := range r.Statements {
			if s.Class.Risk() == r.Risk {
				why = append(why, fmt.Sprintf("statement %d at line %d is %s", s.Index, s.Line, s.Class))
			}
		}
	}
	if len(why) == 0 {
		return "nothing in the script is riskier"
	}
	if len(why) > 3 {
		why = append(why[:3], fmt.Sprintf("%d more", len(why)-3))
	}
	return strings.Join(why, ", ")
}

// record stores the verdict on the migration.
func (v verdict) record(m *domain.Migration) {
	m.ComputedRisk, m.Findings, m.IgnoredFindings = "", nil, nil
	if !v.linted {
		return
	}
	m.ComputedRisk = v.result.Risk
	m.Findings = lint.Records(v.result.Findings)
	m.IgnoredFindings = lint.Records(v.result.Ignored)
}

// errNoLinter says an engine's scripts cannot be linted on the control plane.
var errNoLinter = errors.New("this engine has no linter on the control plane")
