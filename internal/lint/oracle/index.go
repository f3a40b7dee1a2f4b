package oracle

import (
	"fmt"
	"strings"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// createIndex judges CREATE [UNIQUE|BITMAP] INDEX: without ONLINE the
// build holds a share lock on the table, which blocks every insert,
// update and delete until it ends. On a table the script creates it is
// harmless.
func (l *linter) createIndex(s *stream) {
	stmt := s.rest()
	s.i++ // CREATE
	unique := s.accept("UNIQUE")
	s.accept("BITMAP")
	s.accept("MULTIVALUE")
	s.accept("INDEX")
	name := s.name()
	s.accept("ON")
	table := s.name()
	var cols []string
	for _, g := range s.group() {
		cols = append(cols, join(g))
	}
	l.objects = append(l.objects, lint.Object{Kind: lint.ObjectIndex, Name: name, Table: table, Action: lint.ActionCreate,
		Columns: cols, Unique: unique, Statement: l.cur + 1})
	l.classify(lint.ClassAdditive)
	if hasWord(stmt, "ONLINE") || l.created[fold(table)] {
		return
	}
	l.finding(lint.Finding{Rule: "oracle-index-not-online", Severity: lint.Warning, Class: lint.ClassBlocking, Table: table, SizeDependent: true,
		Message: fmt.Sprintf("CREATE INDEX without ONLINE locks %s in share mode for the whole build: every insert, update and delete waits", table),
		Effect:  lint.Effect{Lock: "TM share (S)", Duration: "until the build ends", Work: lint.WorkBuild},
		Rewrite: l.sql()[:len(l.sql())-1] + " ONLINE;"})
}

// alterIndex judges ALTER INDEX ... REBUILD without ONLINE, which blocks
// DML on the table the same way.
func (l *linter) alterIndex(s *stream) {
	name := s.name()
	l.object(lint.ObjectIndex, name, "", lint.ActionAlter)
	l.classify(lint.ClassAdditive)
	rest := s.rest()
	if !hasWord(rest, "REBUILD") || hasWord(rest, "ONLINE") {
		return
	}
	l.finding(lint.Finding{Rule: "oracle-index-not-online", Severity: lint.Warning, Class: lint.ClassBlocking, SizeDependent: true,
		Message: fmt.Sprintf("ALTER INDEX %s REBUILD without ONLINE blocks DML on its table for the whole rebuild", name),
		Effect:  lint.Effect{Lock: "TM share (S)", Duration: "until the rebuild ends", Work: lint.WorkBuild},
		Rewrite: strings.TrimSuffix(l.sql(), ";") + " ONLINE;"})
}
