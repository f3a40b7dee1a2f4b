package sqlserver_test

import (
	"testing"

	"github.com/hotswap-db/hotswap/internal/lint/linttest"
	"github.com/hotswap-db/hotswap/internal/lint/sqlserver"
)

// TestCorpus lints every script of testdata: each raises exactly the rules
// its header names, gets its risk, and every rewrite lints clean.
func TestCorpus(t *testing.T) {
	t.Parallel()
	cases := linttest.Load(t, "testdata")
	linttest.Run(t, cases, sqlserver.Lint)
	counts := map[string]int{}
	for _, c := range cases {
		counts[c.Kind]++
	}
	if counts["unsafe"] < 18 || counts["safe"]+counts["bait"] < 10 {
		t.Errorf("corpus too small: %v", counts)
	}
}
