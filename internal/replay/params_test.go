package replay

import "testing"

func TestBindAndSubstitute(t *testing.T) {
	b, ok := Bind("SELECT id FROM items WHERE k = $1 AND v > $2")
	if !ok || b.Table != "items" || b.Columns[1] != "k" || b.Columns[2] != "v" {
		t.Fatalf("Bind = %+v, %v", b, ok)
	}
	got, err := Substitute("SELECT id FROM items WHERE k = $1 AND v > $2", map[int]string{1: "7", 2: "o'k"})
	if err != nil || got != "SELECT id FROM items WHERE k = '7' AND v > 'o''k'" {
		t.Errorf("Substitute = %q, %v", got, err)
	}
	for _, stmt := range []string{"SELECT id FROM items LIMIT $1", "SELECT * FROM a JOIN b ON a.x = b.x WHERE a.k = $1",
		"SELECT id FROM items WHERE k = $1 + 1", "SELECT 1"} {
		if _, ok := Bind(stmt); ok {
			t.Errorf("Bind(%q) ok, want refused", stmt)
		}
	}
	if _, err := Substitute("SELECT $1, $2", map[int]string{1: "x"}); err == nil {
		t.Error("Substitute with a missing value succeeded")
	}
}
