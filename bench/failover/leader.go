package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/testbed"
)

// member is a server of the cluster as the benchmark found it.
type member struct {
	server *testbed.Server
}

// pollEvery is how often the benchmark asks the servers: its figures from
// polling are this much coarse at most.
const pollEvery = 10 * time.Millisecond

// waitLeader waits until every running server but dead agrees on one
// running leader that is not dead, and returns it.
func (c *cluster) waitLeader(ctx context.Context, dead *testbed.Server, since time.Time) (member, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		if m, ok := c.agreedLeader(ctx, dead); ok {
			return m, nil
		}
		select {
		case <-ctx.Done():
			return member{}, fmt.Errorf("no leader agreed %s after the kill: %w", time.Since(since).Round(time.Millisecond), ctx.Err())
		case <-time.After(pollEvery):
		}
	}
}

// agreedLeader asks each running server but dead which server leads.
func (c *cluster) agreedLeader(ctx context.Context, dead *testbed.Server) (member, bool) {
	leader := ""
	for _, s := range c.servers {
		if s == dead || !s.Running() {
			continue
		}
		st, err := c.client(s).ClusterStatus(ctx)
		if err != nil || st.Leader == "" || (leader != "" && st.Leader != leader) {
			return member{}, false
		}
		leader = st.Leader
	}
	for _, s := range c.servers {
		if s.ID == leader && s != dead && s.Running() {
			return member{server: s}, true
		}
	}
	return member{}, false
}

// restart starts the killed server again and waits until the three agree
// on a leader and every server is a voter again.
func (c *cluster) restart(ctx context.Context, s *testbed.Server) (member, error) {
	if err := s.Start(ctx); err != nil {
		return member{}, fmt.Errorf("restart %s: %w", s.ID, err)
	}
	var m member
	err := testbed.Retry(ctx, 60*time.Second, func() (err error) {
		if m, err = c.waitLeader(ctx, nil, time.Now()); err != nil {
			return err
		}
		st, err := c.client(s).ClusterStatus(ctx)
		if err == nil && st.AppliedIndex == 0 {
			err = errors.New("the restarted server has not caught up")
		}
		return err
	})
	return m, err
}

// ensure waits for a leader before a run; errors.Join keeps the cause.
func (c *cluster) ensure(ctx context.Context) (member, error) {
	m, err := c.waitLeader(ctx, nil, time.Now())
	if err != nil {
		return member{}, errors.Join(errors.New("cluster not ready"), err)
	}
	return m, nil
}
