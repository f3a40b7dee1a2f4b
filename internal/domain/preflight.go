package domain

import (
	"strings"
	"time"
)

// The preflight checks every engine answers: the privileges and extensions
// HotSwap's guards rely on, as the agent's database role finds them.
const (
	// PreflightSessions: the agent can see other sessions' queries,
	// transaction ages and locks, without which the lock-queue guard
	// (waiting for blockers outside the queue) is blind.
	PreflightSessions = "sessions"
	// PreflightLatency: the engine's statement statistics are collected and
	// readable, without which the latency rule has no data.
	PreflightLatency = "latency"
	// PreflightHistory: the agent may create and write its history schema,
	// without which an applied step cannot be recorded.
	PreflightHistory = "history"
	// PreflightReplication: the agent can read replication state (links,
	// lag), without which verify steps and lag figures are blind.
	PreflightReplication = "replication"
)

// PreflightChecks lists the checks in the order they are shown.
var PreflightChecks = []string{PreflightSessions, PreflightLatency, PreflightHistory, PreflightReplication}

// Preflight is what an agent found, on connecting, about the privileges
// and extensions of its role on one instance.
type Preflight struct {
	CheckedAt time.Time        `json:"checkedAt,omitzero"`
	Checks    []PreflightCheck `json:"checks"`
}

// PreflightCheck is one check's result. Detail says what was found; Fix,
// when the check failed, says how to fix it (a GRANT, a setting).
type PreflightCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
	Fix    string `json:"fix,omitempty"`
}

// Check returns the named check; ok is false when it was not run.
func (p *Preflight) Check(name string) (PreflightCheck, bool) {
	if p == nil {
		return PreflightCheck{}, false
	}
	for _, c := range p.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return PreflightCheck{}, false
}

// Failed reports whether the named check ran and failed.
func (p *Preflight) Failed(name string) bool {
	c, ok := p.Check(name)
	return ok && !c.OK
}

// Failures lists the failed checks.
func (p *Preflight) Failures() []PreflightCheck {
	if p == nil {
		return nil
	}
	var out []PreflightCheck
	for _, c := range p.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// Summary is one line for listings: "ok", or the failed checks' names.
func (p *Preflight) Summary() string {
	if p == nil {
		return "not checked"
	}
	var failed []string
	for _, c := range p.Failures() {
		failed = append(failed, c.Name)
	}
	if len(failed) == 0 {
		return "ok"
	}
	return "missing: " + strings.Join(failed, ", ")
}

// Describe is a sentence about a failed check, with its fix.
func (c PreflightCheck) Describe() string {
	s := c.Name + ": " + c.Detail
	if c.Fix != "" {
		s += " (fix: " + c.Fix + ")"
	}
	return s
}
