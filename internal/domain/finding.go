package domain

// LintFinding is one hazard or advisory the engine's linter found in a
// migration's script, as stored with the migration and returned by the API.
// It is the record form of lint.Finding (package lint converts).
type LintFinding struct {
	Rule      string `json:"rule"`
	Severity  string `json:"severity"` // error, warning or info
	Class     string `json:"class"`    // the operation class that sets the risk
	Statement int    `json:"statement"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	Message   string `json:"message"`
	// Lock, LockHeld and Work say what happens to the table: the lock
	// taken, how long it is held, and the work done on its rows (scan,
	// build, rewrite, copy, rebuild, dml, delete).
	Lock     string `json:"lock,omitempty"`
	LockHeld string `json:"lockHeld,omitempty"`
	Work     string `json:"work,omitempty"`
	// Rewrite is SQL that reaches the same end safely, when there is one.
	Rewrite string `json:"rewrite,omitempty"`
	Table   string `json:"table,omitempty"`
	// IgnoreReason is the reason of the `-- hotswap:ignore` comment that
	// silenced the finding (Migration.IgnoredFindings only).
	IgnoreReason string `json:"ignoreReason,omitempty"`
}
