package api

import (
	"context"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// CreateTokenRequest is the body of POST /api/v1/tokens: a personal API
// token for scripts, acting as the user who creates it.
type CreateTokenRequest struct {
	Name string `json:"name"`
	// ExpiresIn is how long it lasts: "90d", "720h" (default 90 days, at
	// most 365 days).
	ExpiresIn string `json:"expiresIn,omitempty"`
}

// CreateTokenResponse is the new token, with its secret shown only here.
type CreateTokenResponse struct {
	domain.APIToken
	Token string `json:"token"`
}

// TokenList is the answer of GET /api/v1/tokens: the caller's tokens (an
// Admin's: everyone's), revoked ones included.
type TokenList struct {
	Tokens []domain.APIToken `json:"tokens"`
}

// CreateToken creates a personal API token; its secret is in the answer only.
func (c *Client) CreateToken(ctx context.Context, req CreateTokenRequest) (CreateTokenResponse, error) {
	var out CreateTokenResponse
	return out, c.post(ctx, "/api/v1/tokens", req, &out)
}

// ListTokens lists the caller's API tokens (an Admin's: all of them).
func (c *Client) ListTokens(ctx context.Context) (TokenList, error) {
	var out TokenList
	return out, c.get(ctx, "/api/v1/tokens", &out)
}

// RevokeToken revokes an API token by id: refused at once on every server.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	p, err := resource("tokens", id)
	if err != nil {
		return err
	}
	return c.del(ctx, p)
}
