package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// AuditEntry is one change the cluster committed: who asked, what, on
// which target, when, and whether it was applied. Entries are appended by
// the state machine and chained by hash: each entry's hash covers the
// previous entry's hash and its own content, so a rewritten or removed
// entry breaks the chain.
type AuditEntry struct {
	Seq      uint64    `json:"seq"`
	Index    uint64    `json:"index"` // the Raft index of the command
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"` // "system" for the control plane's own commands
	Role     string    `json:"role,omitempty"`
	From     string    `json:"from,omitempty"`
	Action   string    `json:"action"`
	Target   string    `json:"target,omitempty"`
	Outcome  string    `json:"outcome"` // "ok" or "refused: why"
	PrevHash string    `json:"prevHash"`
	Hash     string    `json:"hash"`
}

// ComputeHash is the hash the entry must carry: SHA-256 over the previous
// hash and the entry's content (its JSON with the hash left empty).
func (e AuditEntry) ComputeHash() string {
	e.Hash = ""
	body, _ := json.Marshal(e) // a struct of strings, numbers and a time always marshals
	sum := sha256.Sum256(append([]byte(e.PrevHash), body...))
	return hex.EncodeToString(sum[:])
}

// VerifyAuditChain checks that entries, in order, each carry the right hash
// and link to the one before. It returns the sequence number of the first
// entry that does not, and false; or 0 and true.
func VerifyAuditChain(entries []AuditEntry, prev string) (uint64, bool) {
	for _, e := range entries {
		if e.PrevHash != prev || e.ComputeHash() != e.Hash {
			return e.Seq, false
		}
		prev = e.Hash
	}
	return 0, true
}
