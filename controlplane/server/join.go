package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/httpapi"
)

// join asks an existing member to add this server as a voter, retrying
// until it succeeds or the server stops. Once added, Raft replicates the
// whole state here.
func (s *Server) join(ctx context.Context) {
	wait := 500 * time.Millisecond
	for {
		err := s.askToJoin(ctx)
		if err == nil {
			s.cfg.Logger.Info("joined the cluster", "via", s.cfg.JoinAddr)
			return
		}
		s.cfg.Logger.Warn("join the cluster", "via", s.cfg.JoinAddr, "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, 10*time.Second)
	}
}

func (s *Server) askToJoin(ctx context.Context) error {
	body, _ := json.Marshal(httpapi.JoinRequest{ID: s.cfg.ServerID, RaftAddr: s.cfg.RaftAddr,
		HTTPAddr: s.cfg.HTTPAddr, RPCAddr: s.cfg.RPCAddr})
	base := s.cfg.JoinAddr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	ctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/api/v1/cluster/join", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build join request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.cfg.JoinToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("send join request: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("join refused: %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
