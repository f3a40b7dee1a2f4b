package validation

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/lint"
)

// simulation is what walking the script's objects against the catalog found.
type simulation struct {
	errors, warnings []api.ValidationIssue
	affected         []string
}

// simulate walks the objects in script order: a name created must be free
// (or created IF NOT EXISTS), what is changed or dropped must exist (or be
// created earlier in the script, or be IF EXISTS), and an index must not
// duplicate one its table already has. An index whose table is named is
// also looked for among that table's indexes, since MySQL index names
// belong to their table rather than to the schema.
func simulate(objects []lint.Object, cat Catalog) simulation {
	var s simulation
	created, dropped := map[string]bool{}, map[string]bool{}
	exists := func(o lint.Object) bool {
		k := objectKey(o)
		if created[k] {
			return true
		}
		_, inCatalog := cat.relation(o.Name)
		return (inCatalog || cat.tableHasIndex(o)) && !dropped[k] && !dropped[o.Name]
	}
	described := map[string]bool{}
	for _, o := range objects {
		switch o.Action {
		case lint.ActionCreate:
			s.create(o, cat, exists)
			markCreated(o, created, dropped)
		case lint.ActionDrop:
			if !exists(o) && !o.Optional {
				s.missing(o)
			}
			markDropped(o, created, dropped)
		default:
			if !exists(o) && !o.Optional {
				s.missing(o)
			}
		}
		if o.Name != "" && !described[o.Name] {
			described[o.Name] = true
			s.affected = append(s.affected, describe(o, cat))
		}
	}
	return s
}

// objectKey is what the walk remembers an object by: an index with its
// table when the statement names the table.
func objectKey(o lint.Object) string {
	if o.Kind == lint.ObjectIndex && o.Table != "" {
		return o.Table + " " + o.Name
	}
	return o.Name
}

// markCreated records a created object under its key and, for an index
// of a named table, under its bare name too (PostgreSQL drops an index by
// name alone).
func markCreated(o lint.Object, created, dropped map[string]bool) {
	if o.Name == "" {
		return
	}
	for _, k := range []string{o.Name, objectKey(o)} {
		created[k], dropped[k] = true, false
	}
}

// markDropped records a dropped object; an index dropped by name alone is
// no longer created on any table.
func markDropped(o lint.Object, created, dropped map[string]bool) {
	k := objectKey(o)
	created[k], dropped[k] = false, true
	if o.Kind != lint.ObjectIndex || o.Table != "" {
		return
	}
	for c := range created {
		if strings.HasSuffix(c, " "+o.Name) {
			created[c] = false
		}
	}
}

func (s *simulation) create(o lint.Object, cat Catalog, exists func(lint.Object) bool) {
	if o.Name != "" && exists(o) && !o.Optional {
		what := "an object"
		if r, ok := cat.relation(o.Name); ok {
			what = "a " + r.Kind
		}
		s.errors = append(s.errors, api.ValidationIssue{Rule: "name-exists", Object: o.Name,
			Message:        fmt.Sprintf("statement %d creates %s %s, but %s of that name already exists: the statement fails", o.Statement, o.Kind, o.Name, what),
			Recommendation: fmt.Sprintf("choose another name, or add IF NOT EXISTS if the existing %s is the one wanted", o.Kind)})
	}
	if o.Kind == lint.ObjectIndex && o.Table != "" {
		s.duplicateIndex(o, cat)
	}
}

func (s *simulation) missing(o lint.Object) {
	s.errors = append(s.errors, api.ValidationIssue{Rule: "missing-" + string(o.Kind), Object: o.Name,
		Message:        fmt.Sprintf("statement %d uses %s %s, which does not exist on the master: the statement fails", o.Statement, o.Kind, o.Name),
		Recommendation: fmt.Sprintf("check the name and schema, or create the %s earlier in the script", o.Kind)})
}

// duplicateIndex warns when the table already has an index on the same
// key columns (and a unique one when the new one is unique).
func (s *simulation) duplicateIndex(o lint.Object, cat Catalog) {
	t, ok := cat.relation(o.Table)
	if !ok || len(o.Columns) == 0 {
		return
	}
	want := normalizeColumns(o.Columns)
	for _, ix := range t.Indexes {
		if !slices.Equal(normalizeColumns(ix.Columns), want) || (o.Unique && !ix.Unique) || !ix.Valid {
			continue
		}
		s.warnings = append(s.warnings, api.ValidationIssue{Rule: "duplicate-index", Object: ix.Name,
			Message: fmt.Sprintf("statement %d builds an index on %s (%s), which index %s already covers",
				o.Statement, o.Table, strings.Join(o.Columns, ", "), ix.Name),
			Recommendation: "drop the statement; a second index on the same columns only slows writes down"})
		return
	}
}

// castPattern strips the casts pg_get_indexdef prints, so lower(email)
// matches lower(email::text).
var castPattern = regexp.MustCompile(`::[a-z_ ]+(\([0-9, ]*\))?`)

func normalizeColumns(cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		c = castPattern.ReplaceAllString(strings.ToLower(c), "")
		out[i] = strings.NewReplacer(`"`, "", " ", "").Replace(c)
	}
	return out
}

// describe says what an object is, for dependencyCheck.affectedObjects.
func describe(o lint.Object, cat Catalog) string {
	r, ok := cat.relation(o.Name)
	switch {
	case o.Action == lint.ActionCreate && !ok:
		return fmt.Sprintf("%s %s (new)", o.Kind, o.Name)
	case !ok:
		return fmt.Sprintf("%s %s (not found)", o.Kind, o.Name)
	case r.Columns != nil:
		return fmt.Sprintf("%s %s (about %d rows, %s)", r.Kind, o.Name, r.Rows, bytesText(r.Bytes))
	}
	return fmt.Sprintf("%s %s (%s)", r.Kind, o.Name, bytesText(r.Bytes))
}
