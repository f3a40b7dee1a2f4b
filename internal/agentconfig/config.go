// Package agentconfig is the hotswap-agent's config file (YAML): the
// contract between the agent and whoever writes its config, packaging, the
// demo, the benchmarks and the tests. It reads, checks and writes the file.
// Whether the agent serves an instance's engine is the agent's own check,
// made once the file is loaded.
package agentconfig

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// Config is the agent's config file (YAML). Example:
//
//	name: db-host-1
//	token_file: /etc/hotswap/agent.token
//	servers: ["10.0.0.1:5001", "10.0.0.2:5001", "10.0.0.3:5001"]
//	tls:
//	  ca_cert: /etc/hotswap/tls/hotswap-ca.pem
//	  cert_file: /etc/hotswap/tls/hotswap-agent-db-host-1-0.pem   # with --tls-verify-agents
//	  key_file: /etc/hotswap/tls/hotswap-agent-db-host-1-0-key.pem
//	instances:
//	  - id: main
//	    engine: PostgreSQL
//	    dsn: postgres://hotswap_agent:secret@127.0.0.1:5432/app?sslmode=disable
type Config struct {
	// Name is the agent's name, as given to `hotswap agent token create`.
	Name string `yaml:"name"`
	// Token authenticates the agent; TokenFile reads it from a file instead.
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// Servers are control plane gRPC addresses (--rpc-addr); any of them
	// will do, the agent follows the leader.
	Servers []string `yaml:"servers"`
	// ProbeTimeout bounds each instance probe and sample (default 2s).
	ProbeTimeout time.Duration `yaml:"probe_timeout"`
	// SampleInterval is how often each instance's counters are sampled
	// and streamed (default 1s); while a step runs on an instance or is in
	// its monitor window, the execution's faster interval applies.
	SampleInterval time.Duration `yaml:"sample_interval"`
	// ProcRoot is where host figures are read (default /proc).
	ProcRoot string `yaml:"proc_root,omitempty"`
	// Instances are the database instances on this host.
	Instances []InstanceConfig `yaml:"instances"`
	// LogLevel is trace, debug, info, warn or error (default info).
	LogLevel string `yaml:"log_level"`
	// Poolers are the connection poolers on this host the agent may switch
	// (BlueGreen).
	Poolers []PoolerConfig `yaml:"poolers,omitempty"`
	// MetricsAddr, when set, is where the agent serves its own Prometheus
	// metrics (GET /metrics): host:port, e.g. 127.0.0.1:9187.
	MetricsAddr string `yaml:"metrics_addr,omitempty"`
	// TLS is how the agent reaches the control plane. TLS is required:
	// ca_cert, or plaintext: true to dial without it.
	TLS TLSConfig `yaml:"tls"`
	// Tracing sends the agent's spans (each step, statement and lock
	// attempt) to an OpenTelemetry collector; off unless an endpoint is
	// set here or in OTEL_EXPORTER_OTLP_ENDPOINT.
	Tracing TracingConfig `yaml:"tracing,omitempty"`
}

// TracingConfig is where the agent's spans go. Example:
//
//	tracing:
//	  otlp_endpoint: otel-collector:4317   # OTLP/gRPC; or http(s)://host:port
//	  insecure: true                       # a host:port endpoint without TLS
//	  sample_ratio: 1                      # of traces the agent starts itself
type TracingConfig struct {
	OTLPEndpoint string `yaml:"otlp_endpoint,omitempty"`
	Insecure     bool   `yaml:"insecure,omitempty"`
	// SampleRatio (0..1, default 1) applies to traces the agent starts;
	// a step follows the sampling decision of the control plane's trace.
	SampleRatio *float64 `yaml:"sample_ratio,omitempty"`
}

// Ratio is the sample ratio, 1 when none is set.
func (t TracingConfig) Ratio() float64 {
	if t.SampleRatio == nil {
		return 1
	}
	return *t.SampleRatio
}

// TLSConfig is the agent's side of the gRPC link's TLS. The servers are
// verified against CACert under ServerName; CertFile and KeyFile, the
// agent's own certificate (hotswap tls cert create --agent NAME), are
// needed when the servers run with --tls-verify-agents. The files are
// read again on every connection, so a renewed certificate is used at
// the next reconnect.
type TLSConfig struct {
	CACert   string `yaml:"ca_cert,omitempty"`
	CertFile string `yaml:"cert_file,omitempty"`
	KeyFile  string `yaml:"key_file,omitempty"`
	// ServerName is the name the servers' certificates are verified
	// against (default server.hotswap, which every hotswapd certificate
	// made by hotswap tls carries).
	ServerName string `yaml:"server_name,omitempty"`
	// Plaintext dials the servers without TLS (they run with --plaintext).
	Plaintext bool `yaml:"plaintext,omitempty"`
}

// PoolerConfig is one connection pooler (PgBouncer) the agent manages: its admin console, the
// ini file it may rewrite, the [databases] entry it switches, and the
// targets by name (blue, green).
type PoolerConfig struct {
	ID string `yaml:"id"`
	// Kind is the pooler's software ("pgbouncer" when empty).
	Kind       string                  `yaml:"kind,omitempty"`
	AdminDSN   string                  `yaml:"admin_dsn"`
	ConfigFile string                  `yaml:"config_file"`
	Database   string                  `yaml:"database"`
	Targets    map[string]PoolerTarget `yaml:"targets"`
}

