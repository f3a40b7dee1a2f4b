package oracle

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// storedUnit matches the creation of a stored PL/SQL unit: its kind and
// name.
var storedUnit = regexp.MustCompile(`(?is)^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:EDITIONABLE\s+|NONEDITIONABLE\s+)?` +
	`(PACKAGE\s+BODY|TYPE\s+BODY|PACKAGE|TYPE|PROCEDURE|FUNCTION|TRIGGER)\s+` + name)

// unitErrorsSQL reads the first compilation error of a unit.
const unitErrorsSQL = `SELECT line, position, text FROM all_errors
WHERE owner = :1 AND name = :2 AND type = :3 AND attribute = 'ERROR' ORDER BY sequence FETCH FIRST 1 ROWS ONLY`

// codeCompiledWithErrors is Oracle's "success with compilation error".
const codeCompiledWithErrors = "ORA-24344"

// unit is a stored unit a statement creates.
type unit struct {
	kind string // as ALL_ERRORS.TYPE spells it: PACKAGE BODY, TRIGGER, ...
	table
}

// unitOf returns the stored unit a PL/SQL statement creates, if any.
func unitOf(sql, schema string) (unit, bool) {
	m := storedUnit.FindStringSubmatch(sql)
	if m == nil {
		return unit{}, false
	}
	return unit{kind: strings.ToUpper(strings.Join(strings.Fields(m[1]), " ")), table: qualified(m[2], m[3], schema)}, true
}

// checkCompiled fails a statement that created a stored unit with
// compilation errors: the server accepts it (the unit exists, INVALID),
// and a step that went on would leave the application calling a unit
// that cannot run.
func (r *stepRun) checkCompiled(ctx context.Context, s statement) error {
	u, ok := unitOf(s.sql, r.schema)
	if !ok {
		return nil
	}
	rows, err := r.conn.QueryContext(ctx, unitErrorsSQL, u.schema, u.name, u.kind)
	if err != nil {
		return fmt.Errorf("read the compilation errors of %s %s: %w", u.kind, u.table, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return rows.Err()
	}
	var line, pos int
	var text string
	if err := rows.Scan(&line, &pos, &text); err != nil {
		return fmt.Errorf("read the compilation errors of %s %s: %w", u.kind, u.table, err)
	}
	msg := fmt.Sprintf("%s %s was created with compilation errors (it is INVALID): line %d, column %d: %s",
		u.kind, u.table, line, pos, strings.TrimSpace(text))
	return &statementError{SQL: s.sql, DB: dbFailure(msg, codeCompiledWithErrors)}
}
