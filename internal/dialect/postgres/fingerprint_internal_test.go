package postgres

import "testing"

func TestCompareSchemaNamesNewTable(t *testing.T) {
	live := map[string][]string{"sd": {"column a integer"}, "stray": {"column x integer"}}
	recs := []recorded{{object: "*", items: tableHashes(map[string][]string{"sd": {"column a integer"}})},
		{object: "sd", items: []string{"column a integer"}}}
	got := compareFingerprints(recs, live)
	if len(got) != 1 || got[0].Object != "table stray" || got[0].Change != "added" {
		t.Fatalf("drift = %+v, want table stray added", got)
	}
}
