package fsm

import (
	"encoding/json"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// AuditedRequest wraps a command an API caller asked for, with who asked,
// from where and when (stamped by the endpoint before the Raft call). The
// FSM applies the wrapped command and appends an audit entry either way.
type AuditedRequest struct {
	Actor   string
	Role    string
	From    string
	At      time.Time
	Command []byte // Encode(inner)
}

// Type implements Command.
func (AuditedRequest) Type() MessageType { return AuditedType }

// Audited wraps c with who asked for it.
func Audited(c Command, actor, role, from string, at time.Time) (AuditedRequest, error) {
	data, err := Encode(c)
	if err != nil {
		return AuditedRequest{}, err
	}
	return AuditedRequest{Actor: actor, Role: role, From: from, At: at, Command: data}, nil
}

// unaudited are the high-volume reports the audit log leaves out: agents'
// inventories, metric samples and step output. What they lead to (a
// decision, a rollback, the end of an execution) is audited.
var unaudited = map[MessageType]bool{ReportAgentType: true, AppendSnapshotsType: true, StepEventsType: true}

// audit appends the entry of one applied command; the caller holds the lock.
func (s *State) audit(e domain.AuditEntry, t MessageType, body []byte, err error) {
	e.Seq = s.auditAnchor.ThroughSeq + uint64(len(s.auditLog)) + 1
	e.Index, e.Action, e.Target, e.Outcome = s.index, t.String(), auditTarget(body), "ok"
	if err != nil {
		e.Outcome = "refused: " + err.Error()
	}
	e.PrevHash = s.auditAnchor.Hash
	if n := len(s.auditLog); n > 0 {
		e.PrevHash = s.auditLog[n-1].Hash
	}
	e.Hash = e.ComputeHash()
	s.auditLog = append(s.auditLog, e)
}

// targetKeys are the fields that name what a command is about, most
// specific first.
var targetKeys = []string{"executionid", "migrationid", "databaseid", "username", "tokenid", "name", "id"}

// auditTarget finds what a command is about in its body: an id field at
// the top or one level down. Only ids and names are kept, never content.
func auditTarget(body []byte) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return ""
	}
	if t := findID(top); t != "" {
		return t
	}
	for _, v := range top {
		var inner map[string]json.RawMessage
		if json.Unmarshal(v, &inner) == nil {
			if t := findID(inner); t != "" {
				return t
			}
		}
	}
	return ""
}

func findID(m map[string]json.RawMessage) string {
	for _, want := range targetKeys {
		for k, v := range m {
			var s string
			if strings.ToLower(k) == want && json.Unmarshal(v, &s) == nil && s != "" {
				return s
			}
		}
	}
	return ""
}

// applyAudited applies the wrapped command and records who asked.
func (s *State) applyAudited(body []byte) error {
	var r AuditedRequest
	if err := json.Unmarshal(body, &r); err != nil || len(r.Command) == 0 {
		panic(fmt.Sprintf("fsm: decode AuditedRequest: %v", err))
	}
	t := MessageType(r.Command[0])
	apply, ok := commands[t]
	if !ok || t == AuditedType {
		panic(fmt.Sprintf("fsm: unknown audited command type %d", t))
	}
	err := apply(s, r.Command[1:])
	s.audit(domain.AuditEntry{At: r.At, Actor: r.Actor, Role: r.Role, From: r.From}, t, r.Command[1:], err)
	return err
}

// AuditFilter selects audit entries; zero fields match everything.
type AuditFilter struct {
	Actor, Action, Target string
	Since, Until          time.Time
	// Targets, when not empty, keeps only entries about one of these ids
	// (a migration and its executions, say).
	Targets map[string]bool
}

func (f AuditFilter) match(e domain.AuditEntry) bool {
	return (f.Actor == "" || e.Actor == f.Actor) && (f.Action == "" || e.Action == f.Action) &&
		(len(f.Targets) == 0 || f.Targets[e.Target]) &&
		(f.Target == "" || e.Target == f.Target) && (f.Since.IsZero() || !e.At.Before(f.Since)) &&
		(f.Until.IsZero() || e.At.Before(f.Until))
}

// AuditLog returns the entries matching f, oldest first. It copies them
// all: for a page use AuditPage, to stream AuditChunk.
func (s *State) AuditLog(f AuditFilter) []domain.AuditEntry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []domain.AuditEntry
	for _, e := range s.auditLog {
		if f.match(e) {
			out = append(out, e)
		}
	}
	return out
}

// AuditPage returns at most limit entries matching f, skipping the first
// offset matches, and how many match in all. Only the page is copied.
func (s *State) AuditPage(f AuditFilter, offset, limit int) ([]domain.AuditEntry, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	page, total := []domain.AuditEntry{}, 0
	for _, e := range s.auditLog {
		if !f.match(e) {
			continue
		}
		if total >= offset && len(page) < limit {
			page = append(page, e)
		}
		total++
	}
	return page, total
}

// AuditChunk returns at most n entries matching f whose sequence number is
// after afterSeq, oldest first, and the sequence number to go on after
// (the last entry it looked at); more is false once the log is read to its
// end. Reading a long log chunk by chunk holds the read lock for one chunk
// at a time and copies only that chunk, so an export's memory does not grow
// with the log and writes are not held up behind it. Entries archived
// between two chunks are skipped.
func (s *State) AuditChunk(f AuditFilter, afterSeq uint64, n int) (entries []domain.AuditEntry, next uint64, more bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	next = afterSeq
	from := afterSeq - min(afterSeq, s.auditAnchor.ThroughSeq)
	for i := from; i < uint64(len(s.auditLog)); i++ {
		e := s.auditLog[i]
		next = e.Seq
		if f.match(e) {
			entries = append(entries, e)
			if len(entries) == n {
				return entries, next, i+1 < uint64(len(s.auditLog))
			}
		}
	}
	return entries, next, false
}

// AuditEntries yields the entries matching f, oldest first, read chunk by
// chunk (see AuditChunk); the lock is not held while the caller works.
func (s *State) AuditEntries(f AuditFilter, chunk int) iter.Seq[domain.AuditEntry] {
	return func(yield func(domain.AuditEntry) bool) {
		var after uint64
		for more := true; more; {
			var entries []domain.AuditEntry
			entries, after, more = s.AuditChunk(f, after, chunk)
			for _, e := range entries {
				if !yield(e) {
					return
				}
			}
		}
	}
}

// AuditSince returns the entries after seq, oldest first.
func (s *State) AuditSince(seq uint64) []domain.AuditEntry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	from := seq - min(seq, s.auditAnchor.ThroughSeq)
	if from >= uint64(len(s.auditLog)) {
		return nil
	}
	return append([]domain.AuditEntry(nil), s.auditLog[from:]...)
}

// LastAuditSeq returns the sequence number of the last audit entry.
func (s *State) LastAuditSeq() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.auditAnchor.ThroughSeq + uint64(len(s.auditLog))
}
