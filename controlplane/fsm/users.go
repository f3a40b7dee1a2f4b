package fsm

import (
	"sort"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// userRecord is a user with the bcrypt hash of their password.
type userRecord struct {
	User         domain.User `json:"user"`
	PasswordHash string      `json:"passwordHash"`
}

// signingKey is the key login tokens (JWT, HS256) are signed with. The
// leader generates it before the Raft call, so every server holds the same
// key and verifies tokens any of them issued.
type signingKey struct {
	Key []byte `json:"key"`
}

// CreateUserRequest adds a user; the endpoint hashed the password.
type CreateUserRequest struct {
	User         domain.User
	PasswordHash string
}

// DeleteUserRequest removes a user; their login tokens stop working at once
// on every server, since verification looks the user up.
type DeleteUserRequest struct{ Username string }

// SetSigningKeyRequest sets the cluster's token signing key, once.
type SetSigningKeyRequest struct{ Key []byte }

// Type implements Command.
func (CreateUserRequest) Type() MessageType { return CreateUserType }

// Type implements Command.
func (DeleteUserRequest) Type() MessageType { return DeleteUserType }

// Type implements Command.
func (SetSigningKeyRequest) Type() MessageType { return SetSigningKeyType }

func (s *State) applyCreateUser(r CreateUserRequest) error {
	if _, ok := s.users[r.User.Username]; ok {
		return conflict("user %q already exists", r.User.Username)
	}
	s.users[r.User.Username] = userRecord{User: r.User, PasswordHash: r.PasswordHash}
	return nil
}

func (s *State) applyDeleteUser(r DeleteUserRequest) error {
	if _, ok := s.users[r.Username]; !ok {
		return notFound("user", r.Username)
	}
	delete(s.users, r.Username)
	return nil
}

// applySetSigningKey keeps the first key: a second leader racing to set one
// must not invalidate the tokens issued with the first.
func (s *State) applySetSigningKey(r SetSigningKeyRequest) error {
	if len(s.signingKey.Key) > 0 {
		return nil
	}
	s.signingKey = signingKey{Key: append([]byte(nil), r.Key...)}
	return nil
}

// Users returns every user, sorted by username.
func (s *State) Users() []domain.User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]domain.User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u.User)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return out
}

// User returns a user and their password hash.
func (s *State) User(username string) (domain.User, string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.users[username]
	return u.User, u.PasswordHash, ok
}

// SigningKey returns the token signing key, nil before bootstrap set it.
func (s *State) SigningKey() []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]byte(nil), s.signingKey.Key...)
}
