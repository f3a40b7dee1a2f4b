package api

import (
	"context"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// CreateUserRequest is the body of POST /api/v1/users.
type CreateUserRequest struct {
	Username string      `json:"username"`
	Password string      `json:"password"`
	Role     domain.Role `json:"role"`
}

// UserList is the answer of GET /api/v1/users.
type UserList struct {
	Users []domain.User `json:"users"`
	Total int           `json:"total"`
}

// LoginRequest is the body of POST /api/v1/authentication/login.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// LoginUser is who a login token was issued to.
type LoginUser struct {
	Username string      `json:"username"`
	Role     domain.Role `json:"role"`
}

// LoginResponse carries a signed login token (JWT) and when it expires.
type LoginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
	User      LoginUser `json:"user"`
}

// CreateUser adds a user (Admin only).
func (c *Client) CreateUser(ctx context.Context, req CreateUserRequest) (domain.User, error) {
	var u domain.User
	return u, c.post(ctx, "/api/v1/users", req, &u)
}

// ListUsers returns every user, sorted by username (Admin only).
func (c *Client) ListUsers(ctx context.Context) (UserList, error) {
	var l UserList
	return l, c.get(ctx, "/api/v1/users", &l)
}

// DeleteUser removes a user; their login tokens stop working at once.
func (c *Client) DeleteUser(ctx context.Context, username string) error {
	return c.delOne(ctx, "users", username)
}

// Login exchanges a username and password for a login token. The client's
// own token is not needed.
func (c *Client) Login(ctx context.Context, username, password string) (LoginResponse, error) {
	var l LoginResponse
	return l, c.post(ctx, "/api/v1/authentication/login", LoginRequest{Username: username, Password: password}, &l)
}
