package mysql

import (
	"slices"
	"testing"
)

// TestGrantedPrivileges reads SHOW GRANTS lines as MariaDB prints them.
func TestGrantedPrivileges(t *testing.T) {
	cases := []struct {
		line string
		want []string
	}{
		{"GRANT PROCESS, SLAVE MONITOR ON *.* TO `hs_role`", []string{"PROCESS", "REPLICA MONITOR"}},
		{"GRANT ALL PRIVILEGES ON `hotswap`.* TO `hs_role`", schemaPrivileges},
		{"GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION", []string{allPrivileges}},
		{"GRANT ALL PRIVILEGES ON `app`.* TO `ru`@`%`", nil},
		{"GRANT SELECT (id), INSERT ON `hotswap`.* TO `ru`@`%`", []string{"INSERT"}},
		{"GRANT `hs_role` TO `ru`@`%`", nil},
		{"SET DEFAULT ROLE `hs_role` FOR `ru`@`%`", nil},
	}
	for _, tc := range cases {
		if got := grantedPrivileges(tc.line); !slices.Equal(got, tc.want) {
			t.Errorf("grantedPrivileges(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}
