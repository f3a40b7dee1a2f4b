package validation

import (
	"strings"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
)

// Catalog is the master's catalog as package lint reads it, to re-rank
// findings by table size.
type Catalog struct {
	rels map[string]domain.RelationFacts
}

var _ lint.Catalog = Catalog{}

// NewCatalog indexes catalog facts; nil facts know no table.
func NewCatalog(f *domain.CatalogFacts) Catalog { return newCatalog(f) }

func newCatalog(f *domain.CatalogFacts) Catalog {
	c := Catalog{rels: map[string]domain.RelationFacts{}}
	if f == nil {
		return c
	}
	for _, r := range f.Relations {
		c.rels[nameKey(r.Schema, r.Name)] = r
	}
	return c
}

// nameKey is a name as the linters write it: the default schema left out.
func nameKey(schema, name string) string {
	if schema == "" || schema == "public" {
		return name
	}
	return schema + "." + name
}

// Table implements lint.Catalog for the tables that exist.
func (c Catalog) Table(schema, name string) (lint.TableInfo, bool) {
	r, ok := c.rels[nameKey(schema, name)]
	if !ok || !r.Exists || r.Columns == nil {
		return lint.TableInfo{}, false
	}
	return lint.TableInfo{Rows: r.Rows, Bytes: r.Bytes, Columns: r.Columns}, true
}

// relation returns the facts about a name as written in the script.
func (c Catalog) relation(qualified string) (domain.RelationFacts, bool) {
	schema, name := lint.SplitName(qualified)
	r, ok := c.rels[nameKey(schema, name)]
	return r, ok && r.Exists
}

// tableHasIndex reports whether o is an index its named table already has.
// Index names compare without case, as MySQL compares them.
func (c Catalog) tableHasIndex(o lint.Object) bool {
	if o.Kind != lint.ObjectIndex || o.Table == "" || o.Name == "" {
		return false
	}
	t, ok := c.relation(o.Table)
	if !ok {
		return false
	}
	_, name := lint.SplitName(o.Name)
	for _, ix := range t.Indexes {
		if strings.EqualFold(ix.Name, name) {
			return true
		}
	}
	return false
}
