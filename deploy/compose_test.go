package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
)

// root is the repository, seen from this package.
const root = ".."

// service is the part of a compose service the checks read.
type service struct {
	Image      string          `yaml:"image"`
	Build      *build          `yaml:"build"`
	Command    []string        `yaml:"command"`
	Entrypoint []string        `yaml:"entrypoint"`
	Volumes    []string        `yaml:"volumes"`
	DependsOn  map[string]cond `yaml:"depends_on"`
	HealthRaw  map[string]any  `yaml:"healthcheck"`
	Restart    string          `yaml:"restart"`
	// Environment is the service's variables (the stack writes them as a map).
	Environment map[string]string `yaml:"environment"`
}

type build struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

type cond struct {
	Condition string `yaml:"condition"`
}

type composeFile struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	if len(f.Services) == 0 {
		t.Fatal("docker-compose.yml: no services")
	}
	return f
}

// ourImages are the images built from this repository, by Dockerfile.
func ourImages(t *testing.T, f composeFile) map[string]string {
	t.Helper()
	images := map[string]string{}
	for name, s := range f.Services {
		if s.Build == nil {
			continue
		}
		if s.Image == "" {
			t.Errorf("%s: a built image needs a name (image:), or other services cannot share it", name)
			continue
		}
		if prev, ok := images[s.Image]; ok && prev != s.Build.Dockerfile {
			t.Errorf("%s: image %s built from %s and from %s", name, s.Image, prev, s.Build.Dockerfile)
		}
		images[s.Image] = s.Build.Dockerfile
	}
	return images
}

// TestComposeNamesWhatExists checks every build context, Dockerfile,
// bind-mounted file and image the stack names.
func TestComposeNamesWhatExists(t *testing.T) {
	f := loadCompose(t)
	images := ourImages(t, f)
	pinned := regexp.MustCompile(`^[a-z0-9./-]+:v?[0-9][0-9a-z.-]*$`)
	for name, s := range f.Services {
		if s.Build != nil {
			if st, err := os.Stat(filepath.Join(root, s.Build.Context)); err != nil || !st.IsDir() {
				t.Errorf("%s: build context %q is not a folder of the repo", name, s.Build.Context)
			}
			if _, err := os.Stat(filepath.Join(root, s.Build.Context, s.Build.Dockerfile)); err != nil {
				t.Errorf("%s: Dockerfile %q: %v", name, s.Build.Dockerfile, err)
			}
		} else if _, ours := images[s.Image]; !ours && !pinned.MatchString(s.Image) {
			t.Errorf("%s: image %q is neither built here nor pinned to a version", name, s.Image)
		}
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if !strings.HasPrefix(src, ".") && !strings.HasPrefix(src, "/") {
				if _, ok := f.Volumes[src]; !ok {
					t.Errorf("%s: volume %q is not declared under volumes:", name, src)
				}
				continue
			}
			// A bind mount of a missing file makes Docker create a folder
			// in its place: every source must be a file of the repo.
			st, err := os.Stat(filepath.Join(root, src))
			if err != nil || st.IsDir() {
				t.Errorf("%s: bind mount %q is not a file of the repo", name, src)
			}
		}
	}
}

// TestComposeCommandsExist checks that the programs the stack runs are
// built into its image, with flags they have, and that the scripts it runs
// are mounted and executable.
func TestComposeCommandsExist(t *testing.T) {
	f := loadCompose(t)
	images := ourImages(t, f)
	programs := map[string]string{ // installed by packaging/Dockerfile from bin/ (make build)
		"/usr/bin/hotswapd": "controlplane/cmd/hotswapd", "/usr/bin/hotswap-agent": "agent/cmd/hotswap-agent",
		"/usr/bin/hotswap": "cli/cmd/hotswap",
	}
	for name, s := range f.Services {
		if images[s.Image] != "packaging/Dockerfile" {
			continue
		}
		argv := append(slices.Clone(s.Entrypoint), s.Command...)
		if len(s.Entrypoint) == 0 {
			argv = append([]string{"/usr/bin/hotswapd"}, s.Command...) // the Dockerfile's ENTRYPOINT
		}
		prog := argv[0]
		if src, ok := programs[prog]; ok {
			checkFlags(t, name, filepath.Join(root, src), argv[1:])
			continue
		}
		if !mountsExecutable(t, s, prog) {
			t.Errorf("%s: runs %q, which is neither a HotSwap program nor an executable script it mounts", name, prog)
		}
	}
}

