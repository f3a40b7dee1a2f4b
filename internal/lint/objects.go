package lint

// ObjectKind is the kind of a database object a script touches.
type ObjectKind string

// The kinds of objects a linter reports.
const (
	ObjectTable ObjectKind = "table"
	ObjectIndex ObjectKind = "index"
)

// Action is what a statement does to an object.
type Action string

// The actions a linter reports.
const (
	ActionCreate Action = "create" // the name must be free
	ActionAlter  Action = "alter"  // the object must exist; its definition changes
	ActionDrop   Action = "drop"   // the object must exist unless Optional
	ActionWrite  Action = "write"  // rows are inserted, changed or deleted
	ActionRead   Action = "read"   // the object is only read or referenced
)

// Object is one database object a statement touches, so the live catalog
// can be asked whether it exists, how large it is and whether the name of
// a new one is free. Linters that cannot tell leave Result.Objects empty.
type Object struct {
	Kind ObjectKind `json:"kind"`
	// Name is as written, "schema.name" or "name" for the default schema.
	Name string `json:"name"`
	// Table is an index's table, when the statement names it.
	Table  string `json:"table,omitempty"`
	Action Action `json:"action"`
	// Optional is IF EXISTS / IF NOT EXISTS: a missing object, or a name
	// already taken, is not an error.
	Optional bool `json:"optional,omitempty"`
	// Columns are an index's key columns or expressions, as written.
	Columns   []string `json:"columns,omitempty"`
	Unique    bool     `json:"unique,omitempty"`
	Statement int      `json:"statement"` // 1-based
}
