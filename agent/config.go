// Package agent is hotswap-agent: it runs on a database host, keeps the
// credentials of the instances there, dials out to the control plane and
// reports what it finds by asking the databases themselves. Its config file
// is the format of internal/agentconfig.
package agent

import (
	"fmt"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/pooler"
)

// LoadConfig reads and checks the config file at path, then checks that
// this agent serves the engine of each of its instances.
func LoadConfig(path string) (agentconfig.Config, error) {
	cfg, err := agentconfig.Load(path)
	if err != nil {
		return cfg, err
	}
	if err := checkEngines(cfg); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	if err := checkPoolers(cfg); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// checkPoolers refuses a pooler whose kind this agent cannot switch.
func checkPoolers(cfg agentconfig.Config) error {
	for _, pc := range cfg.Poolers {
		if _, err := pooler.Open(pc.Kind, pooler.Config{}); err != nil {
			return fmt.Errorf("pooler %s: %w", pc.ID, err)
		}
	}
	return nil
}

// checkEngines refuses an instance whose engine this agent does not serve.
func checkEngines(cfg agentconfig.Config) error {
	for _, in := range cfg.Instances {
		if !supportedEngine(in.Engine) {
			return fmt.Errorf("instance %s: engine %q is not one this agent serves (%s)", in.ID, in.Engine, supportedEngines())
		}
	}
	return nil
}