// PoolerTarget is where a pooler can send its clients.
type PoolerTarget struct {
	Host   string `yaml:"host"`
	Port   int    `yaml:"port"`
	DBName string `yaml:"dbname"`
}

// InstanceConfig is one database instance the agent serves. Its DSN, with
// credentials, never leaves this host.
type InstanceConfig struct {
	ID      string              `yaml:"id"`
	Engine  domain.DatabaseType `yaml:"engine"`
	DSN     string              `yaml:"dsn"`
	DSNFile string              `yaml:"dsn_file"`
	// StatementLog is the server's log with statements logged
	// (log_min_duration_statement = 0), to capture a workload from.
	StatementLog string `yaml:"statement_log,omitempty"`
	// PrepareHistory, when false, leaves the creation of HotSwap's
	// bookkeeping schema to the instance's first step; by default the
	// agent creates it when it connects to a primary that has none.
	PrepareHistory *bool `yaml:"prepare_history,omitempty"`
}

// PreparesHistory reports whether the agent creates the instance's
// bookkeeping when it connects (prepare_history, true unless set false).
func (in InstanceConfig) PreparesHistory() bool {
	return in.PrepareHistory == nil || *in.PrepareHistory
}

// Load reads and checks a config file.
func Load(path string) (Config, error) {
	var cfg Config
	raw, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read config: %w", err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("parse config %s: %w", path, err)
	}
	if err := cfg.resolveFiles(); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// resolveFiles reads token_file and dsn_file entries.
func (c *Config) resolveFiles() error {
	if c.Token == "" && c.TokenFile != "" {
		b, err := os.ReadFile(c.TokenFile)
		if err != nil {
			return fmt.Errorf("read token_file: %w", err)
		}
		c.Token = strings.TrimSpace(string(b))
	}
	for i := range c.Instances {
		in := &c.Instances[i]
		if in.DSN == "" && in.DSNFile != "" {
			b, err := os.ReadFile(in.DSNFile)
			if err != nil {
				return fmt.Errorf("instance %s: read dsn_file: %w", in.ID, err)
			}
			in.DSN = strings.TrimSpace(string(b))
		}
	}
	return nil
}

// Validate checks the config; its errors never quote a DSN.
func (c *Config) Validate() error {
	if !domain.ValidName(c.Name) {
		return fmt.Errorf("name %q: letters, digits, '_', '.', '-' required", c.Name)
	}
	if c.Token == "" {
		return fmt.Errorf("token or token_file is required (hotswap agent token create %s)", c.Name)
	}
	if len(c.Servers) == 0 {
		return fmt.Errorf("servers: give at least one control plane address (host:port of --rpc-addr)")
	}
	for _, s := range c.Servers {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return fmt.Errorf("servers: %q is not host:port", s)
		}
	}
	if r := c.Tracing.Ratio(); r < 0 || r > 1 {
		return fmt.Errorf("tracing: sample_ratio %g: must be from 0 to 1", r)
	}
	if err := c.TLS.validate(); err != nil {
		return err
	}
	if c.ProbeTimeout <= 0 {
		c.ProbeTimeout = 2 * time.Second
	}
	if c.SampleInterval <= 0 {
		c.SampleInterval = time.Second
	}
	if c.SampleInterval < 50*time.Millisecond {
		return fmt.Errorf("sample_interval %s: at least 50ms", c.SampleInterval)
	}
	if c.ProcRoot == "" {
		c.ProcRoot = "/proc"
	}
	return c.validateInstances()
}

func (t TLSConfig) validate() error {
	switch {
	case t.Plaintext && (t.CACert != "" || t.CertFile != "" || t.KeyFile != ""):
		return fmt.Errorf("tls: plaintext: true dials without TLS: drop it or the certificate files")
	case t.Plaintext:
		return nil
	case t.CACert == "":
		return fmt.Errorf("tls.ca_cert is required (the CA of the control plane's certificates), or tls.plaintext: true for servers run with --plaintext")
	case (t.CertFile == "") != (t.KeyFile == ""):
		return fmt.Errorf("tls: cert_file and key_file go together")
	}
	return nil
}

func (c *Config) validateInstances() error {
	seen := map[string]bool{}
	for i, in := range c.Instances {
		if !domain.ValidName(in.ID) {
			return fmt.Errorf("instances[%d].id %q: letters, digits, '_', '.', '-' required", i, in.ID)
		}
		if seen[in.ID] {
			return fmt.Errorf("instances[%d]: id %q is used twice", i, in.ID)
		}
		seen[in.ID] = true
		if !slices.Contains(domain.DatabaseTypes, in.Engine) {
			return fmt.Errorf("instance %s: engine %q is not one HotSwap knows (%s)", in.ID, in.Engine, engineNames())
		}
		if in.DSN == "" {
			return fmt.Errorf("instance %s: dsn or dsn_file is required", in.ID)
		}
	}
	return nil
}

func engineNames() string {
	names := make([]string, len(domain.DatabaseTypes))
	for i, e := range domain.DatabaseTypes {
		names[i] = string(e)
	}
	return strings.Join(names, ", ")
}

// Write writes cfg to path as YAML, readable by its owner only (mode 0600):
// the file holds the credentials of the instances.
func Write(path string, cfg Config) error {
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encode agent config: %w", err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return fmt.Errorf("write agent config: %w", err)
	}
	return nil
}
