package agent

import (
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/tlsutil"
)

// linkCredentials are the gRPC link's credentials for one session: TLS
// with the servers verified against the CA (and the agent's certificate
// offered when it has one), read from the files again each time so a
// renewed certificate is used at the next reconnect; plaintext only when
// the config says so.
func linkCredentials(cfg agentconfig.TLSConfig) (credentials.TransportCredentials, error) {
	if cfg.Plaintext {
		return insecure.NewCredentials(), nil
	}
	certs, err := tlsutil.Load(tlsutil.Files{CA: cfg.CACert, Cert: cfg.CertFile, Key: cfg.KeyFile})
	if err != nil {
		return nil, err
	}
	name := cfg.ServerName
	if name == "" {
		name = tlsutil.ServerName
	}
	return credentials.NewTLS(certs.ClientConfig(name)), nil
}
