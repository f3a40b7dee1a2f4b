package replay

import (
	"errors"
	"fmt"
	"strings"

	pgquery "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// ownPrefix starts every statement HotSwap's agent sends, replays included.
const ownPrefix = "/* hotswap-agent"

// ErrBadLimit is returned for a capture limit below 1.
var ErrBadLimit = errors.New("capture limit must be at least 1")

// Collector builds a captured workload: it keeps the distinct replayable
// statements offered, in the order offered, up to a limit. An engine's
// capture offers the statements of its statistics, most called first. A
// statement is kept only when it replays as it is, as the engine's Grammar
// reads it:
//
//   - a read (Grammar.CheckReadOnly), not sent by HotSwap's agent (text
//     starting with "/* hotswap-agent");
//   - reading at least one table by name, and none of the catalog
//     (PostgreSQL's pg_catalog or information_schema: health checks, SHOW
//     and catalog queries are noise for a schema change);
//   - without parameters ($1..$n, ?): statistics that replace constants
//     with parameters keep no values, so such a statement cannot be
//     replayed and is counted in Skipped.
type Collector struct {
	g     Grammar
	limit int
	seen  map[string]bool
	w     Workload
}

// NewCollector returns a Collector keeping up to limit statements read
// with g; a limit below 1 wraps ErrBadLimit.
func NewCollector(g Grammar, limit int) (*Collector, error) {
	if limit < 1 {
		return nil, ErrBadLimit
	}
	return &Collector{g: g, limit: limit, seen: make(map[string]bool)}, nil
}

// Full reports whether the collector has its limit.
func (c *Collector) Full() bool { return len(c.w.Statements) >= c.limit }

// Workload returns what was kept, and how many statements were skipped.
func (c *Collector) Workload() Workload { return c.w }

// OfferSampled is Offer for a statement whose parameters were replaced by
// sampled values: counted in Sampled when kept.
func (c *Collector) OfferSampled(stmt string) {
	n := len(c.w.Statements)
	c.Offer(stmt)
	if len(c.w.Statements) > n {
		c.w.Sampled++
	}
}

// Count adds a statement's calls to the source's total and, when the last
// offer kept it (kept), to the covered calls.
func (c *Collector) Count(calls int64, kept bool) {
	c.w.TotalCalls += calls
	if kept {
		c.w.CoveredCalls += calls
	}
}

// Offer keeps stmt when it is replayable and new, counts it as skipped when
// it is not replayable.
func (c *Collector) Offer(stmt string) {
	stmt = strings.TrimSpace(stmt)
	switch {
	case c.seen[stmt]:
	case !replayable(c.g, stmt):
		c.w.Skipped++
	default:
		c.seen[stmt] = true
		c.w.Statements = append(c.w.Statements, stmt)
	}
}

// replayable reports whether a captured statement can be replayed as it is
// and is worth it, as g reads it: a read, not HotSwap's own, without
// parameters, reading user tables and no catalog.
func replayable(g Grammar, stmt string) bool {
	if strings.HasPrefix(stmt, ownPrefix) || g.CheckReadOnly(stmt) != nil {
		return false
	}
	s, err := g.Shape(stmt)
	return err == nil && !s.Params && !s.Catalog && s.Tables > 0
}

// shapeOf inspects a PostgreSQL statement's parse tree.
func shapeOf(stmt string) (Shape, error) {
	tree, err := pgquery.Parse(stmt)
	if err != nil {
		return Shape{}, fmt.Errorf("parse statement: %w", err)
	}
	var s Shape
	inspect(tree, func(m proto.Message) bool {
		switch n := m.(type) {
		case *pgquery.ParamRef:
			s.Params = true
		case *pgquery.RangeVar:
			if catalogRelation(n) {
				s.Catalog = true
			} else {
				s.Tables++
			}
		}
		return true
	})
	return s, nil
}

// catalogRelation reports whether a relation belongs to the system catalog.
func catalogRelation(r *pgquery.RangeVar) bool {
	switch strings.ToLower(r.GetSchemaname()) {
	case "pg_catalog", "information_schema":
		return true
	case "":
		return strings.HasPrefix(strings.ToLower(r.GetRelname()), "pg_")
	}
	return false
}
