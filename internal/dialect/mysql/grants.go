package mysql

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// grantLine matches one line of SHOW GRANTS that grants privileges on an
// object: "GRANT PROCESS, SLAVE MONITOR ON *.* TO `hs_role`".
var grantLine = regexp.MustCompile("^GRANT (.+?) ON (\\S+) TO ")

// privilegeAliases maps the names SHOW GRANTS prints to those the
// preflight asks for (MariaDB prints REPLICA MONITOR as SLAVE MONITOR).
var privilegeAliases = map[string]string{"SLAVE MONITOR": "REPLICA MONITOR"}

// schemaPrivileges are what ALL PRIVILEGES on the history schema gives
// that the preflight asks for.
var schemaPrivileges = []string{"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "DROP", "INDEX"}

// allPrivileges stands, in a preflightFacts' privs, for ALL PRIVILEGES ON
// *.*.
const allPrivileges = "ALL PRIVILEGES"

// readRoleGrants adds to f.privs the global privileges and those on the
// history schema that SHOW GRANTS lists for the session: on MariaDB it
// lists the grants of the enabled roles (a default role, SET ROLE) beside
// the account's own, which information_schema.USER_PRIVILEGES does not
// show the account. MySQL 8 lists a role's grants only with USING, so
// there the session's active roles (CURRENT_ROLE()) are named (written
// from MySQL's manual, untested here).
func readRoleGrants(ctx context.Context, q queryer, f *preflightFacts) error {
	stmt := "SHOW GRANTS"
	if !f.mariadb {
		var roles string
		if err := q.QueryRowContext(ctx, "SELECT CURRENT_ROLE()").Scan(&roles); err == nil && roles != "" && roles != "NONE" {
			stmt = "SHOW GRANTS FOR CURRENT_USER() USING " + roles
		}
	}
	rows, err := q.QueryContext(ctx, stmt)
	if err != nil {
		return fmt.Errorf("read grants: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("read grants: %w", err)
		}
		for _, p := range grantedPrivileges(line) {
			f.privs[p] = true
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read grants: %w", err)
	}
	return nil
}

// grantedPrivileges returns the privileges one SHOW GRANTS line grants
// globally (ON *.*) or on the history schema, by the names the preflight
// uses; column privileges and other objects give none.
func grantedPrivileges(line string) []string {
	m := grantLine.FindStringSubmatch(line)
	if m == nil {
		return nil
	}
	object := strings.ReplaceAll(strings.ReplaceAll(m[2], "`", ""), "'", "")
	if object != "*.*" && object != "hotswap.*" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(m[1], ",") {
		p = strings.ToUpper(strings.TrimSpace(p))
		if strings.Contains(p, "(") {
			continue
		}
		if a, ok := privilegeAliases[p]; ok {
			p = a
		}
		if p == allPrivileges && object != "*.*" {
			out = append(out, schemaPrivileges...)
			continue
		}
		out = append(out, p)
	}
	return out
}
