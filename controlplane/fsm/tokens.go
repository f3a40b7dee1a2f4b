package fsm

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// RevokeAPITokenRequest revokes an API token: it stays on record, refused
// from the entry on, on every server.
type RevokeAPITokenRequest struct {
	TokenID string
	By      string
	At      time.Time
}

// Type implements Command.
func (RevokeAPITokenRequest) Type() MessageType { return RevokeAPITokenType }

// RecordLoginRequest records a login's outcome for the audit log (the
// audited wrapper carries who and from where). A failed login is applied
// as a refusal, so the entry's outcome says it failed and why.
type RecordLoginRequest struct {
	Username string
	Failure  string // empty: the login succeeded
}

// Type implements Command.
func (RecordLoginRequest) Type() MessageType { return RecordLoginType }

func (s *State) applyRecordLogin(r RecordLoginRequest) error {
	if r.Failure != "" {
		return errors.New("login failed: " + r.Failure)
	}
	return nil
}

func (s *State) applyRevokeAPIToken(r RevokeAPITokenRequest) error {
	rec, ok := s.tokens[r.TokenID]
	if !ok {
		return notFound("API token", r.TokenID)
	}
	if !rec.Token.RevokedAt.IsZero() {
		return conflict("API token %q was already revoked by %s", r.TokenID, rec.Token.RevokedBy)
	}
	if rec.Token.Owner == "" && !s.hasAdminUser() {
		return conflict("token %q is the only way in until an Admin user exists: create one (hotswap user create --role Admin), then revoke it", r.TokenID)
	}
	rec.Token.RevokedAt, rec.Token.RevokedBy = r.At, r.By
	s.tokens[r.TokenID] = rec
	return nil
}

func (s *State) hasAdminUser() bool {
	for _, u := range s.users {
		if u.User.Role == domain.RoleAdmin {
			return true
		}
	}
	return false
}

// APITokens returns the API tokens, oldest first; with owner set, only
// that user's. Hashes are never part of the answer.
func (s *State) APITokens(owner string) []domain.APIToken {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []domain.APIToken
	for _, rec := range s.tokens {
		if owner == "" || rec.Token.Owner == owner {
			out = append(out, rec.Token)
		}
	}
	slices.SortFunc(out, func(a, b domain.APIToken) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.TokenID, b.TokenID)
	})
	return out
}

// APIToken returns one API token by id.
func (s *State) APIToken(id string) (domain.APIToken, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, ok := s.tokens[id]
	if !ok {
		return domain.APIToken{}, notFound("API token", id)
	}
	return rec.Token, nil
}
