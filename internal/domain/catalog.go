package domain

// CatalogRequest asks an instance's catalog about the relations a script
// touches (a validation's live look-up, answered by the agent).
type CatalogRequest struct {
	Relations []ObjectName `json:"relations"`
	// WriteWindowMs, when positive, is how long to watch the tables'
	// write counters to estimate their write rate.
	WriteWindowMs int64 `json:"writeWindowMs,omitempty"`
}

// ObjectName is a relation's name; an empty Schema means the default
// search path.
type ObjectName struct {
	Schema string `json:"schema,omitempty"`
	Name   string `json:"name"`
}

// String prints the name as "schema.name", or "name".
func (n ObjectName) String() string {
	if n.Schema == "" {
		return n.Name
	}
	return n.Schema + "." + n.Name
}

// UnknownSize marks a figure an instance could not report.
const UnknownSize = -1

// CatalogFacts is what an instance's catalog says about the relations asked.
type CatalogFacts struct {
	Relations []RelationFacts `json:"relations"`
	// FreeDiskBytes is the space left on the file system of the instance's
	// data directory, UnknownSize when it cannot be read.
	FreeDiskBytes int64 `json:"freeDiskBytes"`
}

// RelationFacts is one relation as the catalog knows it.
type RelationFacts struct {
	ObjectName
	Exists bool `json:"exists"`
	// Kind is table, partitioned table, index, view, materialized view,
	// sequence or foreign table.
	Kind string `json:"kind,omitempty"`
	// ResolvedSchema is the schema the name resolved to.
	ResolvedSchema string `json:"resolvedSchema,omitempty"`
	// Table is an index's table.
	Table string `json:"table,omitempty"`
	// Rows is the planner's row estimate (an exact count for a table never
	// analysed and small enough to count); Bytes the size on disk with
	// indexes and TOAST.
	Rows  int64 `json:"rows"`
	Bytes int64 `json:"bytes"`
	// Columns maps a table's columns to their types as the engine prints them.
	Columns map[string]string `json:"columns,omitempty"`
	// WritesPerSecond is rows inserted, updated and deleted per second over
	// the request's window, UnknownSize when not measured.
	WritesPerSecond float64      `json:"writesPerSecond"`
	Indexes         []IndexFacts `json:"indexes,omitempty"`
}

// IndexFacts is one index of a table.
type IndexFacts struct {
	Name       string   `json:"name"`
	Columns    []string `json:"columns"` // key columns or expressions, in order
	Unique     bool     `json:"unique,omitempty"`
	Valid      bool     `json:"valid"`
	Definition string   `json:"definition,omitempty"`
}
