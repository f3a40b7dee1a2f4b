package oracle_test

import (
	"testing"

	"github.com/hotswap-db/hotswap/internal/lint/linttest"
	"github.com/hotswap-db/hotswap/internal/lint/oracle"
)

// TestCorpus runs the linter over the corpus: each unsafe script raises
// its rules with a rewrite that lints clean, and the safe and bait
// scripts raise nothing.
func TestCorpus(t *testing.T) {
	t.Parallel()
	cases := linttest.Load(t, "testdata")
	linttest.Run(t, cases, oracle.Lint)
	counts := map[string]int{}
	for _, c := range cases {
		counts[c.Kind]++
	}
	if counts["unsafe"] < 25 || counts["safe"]+counts["bait"] < 8 {
		t.Errorf("corpus too small: %v", counts)
	}
}
