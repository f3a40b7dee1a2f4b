package mysql_test

import (
	"testing"

	"github.com/hotswap-db/hotswap/internal/lint/linttest"
	"github.com/hotswap-db/hotswap/internal/lint/mysql"
)

func TestCorpus(t *testing.T) {
	t.Parallel()
	cases := linttest.Load(t, "testdata")
	linttest.Run(t, cases, mysql.Lint)
	counts := map[string]int{}
	for _, c := range cases {
		counts[c.Kind]++
	}
	if counts["unsafe"] < 25 || counts["safe"]+counts["bait"] < 20 {
		t.Errorf("corpus too small: %v", counts)
	}
}