// checkFlags fails for a --flag that the program's sources do not declare.
func checkFlags(t *testing.T, service, srcDir string, args []string) {
	t.Helper()
	src := sources(t, srcDir)
	for _, a := range args {
		if !strings.HasPrefix(a, "--") {
			continue
		}
		flag, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !bytes.Contains(src, []byte(`Name: "`+flag+`"`)) {
			t.Errorf("%s: flag --%s is not a flag of %s", service, flag, srcDir)
		}
	}
}

// mountsExecutable tells whether path is bind-mounted from an executable
// file of the repo.
func mountsExecutable(t *testing.T, s service, path string) bool {
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == path && strings.HasPrefix(parts[0], ".") {
			st, err := os.Stat(filepath.Join(root, parts[0]))
			return err == nil && st.Mode()&0o111 != 0
		}
	}
	return false
}

// TestComposeStartsInOrder checks that every long-running service has a
// healthcheck (an agent's is its own /metrics) and that every dependency
// waits for health or for a one-shot's success.
func TestComposeStartsInOrder(t *testing.T) {
	f := loadCompose(t)
	for name, s := range f.Services {
		if oneShot := s.Restart == "no"; !oneShot && len(s.HealthRaw) == 0 {
			t.Errorf("%s: no healthcheck", name)
		}
		for dep, c := range s.DependsOn {
			d, ok := f.Services[dep]
			switch {
			case !ok:
				t.Errorf("%s depends on %s, which is no service", name, dep)
			case d.Restart == "no" && c.Condition != "service_completed_successfully":
				t.Errorf("%s depends on one-shot %s with %q, want service_completed_successfully", name, dep, c.Condition)
			case d.Restart != "no" && c.Condition != "service_healthy":
				t.Errorf("%s depends on %s with %q, want service_healthy", name, dep, c.Condition)
			}
		}
	}
	for _, want := range []string{"hotswap-1", "hotswap-2", "hotswap-3", "postgres", "postgres-standby", "pgbouncer",
		"agent-db-primary", "agent-db-standby", "mariadb", "mariadb-replica", "agent-mariadb-primary", "agent-mariadb-replica",
		"bootstrap", "prometheus", "grafana"} {
		if _, ok := f.Services[want]; !ok {
			t.Errorf("no %s service", want)
		}
	}
}

// TestComposeAgentConfigs checks each mounted agent config as the agent
// reads it, and that its token file is one the bootstrap creates.
func TestComposeAgentConfigs(t *testing.T) {
	boot, err := os.ReadFile(filepath.Join(root, "packaging/compose/bootstrap.sh"))
	if err != nil {
		t.Fatal(err)
	}
	f := loadCompose(t)
	for name, s := range f.Services {
		if !strings.HasPrefix(name, "agent-") {
			continue
		}
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			if len(parts) < 2 || parts[1] != "/etc/hotswap/agent.yaml" {
				continue
			}
			cfg := decodeAgentConfig(t, filepath.Join(root, parts[0]))
			if !strings.HasPrefix(cfg.TokenFile, "/tokens/") || cfg.TokenFile != "/tokens/"+cfg.Name+".token" {
				t.Errorf("%s: token_file %q, want /tokens/%s.token (the bootstrap writes it)", name, cfg.TokenFile, cfg.Name)
			}
			if !bytes.Contains(boot, []byte(cfg.Name)) {
				t.Errorf("%s: the bootstrap creates no token for agent %s", name, cfg.Name)
			}
			for _, srv := range cfg.Servers {
				host, _, _ := strings.Cut(srv, ":")
				if _, ok := f.Services[host]; !ok {
					t.Errorf("%s: server %s is no service", name, srv)
				}
			}
		}
	}
}

