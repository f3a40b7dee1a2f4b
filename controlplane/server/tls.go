package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/peer"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/tlsutil"
)

// ReloadTLS reads the certificate files again: connections accepted or
// dialled from now on (HTTPS, agents, Raft) use the new certificate.
func (s *Server) ReloadTLS() error {
	if s.cfg.TLS == nil {
		return nil
	}
	return s.cfg.TLS.Reload()
}

// grpcCreds are the agents' link credentials: TLS, with the agents'
// certificates required when VerifyAgents is set.
func (s *Server) grpcCreds() grpc.ServerOption {
	if s.cfg.TLS == nil {
		return grpc.Creds(insecure.NewCredentials())
	}
	auth := tls.VerifyClientCertIfGiven
	if s.cfg.VerifyAgents {
		auth = tls.RequireAndVerifyClientCert
	}
	return grpc.Creds(credentials.NewTLS(s.cfg.TLS.ServerConfig(auth, nil, "h2")))
}

// agentPeerCheck returns, under mutual TLS, the check that an agent's
// verified certificate names the agent its token belongs to; nil otherwise.
func (s *Server) agentPeerCheck() func(ctx context.Context, agent string) error {
	if s.cfg.TLS == nil || !s.cfg.VerifyAgents {
		return nil
	}
	return func(ctx context.Context, agent string) error {
		p, ok := peer.FromContext(ctx)
		if !ok {
			return errors.New("no peer information")
		}
		info, ok := p.AuthInfo.(credentials.TLSInfo)
		if !ok || len(info.State.VerifiedChains) == 0 {
			return errors.New("the agent presented no verified certificate")
		}
		return tlsutil.CheckAgent(info.State.VerifiedChains[0][0], agent)
	}
}

// peerTLS returns how this server dials another one's HTTPS API (to
// forward a write, to join): verified as a HotSwap server, offering this
// server's certificate. Nil under --plaintext.
func (s *Server) peerTLS() func() *tls.Config {
	if s.cfg.TLS == nil {
		return nil
	}
	return func() *tls.Config { return s.cfg.TLS.ClientConfig(tlsutil.ServerName) }
}

// apiClient is a client of another member's API.
func (s *Server) apiClient(addr, token string) *api.Client {
	opts := []api.Option{api.WithUserAgent("hotswapd")}
	if s.cfg.TLS != nil {
		tr := &http.Transport{TLSClientConfig: s.cfg.TLS.ClientConfig(tlsutil.ServerName)}
		opts = append(opts, api.WithHTTPClient(&http.Client{Transport: tr, Timeout: 2 * time.Minute}))
	}
	return api.New(addr, token, opts...)
}

// hsts announces Strict-Transport-Security on every answer when TLS is on.
func hsts(next http.Handler, on bool, maxAge time.Duration) http.Handler {
	if !on || maxAge <= 0 {
		return next
	}
	value := "max-age=" + strconv.FormatInt(int64(maxAge.Seconds()), 10)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", value)
		next.ServeHTTP(w, r)
	})
}
