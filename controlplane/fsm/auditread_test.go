package fsm

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// logins fills f's audit log with n login entries, alternating two users,
// from index first on.
func logins(t *testing.T, f *FSM, first uint64, n int) {
	t.Helper()
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		user := []string{"ann", "bob"}[i%2]
		c, err := Audited(RecordLoginRequest{Username: user}, user, "DBA", "10.0.0.1", at.Add(time.Duration(i)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if err := apply(t, f, first+uint64(i), c); err != nil {
			t.Fatal(err)
		}
	}
}

func seqs(entries []domain.AuditEntry) []uint64 {
	out := make([]uint64, len(entries))
	for i, e := range entries {
		out[i] = e.Seq
	}
	return out
}

// TestAuditReadsInChunks: AuditChunk never returns more than asked, the
// iterator built on it yields exactly what AuditLog does, in order, and
// AuditPage pages the matches without copying the rest.
func TestAuditReadsInChunks(t *testing.T) {
	f := New(nil)
	logins(t, f, 1, 1000)
	st := f.State()
	for _, filter := range []AuditFilter{{}, {Actor: "bob"}, {Actor: "nobody"}} {
		t.Run(fmt.Sprintf("%+v", filter), func(t *testing.T) {
			want := st.AuditLog(filter)
			var got []domain.AuditEntry
			for e := range st.AuditEntries(filter, 64) {
				got = append(got, e)
			}
			if !slices.Equal(seqs(got), seqs(want)) {
				t.Errorf("AuditEntries yields %d entries, want the %d of AuditLog in order", len(got), len(want))
			}
			chunk, next, more := st.AuditChunk(filter, 0, 64)
			if len(chunk) > 64 || (len(want) > 64 && (len(chunk) != 64 || !more || next != chunk[63].Seq)) {
				t.Errorf("AuditChunk(0, 64) = %d entries, next %d, more %v", len(chunk), next, more)
			}
			page, total := st.AuditPage(filter, 10, 25)
			if total != len(want) || !slices.Equal(seqs(page), seqs(want[min(10, len(want)):min(35, len(want))])) {
				t.Errorf("AuditPage(10, 25) = %v of %d, want %v of %d", seqs(page), total, seqs(want[min(10, len(want)):min(35, len(want))]), len(want))
			}
		})
	}
}

// TestAuditChunksAcrossAnArchive: an archive between two chunks does not
// make the reader repeat or skip a kept entry.
func TestAuditChunksAcrossAnArchive(t *testing.T) {
	f := New(nil)
	logins(t, f, 1, 300)
	st := f.State()
	first, after, _ := st.AuditChunk(AuditFilter{}, 0, 100)
	cut := st.AuditLog(AuditFilter{})[199]
	if err := apply(t, f, 301, ArchiveAuditRequest{ThroughSeq: cut.Seq, LastHash: cut.Hash, Before: cut.At.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	rest, _, more := st.AuditChunk(AuditFilter{}, after, 1000)
	if len(first) != 100 || more || len(rest) != 101 || rest[0].Seq != cut.Seq+1 {
		t.Errorf("after the archive: %d then %d entries from %v (more %v), want 100 then the 100 kept and the archive's own from %d",
			len(first), len(rest), seqs(rest[:1]), more, cut.Seq+1)
	}
}
