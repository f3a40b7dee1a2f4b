package domain

import (
	"fmt"
	"regexp"
	"strings"
)

// FieldError says what is wrong with one field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error makes a FieldError usable as an error.
func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// ValidationError is a request refused because of its fields.
type ValidationError struct {
	Details []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Details))
	for i, d := range e.Details {
		parts[i] = d.Error()
	}
	return "validation failed: " + strings.Join(parts, "; ")
}

// AsError returns nil when there are no field errors, else a *ValidationError.
func AsError(errs []FieldError) error {
	if len(errs) == 0 {
		return nil
	}
	return &ValidationError{Details: errs}
}

// Bounds of the small fields of a request.
const (
	MaxDescriptionBytes = 4096 // a migration's description
	MaxTags             = 32   // tags of a migration
	MaxDependencies     = 100  // dependencies of a migration
	MaxLabels           = 32   // labels of a database
	MaxInstances        = 1000 // instances of a database
	MaxNoteBytes        = 4096 // an approval's notes, a rejection's or rollback's reason
)

var (
	migrationNamePattern = regexp.MustCompile(`^[a-z0-9_]+$`)
	objectNamePattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)
	labelKeyPattern      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_./-]{0,62}$`)
)

// ValidName reports whether s can name a database, an agent or an instance:
// letters, digits, '_', '.', '-', at most 128 characters.
func ValidName(s string) bool { return objectNamePattern.MatchString(s) }

// ValidateDatabaseSpec checks a database registration.
func ValidateDatabaseSpec(s DatabaseSpec) []FieldError {
	var errs []FieldError
	add := func(field, format string, a ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, a...)})
	}
	if !ValidName(s.Name) {
		add("name", "is required: letters, digits, '_', '.', '-', at most 128 characters")
	}
	if !oneOf(s.Type, DatabaseTypes) {
		add("type", "must be one of %s", list(DatabaseTypes))
	}
	if !oneOf(s.Environment, Environments) {
		add("environment", "must be one of %s", list(Environments))
	}
	if len(s.Labels) > MaxLabels {
		add("labels", "at most %d labels", MaxLabels)
	}
	if len(s.Instances) > MaxInstances {
		add("instances", "at most %d instances", MaxInstances)
	}
	for k, v := range s.Labels {
		if !labelKeyPattern.MatchString(k) || len(v) > 256 {
			add("labels."+k, "label keys are letters, digits, '_', '.', '/', '-' (at most 63); values at most 256 characters")
		}
	}
	errs = append(errs, validateInstances(s.Instances)...)
	return errs
}

func validateInstances(ins []InstanceRef) []FieldError {
	var errs []FieldError
	if len(ins) == 0 {
		return []FieldError{{"instances", "at least one instance is required, one of them with role Master"}}
	}
	masters := 0
	seen := map[string]bool{}
	for i, in := range ins {
		field := fmt.Sprintf("instances[%d]", i)
		if !ValidName(in.Agent) {
			errs = append(errs, FieldError{field + ".agent", "is required: the name of the agent serving this instance"})
		}
		if !ValidName(in.InstanceID) {
			errs = append(errs, FieldError{field + ".instanceId", "is required: the instance id in the agent's config"})
		}
		if !oneOf(in.Role, InstanceRoles) {
			errs = append(errs, FieldError{field + ".role", "must be one of " + list(InstanceRoles)})
		}
		if in.Role == RoleMaster {
			masters++
		}
		key := in.Agent + "/" + in.InstanceID
		if seen[key] {
			errs = append(errs, FieldError{field, "instance " + key + " is listed twice"})
		}
		seen[key] = true
	}
	if masters != 1 {
		errs = append(errs, FieldError{"instances", fmt.Sprintf("exactly one instance must have role Master, found %d", masters)})
	}
	return errs
}

// ValidateMigrationSpec checks a migration's fields (not its SQL, which is
// the job of the SQL checker for the target's engine).
func ValidateMigrationSpec(s MigrationSpec) []FieldError {
	var errs []FieldError
	add := func(field, format string, a ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, a...)})
	}
	switch {
	case s.Name == "":
		add("name", "is required")
	case len(s.Name) > 128 || !migrationNamePattern.MatchString(s.Name):
		add("name", "must contain only lowercase letters, numbers and underscores (at most 128)")
	}
	if len(s.Description) > MaxDescriptionBytes {
		add("description", "at most %d bytes (found %d)", MaxDescriptionBytes, len(s.Description))
	}
	switch {
	case s.TargetDatabaseID == "":
		add("targetDatabaseId", "is required")
	case len(s.TargetDatabaseID) > 128:
		add("targetDatabaseId", "at most 128 characters")
	}
	if len(s.Tags) > MaxTags {
		add("tags", "at most %d tags", MaxTags)
	}
	if len(s.Dependencies) > MaxDependencies {
		add("dependencies", "at most %d dependencies", MaxDependencies)
	}
	errs = append(errs, validateScript("migrationScript", s.MigrationScript)...)
	errs = append(errs, validateScript("rollbackScript", s.RollbackScript)...)
	if !oneOf(s.Strategy, Strategies) {
		add("strategy", "must be one of %s", list(Strategies))
	}
	if !oneOf(s.RiskLevel, RiskLevels) {
		add("riskLevel", "must be one of %s", list(RiskLevels))
	}
	if s.EstimatedDuration < 0 {
		add("estimatedDuration", "must not be negative")
	}
	errs = append(errs, validateLockPolicy(s.LockPolicy)...)
	for i, t := range s.Tags {
		if t == "" || len(t) > 64 {
			add(fmt.Sprintf("tags[%d]", i), "must be 1 to 64 characters")
		}
	}
	seen := map[string]bool{}
	for i, d := range s.Dependencies {
		if d == "" || len(d) > 128 || seen[d] {
			add(fmt.Sprintf("dependencies[%d]", i), "must be a migration id, each listed once")
		}
		seen[d] = true
	}
	return errs
}

func validateScript(field, script string) []FieldError {
	switch {
	case strings.TrimSpace(script) == "":
		return []FieldError{{field, "is required"}}
	case len(script) > MaxScriptBytes:
		return []FieldError{{field, fmt.Sprintf("exceeds the maximum size of 10 MB (%d bytes)", len(script))}}
	}
	return nil
}

func list[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
