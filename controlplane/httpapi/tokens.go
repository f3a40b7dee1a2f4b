package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// The lifetimes of a personal API token.
const (
	defaultTokenLife = 90 * 24 * time.Hour
	maxTokenLife     = 365 * 24 * time.Hour
)

// createToken makes a personal API token acting as the calling user.
func (a *API) createToken(w http.ResponseWriter, r *http.Request, p principal) error {
	if !p.user {
		return forbidden("log in as a user to create API tokens: a token acts as the user who made it")
	}
	body, err := readBody(r, smallBodyLimit)
	if err != nil {
		return err
	}
	var req api.CreateTokenRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	life, err := tokenLife(req)
	if err != nil {
		return err
	}
	now := a.now().UTC().Truncate(time.Millisecond)
	secret := NewToken("hsp_")
	tok := domain.APIToken{TokenID: "tok-" + NewToken("")[:12], Name: req.Name, Role: p.Role, Owner: p.Name,
		CreatedAt: now, ExpiresAt: now.Add(life)}
	if err := a.commit(w, r, fsm.CreateAPITokenRequest{Token: tok, Hash: HashToken(secret)}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, api.CreateTokenResponse{APIToken: tok, Token: secret})
	return nil
}

// tokenLife checks a request's name and reads its lifetime.
func tokenLife(req api.CreateTokenRequest) (time.Duration, error) {
	var errs []domain.FieldError
	if !domain.ValidName(req.Name) {
		errs = append(errs, domain.FieldError{Field: "name", Message: "is required: letters, digits, '-', '_' or '.'"})
	}
	life, err := parseLife(req.ExpiresIn)
	if err != nil {
		errs = append(errs, domain.FieldError{Field: "expiresIn", Message: err.Error()})
	}
	return life, domain.AsError(errs)
}

// parseLife reads "90d" or a Go duration ("720h"); empty is the default.
func parseLife(s string) (time.Duration, error) {
	if s == "" {
		return defaultTokenLife, nil
	}
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	switch {
	case err != nil:
		return 0, fmt.Errorf("want a duration such as 90d or 720h, not %q", s)
	case d < time.Hour || d > maxTokenLife:
		return 0, fmt.Errorf("must be between 1h and 365d, not %s", s)
	}
	return d, nil
}

// listTokens lists the caller's tokens; an Admin sees every token.
func (a *API) listTokens(w http.ResponseWriter, _ *http.Request, p principal) error {
	owner := p.Name
	if p.Role == string(domain.RoleAdmin) {
		owner = ""
	}
	toks := a.raft.State().APITokens(owner)
	if toks == nil {
		toks = []domain.APIToken{}
	}
	writeJSON(w, http.StatusOK, api.TokenList{Tokens: toks})
	return nil
}

// revokeToken revokes one of the caller's tokens, or, for an Admin, any.
func (a *API) revokeToken(w http.ResponseWriter, r *http.Request, p principal) error {
	tok, err := a.raft.State().APIToken(r.PathValue("id"))
	if err != nil {
		return err
	}
	if p.Role != string(domain.RoleAdmin) && (!p.user || tok.Owner != p.Name) {
		return forbidden("only the token's owner or an Admin may revoke it")
	}
	req := fsm.RevokeAPITokenRequest{TokenID: tok.TokenID, By: p.Name, At: a.now().UTC().Truncate(time.Millisecond)}
	if err := a.commit(w, r, req); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// tokenPrincipal is who an API token acts as, now: a personal token the
// owner with their current role (refused once the owner is deleted), a
// cluster token its own role. Revoked and expired tokens are refused.
func (a *API) tokenPrincipal(tok domain.APIToken) (principal, error) {
	if !tok.Usable(a.now()) {
		if !tok.RevokedAt.IsZero() {
			return principal{}, &apiError{http.StatusUnauthorized, api.CodeUnauthorized, "API token revoked", nil}
		}
		return principal{}, &apiError{http.StatusUnauthorized, api.CodeUnauthorized,
			"API token expired: create a new one (hotswap token create)", nil}
	}
	if tok.Owner == "" {
		return principal{Name: tok.Name, Role: tok.Role}, nil
	}
	user, _, ok := a.raft.State().User(tok.Owner)
	if !ok {
		return principal{}, errUnauthorized
	}
	return principal{Name: user.Username, Role: string(user.Role), user: true}, nil
}
