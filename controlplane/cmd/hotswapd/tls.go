package main

import (
	"errors"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/tlsutil"
)

// tlsFlags say which certificates hotswapd serves with, or that it serves
// in plaintext. TLS is the default: without certificates hotswapd starts
// only with --plaintext.
func tlsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "tls-ca-cert", TakesFile: true, EnvVars: []string{"HOTSWAPD_TLS_CA_CERT"},
			Usage: "CA certificate (PEM) that signed the servers', agents' and CLI's certificates (hotswap tls ca create)"},
		&cli.StringFlag{Name: "tls-cert", TakesFile: true, EnvVars: []string{"HOTSWAPD_TLS_CERT"},
			Usage: "this server's certificate (PEM; hotswap tls cert create --server): HTTPS, the agents' gRPC and Raft; SIGHUP rereads it"},
		&cli.StringFlag{Name: "tls-key", TakesFile: true, EnvVars: []string{"HOTSWAPD_TLS_KEY"},
			Usage: "the key of --tls-cert (PEM); SIGHUP rereads it"},
		&cli.BoolFlag{Name: "tls-verify-agents", EnvVars: []string{"HOTSWAPD_TLS_VERIFY_AGENTS"},
			Usage: "mutual TLS with agents: each must present a certificate naming it (hotswap tls cert create --agent NAME)"},
		&cli.DurationFlag{Name: "tls-hsts-max-age", Value: 365 * 24 * time.Hour, EnvVars: []string{"HOTSWAPD_TLS_HSTS_MAX_AGE"},
			Usage: "Strict-Transport-Security max-age sent over HTTPS (0: no header)"},
		&cli.BoolFlag{Name: "plaintext", EnvVars: []string{"HOTSWAPD_PLAINTEXT"},
			Usage: "serve HTTP, the agents' gRPC and Raft without TLS (anyone who reaches the ports can read them, and talk Raft): a laptop or test bed only"},
	}
}

// errNoTLS explains how to start: with certificates or, knowingly, without.
var errNoTLS = errors.New("TLS is on by default: give --tls-ca-cert, --tls-cert and --tls-key " +
	"(make them with `hotswap tls ca create` and `hotswap tls cert create --server`), or --plaintext to serve without TLS")

// loadTLS returns the certificates to serve with, or nil under --plaintext.
func loadTLS(c *cli.Context) (*tlsutil.Store, error) {
	files := tlsutil.Files{CA: c.String("tls-ca-cert"), Cert: c.String("tls-cert"), Key: c.String("tls-key")}
	given := files.CA != "" || files.Cert != "" || files.Key != ""
	switch {
	case c.Bool("plaintext") && given:
		return nil, errors.New("--plaintext serves without TLS: drop it or the --tls-* flags")
	case c.Bool("plaintext"):
		return nil, nil
	case files.CA == "" || files.Cert == "" || files.Key == "":
		return nil, errNoTLS
	}
	return tlsutil.Load(files)
}
