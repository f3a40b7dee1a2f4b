package commands

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/tlsutil"
)

// tlsClientFlags say how the CLI verifies the server and who it is.
func tlsClientFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "ca-cert", EnvVars: []string{"HOTSWAP_CA_CERT"}, TakesFile: true,
			Usage: "CA certificate (PEM) the server's HTTPS certificate is verified against (default: the system's roots)"},
		&cli.StringFlag{Name: "client-cert", EnvVars: []string{"HOTSWAP_CLIENT_CERT"}, TakesFile: true,
			Usage: "certificate (PEM) this client presents (hotswap tls cert create --cli)"},
		&cli.StringFlag{Name: "client-key", EnvVars: []string{"HOTSWAP_CLIENT_KEY"}, TakesFile: true,
			Usage: "the key of --client-cert (PEM)"},
		&cli.StringFlag{Name: "tls-server-name", EnvVars: []string{"HOTSWAP_TLS_SERVER_NAME"},
			Usage: "name the server's certificate is verified against (default: the host of --address; every hotswapd certificate also carries " + tlsutil.ServerName + ")"},
	}
}

// clientOptions are the API client's options from the global flags: the
// user agent, and HTTPS verified against --ca-cert when it is given.
func clientOptions(c *cli.Context) ([]api.Option, error) {
	opts := []api.Option{api.WithUserAgent("hotswap-cli/" + c.App.Version)}
	files := tlsutil.Files{CA: c.String("ca-cert"), Cert: c.String("client-cert"), Key: c.String("client-key")}
	if files == (tlsutil.Files{}) && c.String("tls-server-name") == "" {
		return opts, nil
	}
	if files.CA == "" {
		return nil, usagef("--client-cert and --tls-server-name need --ca-cert (the CA of the cluster's certificates)")
	}
	certs, err := tlsutil.Load(files)
	if err != nil {
		return nil, usagef("%v", err)
	}
	tr := &http.Transport{TLSClientConfig: certs.ClientConfig(c.String("tls-server-name")), Proxy: http.ProxyFromEnvironment}
	return append(opts, api.WithHTTPClient(&http.Client{Transport: tr, Timeout: 2 * time.Minute})), nil
}

// apiClient is a client of the server at --address with token.
func apiClient(c *cli.Context, token string) (*api.Client, error) {
	opts, err := clientOptions(c)
	if err != nil {
		return nil, err
	}
	opts = append(opts, api.WithUnavailableRetry(failoverRetry, func(err error, wait time.Duration) {
		fmt.Fprintf(c.App.ErrWriter, "hotswap: %v; retrying in %s\n", err, wait)
	}))
	return api.New(c.String("address"), token, opts...), nil
}

// failoverRetry is how long a request the cluster answers 503 (electing a
// leader) is sent again: reads, and writes the server says it did not
// apply. A leader election takes a few seconds.
const failoverRetry = 20 * time.Second

// tlsFiles is what a tls command wrote.
type tlsFiles struct {
	Certificate string    `json:"certificate"`
	Key         string    `json:"key"`
	Kind        string    `json:"kind"`
	Names       []string  `json:"names,omitempty"`
	NotAfter    time.Time `json:"notAfter"`
}

func tlsCommand() *cli.Command {
	return &cli.Command{
		Name:  "tls",
		Usage: "make the CA and the certificates of a cluster (no server needed)",
		Description: `Makes ECDSA P-256 certificates, as Consul's "consul tls" does: a CA (5 years),
then one certificate (1 year) per server, agent and CLI user, signed by it.
Keys are written with mode 0600; an existing file is never overwritten.

Examples:
  hotswap tls ca create
  hotswap tls cert create --server --ip 10.0.0.1 --dns hotswap-1.example.com
  hotswap tls cert create --agent db-host-1
  hotswap tls cert create --cli`,
		Subcommands: []*cli.Command{
			{Name: "ca", Usage: "the certificate authority", Subcommands: []*cli.Command{tlsCACreateCommand()}},
			{Name: "cert", Usage: "certificates signed by the CA", Subcommands: []*cli.Command{tlsCertCreateCommand()}},
		},
	}
}

func tlsCACreateCommand() *cli.Command {
	return &cli.Command{
		Name:  "create",
		Usage: "make a new CA: hotswap-ca.pem and hotswap-ca-key.pem",
		Description: `Writes the CA's certificate (give it to every server, agent and CLI user) and
its key (keep it offline: whoever holds it can make cluster members).

Examples:
  hotswap tls ca create
  hotswap tls ca create --dir /etc/hotswap/tls --days 1825`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Value: ".", Usage: "folder the files are written to"},
			&cli.IntFlag{Name: "days", Value: int(tlsutil.CALifetime.Hours() / 24), Usage: "days the CA is valid"},
			&cli.StringFlag{Name: "common-name", Value: "HotSwap CA", Usage: "the CA's common name"},
		},
		Action: func(c *cli.Context) error {
			if err := needArgs(c); err != nil {
				return err
			}
			if c.Int("days") <= 0 {
				return usageErr(c, "--days must be positive")
			}
			ca, key, err := tlsutil.NewCA(c.String("common-name"), time.Duration(c.Int("days"))*24*time.Hour)
			if err != nil {
				return err
			}
			out := tlsFiles{Certificate: filepath.Join(c.String("dir"), "hotswap-ca.pem"),
				Key: filepath.Join(c.String("dir"), "hotswap-ca-key.pem"), Kind: "ca", NotAfter: ca.Cert.NotAfter}
			if err := writePair(out, ca.PEM, key); err != nil {
				return err
			}
			return showTLSFiles(c, out)
		},
	}
}