// mountedAgentConfig is the agent config a service mounts, if it is an
// agent.
func mountedAgentConfig(t *testing.T, s service) (agentconfig.Config, bool) {
	t.Helper()
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == "/etc/hotswap/agent.yaml" {
			return decodeAgentConfig(t, filepath.Join(root, parts[0])), true
		}
	}
	return agentconfig.Config{}, false
}

// decodeAgentConfig decodes an agent config strictly and validates it as
// the agent does, with a stand-in for the token the bootstrap will write.
func decodeAgentConfig(t *testing.T, path string) agentconfig.Config {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg agentconfig.Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	check := cfg
	check.Token = "stand-in"
	if err := check.Validate(); err != nil {
		t.Errorf("%s: %v", path, err)
	}
	return cfg
}

// TestComposeMonitoring checks that Prometheus scrapes every hotswapd
// service and every agent (at the metrics_addr of its config), and that
// the dashboard Grafana provisions is valid JSON.
func TestComposeMonitoring(t *testing.T) {
	f := loadCompose(t)
	prom, err := os.ReadFile(filepath.Join(root, "packaging/prometheus/prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range f.Services {
		if s.Build == nil || s.Build.Dockerfile != "packaging/Dockerfile" || len(s.HealthRaw) == 0 {
			continue
		}
		target := name + ":5000"
		if cfg, ok := mountedAgentConfig(t, s); ok {
			_, port, _ := strings.Cut(cfg.MetricsAddr, ":")
			if port == "" {
				t.Errorf("%s: the agent serves no metrics (metrics_addr)", name)
			}
			target = name + ":" + port
		}
		if !bytes.Contains(prom, []byte(`"`+target+`"`)) {
			t.Errorf("prometheus.yml does not scrape %s at %s", name, target)
		}
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []any  `json:"panels"`
	}
	data, err := os.ReadFile(filepath.Join(root, "packaging/grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &dash); err != nil || dash.UID == "" || len(dash.Panels) == 0 {
		t.Errorf("grafana-dashboard.json: %v (uid %q, %d panels)", err, dash.UID, len(dash.Panels))
	}
}

// TestComposeTracing checks that every server and every agent sends its
// spans to a service of the stack over OTLP/gRPC, and that the variables
// the servers are given are ones hotswapd reads.
func TestComposeTracing(t *testing.T) {
	f := loadCompose(t)
	hotswapd := sources(t, filepath.Join(root, "controlplane/cmd/hotswapd"))
	for name, s := range f.Services {
		if s.Build == nil || s.Build.Dockerfile != "packaging/Dockerfile" || s.Restart == "no" {
			continue
		}
		endpoint := s.Environment["HOTSWAPD_OTLP_ENDPOINT"]
		if cfg, ok := mountedAgentConfig(t, s); ok {
			endpoint = cfg.Tracing.OTLPEndpoint
		} else {
			for key := range s.Environment {
				if strings.HasPrefix(key, "HOTSWAPD_") && !bytes.Contains(hotswapd, []byte(`"`+key+`"`)) {
					t.Errorf("%s: hotswapd reads no variable %s", name, key)
				}
			}
		}
		host, port, _ := strings.Cut(endpoint, ":")
		if _, ok := f.Services[host]; !ok || port != "4317" {
			t.Errorf("%s: spans go to %q, want a service of the stack on OTLP/gRPC port 4317", name, endpoint)
		}
	}
}

// sources is the Go source of one folder, concatenated.
func sources(t *testing.T, dir string) []byte {
	t.Helper()
	var src bytes.Buffer
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	return src.Bytes()
}
