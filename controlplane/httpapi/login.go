package httpapi

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// DefaultTokenTTL is how long a login token lasts unless configured.
const DefaultTokenTTL = 60 * time.Minute

// The failed-login limit: after loginMaxFailures failures of one user from
// one address within loginWindow, logins from there are refused (429)
// until the oldest failure leaves the window.
const (
	loginMaxFailures = 5
	loginWindow      = 15 * time.Minute
	limiterMaxKeys   = 10000
)

// loginClaims are what a login token says: the user (subject) and the role
// at login. The role used is the user's current one, read from the state.
type loginClaims struct {
	Role domain.Role `json:"role"`
	jwt.RegisteredClaims
}

var errBadLogin = &apiError{http.StatusUnauthorized, api.CodeUnauthorized, "invalid username or password", nil}

func (a *API) login(w http.ResponseWriter, r *http.Request, _ principal) error {
	body, err := readBody(r, smallBodyLimit, "password")
	if err != nil {
		return err
	}
	var req api.LoginRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	from := a.clientAddr(r)
	key := req.Username + "|" + from
	now := a.now()
	if a.limiter.limited(key, now) {
		a.log.Warn("login refused: too many failures", "user", req.Username, "from", from)
		return &apiError{http.StatusTooManyRequests, api.CodeRateLimited,
			fmt.Sprintf("too many failed logins for %q from this address: retry in %s", req.Username, loginWindow), nil}
	}
	user, hash, ok := a.raft.State().User(req.Username)
	if !ok || bcrypt.CompareHashAndPassword([]byte(hash), []byte(req.Password)) != nil {
		a.limiter.fail(key, now)
		a.log.Warn("login failed", "user", req.Username, "from", from)
		a.recordLogin(r, req.Username, "", "invalid username or password")
		return errBadLogin
	}
	a.limiter.reset(key)
	resp, err := a.issueToken(user, now)
	if err != nil {
		return err
	}
	a.log.Info("login", "user", user.Username, "role", user.Role, "from", from)
	a.recordLogin(r, user.Username, string(user.Role), "")
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// recordLogin commits a login's outcome to the audit log. A failure to
// record is logged, not the caller's problem: the login itself was decided.
func (a *API) recordLogin(r *http.Request, username, role, failure string) {
	actor := username
	if !domain.ValidName(actor) {
		actor = "(not a valid username)"
	}
	c, err := fsm.Audited(fsm.RecordLoginRequest{Username: actor, Failure: failure}, actor, role, a.clientAddr(r),
		a.now().UTC().Truncate(time.Millisecond))
	if err == nil {
		_, err = a.raft.Apply(r.Context(), c)
	}
	if err != nil && failure == "" {
		a.log.Warn("record login in the audit log", "user", actor, "error", err)
	}
}

// issueToken signs a login token for user with the cluster's key.
func (a *API) issueToken(user domain.User, now time.Time) (api.LoginResponse, error) {
	key := a.raft.State().SigningKey()
	if len(key) == 0 {
		return api.LoginResponse{}, unavailable("the cluster has no token signing key yet; retry shortly")
	}
	exp := now.Add(a.tokenTTL).UTC().Truncate(time.Second)
	claims := loginClaims{Role: user.Role, RegisteredClaims: jwt.RegisteredClaims{
		Subject: user.Username, Issuer: "hotswap", IssuedAt: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp), ID: NewToken("")[:32],
	}}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
	if err != nil {
		return api.LoginResponse{}, fmt.Errorf("sign login token: %w", err)
	}
	return api.LoginResponse{Token: signed, ExpiresAt: exp,
		User: api.LoginUser{Username: user.Username, Role: user.Role}}, nil
}

// verifyLoginToken checks a login token's signature and expiry against
// this server's clock, then looks the user up: a deleted user's tokens are
// refused at once, and a changed role takes effect at once.
func (a *API) verifyLoginToken(raw string) (principal, error) {
	key := a.raft.State().SigningKey()
	if len(key) == 0 {
		return principal{}, errUnauthorized
	}
	var claims loginClaims
	_, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithTimeFunc(a.now),
		jwt.WithExpirationRequired(), jwt.WithIssuer("hotswap"))
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return principal{}, &apiError{http.StatusUnauthorized, api.CodeUnauthorized,
				"login token expired: log in again (hotswap login)", nil}
		}
		return principal{}, errUnauthorized
	}
	user, _, ok := a.raft.State().User(claims.Subject)
	if !ok {
		return principal{}, errUnauthorized
	}
	return principal{Name: user.Username, Role: string(user.Role), user: true}, nil
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// looksLikeJWT tells a login token (three dot-separated parts) from an API token.
func looksLikeJWT(raw string) bool { return strings.Count(raw, ".") == 2 }

// loginLimiter counts recent failed logins per user and address, in memory
// on each server: an attacker spreading over servers gets at most
// loginMaxFailures per server per window.
type loginLimiter struct {
	mu       sync.Mutex
	failures map[string][]time.Time
}

func newLoginLimiter() *loginLimiter { return &loginLimiter{failures: map[string][]time.Time{}} }

func (l *loginLimiter) limited(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures[key] = recent(l.failures[key], now)
	if len(l.failures[key]) == 0 {
		delete(l.failures, key)
	}
	return len(l.failures[key]) >= loginMaxFailures
}

func (l *loginLimiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failures) >= limiterMaxKeys {
		for k, v := range l.failures {
			if len(recent(v, now)) == 0 {
				delete(l.failures, k)
			}
		}
	}
	l.failures[key] = append(recent(l.failures[key], now), now)
}

func (l *loginLimiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}

// recent keeps the failures still inside the window.
func recent(ts []time.Time, now time.Time) []time.Time {
	out := ts[:0]
	for _, t := range ts {
		if now.Sub(t) < loginWindow {
			out = append(out, t)
		}
	}
	return out
}
