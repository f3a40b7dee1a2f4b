package httpapi

import (
	"net/http"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// minPasswordLength is the shortest password a user may be given.
const minPasswordLength = 8

func (a *API) createUser(w http.ResponseWriter, r *http.Request, p principal) error {
	body, err := readBody(r, smallBodyLimit, "password")
	if err != nil {
		return err
	}
	var req api.CreateUserRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if err := validateUser(req); err != nil {
		return err
	}
	// bcrypt salts with randomness, so the hash is made here, before the
	// Raft call, and every server stores the same one.
	hash, err := bcrypt.GenerateFromPassword([]byte(req.Password), bcrypt.DefaultCost)
	if err != nil {
		return badRequest("password cannot be hashed", domain.FieldError{Field: "password", Message: err.Error()})
	}
	u := domain.User{Username: req.Username, Role: req.Role, CreatedBy: p.Name,
		CreatedAt: a.now().UTC().Truncate(time.Millisecond)}
	if err := a.commit(w, r, fsm.CreateUserRequest{User: u, PasswordHash: string(hash)}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func validateUser(req api.CreateUserRequest) error {
	var details []domain.FieldError
	if !domain.ValidName(req.Username) && !validEmail(req.Username) {
		details = append(details, domain.FieldError{Field: "username",
			Message: "is required: letters, digits, '_', '.', '-', '@', at most 128 characters"})
	}
	if len(req.Password) < minPasswordLength || len(req.Password) > 72 {
		details = append(details, domain.FieldError{Field: "password", Message: "must be 8 to 72 bytes"})
	}
	if !req.Role.Valid() {
		details = append(details, domain.FieldError{Field: "role", Message: "must be Admin, DBA, Developer or Viewer"})
	}
	if details != nil {
		return badRequest("invalid user", details...)
	}
	return nil
}

// validEmail accepts name@domain where both halves are valid names.
func validEmail(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '@' {
			return domain.ValidName(s[:i]) && domain.ValidName(s[i+1:])
		}
	}
	return false
}

func (a *API) listUsers(w http.ResponseWriter, _ *http.Request, _ principal) error {
	users := a.raft.State().Users()
	writeJSON(w, http.StatusOK, api.UserList{Users: users, Total: len(users)})
	return nil
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, _ principal) error {
	if err := a.commit(w, r, fsm.DeleteUserRequest{Username: r.PathValue("username")}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