func tlsCertCreateCommand() *cli.Command {
	return &cli.Command{
		Name:  "create",
		Usage: "make a certificate for a server (--server), an agent (--agent NAME) or the CLI (--cli)",
		Description: `Signs a certificate with the CA. A server's names server.hotswap (what agents
and other servers verify), localhost and 127.0.0.1, plus each --dns and --ip:
give the addresses clients dial. It serves HTTPS, the agents' gRPC and Raft,
and is the server's client certificate towards its Raft peers. An agent's
names the agent (NAME.agent.hotswap, CN=NAME): with hotswapd --tls-verify-agents
an agent whose certificate names another agent is refused. Files are named
hotswap-KIND[-NAME]-N.pem and -key.pem, N the first free number.

Examples:
  hotswap tls cert create --server --ip 10.0.0.1
  hotswap tls cert create --agent db-host-1
  hotswap tls cert create --cli`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "server", Usage: "a hotswapd certificate"},
			&cli.StringFlag{Name: "agent", Usage: "a hotswap-agent certificate naming this agent"},
			&cli.BoolFlag{Name: "cli", Usage: "a certificate the CLI presents (--client-cert)"},
			&cli.StringSliceFlag{Name: "dns", Usage: "a DNS name of the server (repeat the flag)"},
			&cli.StringSliceFlag{Name: "ip", Usage: "an IP address of the server (repeat the flag)"},
			&cli.StringFlag{Name: "ca", Value: "hotswap-ca.pem", Usage: "the CA's certificate"},
			&cli.StringFlag{Name: "ca-key", Value: "hotswap-ca-key.pem", Usage: "the CA's key"},
			&cli.StringFlag{Name: "dir", Value: ".", Usage: "folder the files are written to"},
			&cli.IntFlag{Name: "days", Value: int(tlsutil.CertLifetime.Hours() / 24), Usage: "days the certificate is valid"},
		},
		Action: createCert,
	}
}

func createCert(c *cli.Context) error {
	if err := needArgs(c); err != nil {
		return err
	}
	req, err := certRequest(c)
	if err != nil {
		return err
	}
	ca, err := tlsutil.LoadCA(c.String("ca"), c.String("ca-key"))
	if err != nil {
		return usageErr(c, "%v (make one with hotswap tls ca create)", err)
	}
	certPEM, keyPEM, err := ca.Sign(req)
	if err != nil {
		return err
	}
	out, err := freeNames(c.String("dir"), req)
	if err != nil {
		return err
	}
	out.NotAfter = time.Now().Add(req.Lifetime).UTC().Truncate(time.Second)
	out.Names = append(append([]string{}, req.DNSNames...), c.StringSlice("ip")...)
	if err := writePair(out, certPEM, keyPEM); err != nil {
		return err
	}
	return showTLSFiles(c, out)
}

func certRequest(c *cli.Context) (tlsutil.CertRequest, error) {
	req := tlsutil.CertRequest{Lifetime: time.Duration(c.Int("days")) * 24 * time.Hour, DNSNames: c.StringSlice("dns")}
	kinds := 0
	if c.Bool("server") {
		req.Kind, kinds = tlsutil.KindServer, kinds+1
	}
	if c.String("agent") != "" {
		req.Kind, req.Name, kinds = tlsutil.KindAgent, c.String("agent"), kinds+1
	}
	if c.Bool("cli") {
		req.Kind, kinds = tlsutil.KindCLI, kinds+1
	}
	switch {
	case kinds != 1:
		return req, usageErr(c, "give exactly one of --server, --agent NAME or --cli")
	case c.Int("days") <= 0:
		return req, usageErr(c, "--days must be positive")
	case req.Kind != tlsutil.KindServer && (len(req.DNSNames) > 0 || len(c.StringSlice("ip")) > 0):
		return req, usageErr(c, "--dns and --ip name a server: use them with --server")
	}
	for _, s := range c.StringSlice("ip") {
		ip := net.ParseIP(s)
		if ip == nil {
			return req, usageErr(c, "--ip %q is not an IP address", s)
		}
		req.IPs = append(req.IPs, ip)
	}
	return req, nil
}

// freeNames picks hotswap-KIND[-NAME]-N.pem with the first N not taken.
func freeNames(dir string, req tlsutil.CertRequest) (tlsFiles, error) {
	prefix := "hotswap-" + string(req.Kind)
	if req.Kind == tlsutil.KindAgent {
		prefix += "-" + req.Name
	}
	for n := 0; n < 1000; n++ {
		cert := filepath.Join(dir, fmt.Sprintf("%s-%d.pem", prefix, n))
		key := filepath.Join(dir, fmt.Sprintf("%s-%d-key.pem", prefix, n))
		if !exists(cert) && !exists(key) {
			return tlsFiles{Certificate: cert, Key: key, Kind: string(req.Kind)}, nil
		}
	}
	return tlsFiles{}, fmt.Errorf("no free file name for %s in %s", prefix, dir)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// writePair writes the certificate (0644) and then its key (0600).
func writePair(out tlsFiles, certPEM, keyPEM []byte) error {
	if exists(out.Key) {
		return fmt.Errorf("%s exists: not overwritten", out.Key)
	}
	if err := tlsutil.WriteNew(out.Certificate, certPEM, 0o644); err != nil {
		return err
	}
	return tlsutil.WriteNew(out.Key, keyPEM, 0o600)
}

func showTLSFiles(c *cli.Context, out tlsFiles) error {
	return newPrinter(c).show(out, func(p printer) error {
		return p.fields(field{"Certificate", out.Certificate}, field{"Key (0600)", out.Key},
			field{"Kind", out.Kind}, field{"Valid until", out.NotAfter.Format(time.RFC3339)})
	})
}
