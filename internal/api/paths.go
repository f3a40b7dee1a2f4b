package api

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// resource builds "/api/v1/<kind>/<id>" with id escaped, refusing an empty
// id (it would address the collection instead).
func resource(kind, id string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("api: empty %s id", kind)
	}
	return "/api/v1/" + kind + "/" + url.PathEscape(id), nil
}

// executionPath builds "/api/v1/migrations/<id>/executions/<executionId>",
// refusing empty ids.
func executionPath(migrationID, executionID string) (string, error) {
	p, err := resource("migrations", migrationID)
	if err != nil {
		return "", err
	}
	if executionID == "" {
		return "", errors.New("api: empty execution id")
	}
	return p + "/executions/" + url.PathEscape(executionID), nil
}

// getOne, postOne, putOne and delOne are a verb on one resource; sub, when
// given, addresses something under it ("/health").
func (c *Client) getOne(ctx context.Context, kind, id, sub string, out any) error {
	p, err := resource(kind, id)
	if err != nil {
		return err
	}
	return c.get(ctx, p+sub, out)
}

func (c *Client) postOne(ctx context.Context, kind, id, sub string, in, out any) error {
	p, err := resource(kind, id)
	if err != nil {
		return err
	}
	return c.post(ctx, p+sub, in, out)
}

func (c *Client) putOne(ctx context.Context, kind, id string, in, out any) error {
	p, err := resource(kind, id)
	if err != nil {
		return err
	}
	return c.put(ctx, p, in, out)
}

func (c *Client) delOne(ctx context.Context, kind, id string) error {
	p, err := resource(kind, id)
	if err != nil {
		return err
	}
	return c.del(ctx, p)
}

// MaxPageSize is the largest page a list answers (its limit parameter).
const MaxPageSize = 1000

// setPage adds the limit and offset of a list's query, those not zero.
func setPage(q url.Values, limit, offset int) {
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if offset != 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
}
