package mysql

import "github.com/hotswap-db/hotswap/internal/lint"

// The version limits of INSTANT, from the MySQL 8.0 online DDL tables and
// MariaDB's InnoDB instant ALTER TABLE notes.

func mariadb(t lint.Target) bool { return t.Flavor == lint.FlavorMariaDB }

// instantAddLast: ADD COLUMN as the last column without a rebuild
// (MySQL 8.0.12, MariaDB 10.3.2).
func instantAddLast(t lint.Target) bool {
	if mariadb(t) {
		return t.AtLeast(10, 3, 2)
	}
	return t.AtLeast(8, 0, 12)
}

// instantAddAnywhere: ADD COLUMN at any position, and DROP COLUMN, without
// a rebuild (MySQL 8.0.29, MariaDB 10.4).
func instantAddAnywhere(t lint.Target) bool {
	if mariadb(t) {
		return t.AtLeast(10, 4, 0)
	}
	return t.AtLeast(8, 0, 29)
}

// instantRename: RENAME COLUMN without a rebuild (MySQL 8.0.28; MariaDB
// renames in place without a rebuild).
func instantRename(t lint.Target) bool {
	return mariadb(t) || t.AtLeast(8, 0, 28)
}
