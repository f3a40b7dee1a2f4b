# HotSwap build, test and demo.
GO        ?= go
BIN       := bin
ENGINE    ?= postgres
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION) -X github.com/hotswap-db/hotswap/agent.Version=$(VERSION)
GOBIN_DIR := $(shell $(GO) env GOPATH)/bin
PKG_VERSION ?= $(shell ./scripts/pkg-version.sh)
NFPM      := $(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
PKGS      := ./...
RUNS      ?= 50

.PHONY: all build test test-unit chaos demo bench-lockqueue bench-detection bench-overhead bench-fleet bench-failover bench-scale proto ui lint deps packages check-package check-deploy clean

all: build

## build: bin/hotswapd, bin/hotswap-agent, bin/hotswap
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/hotswapd ./controlplane/cmd/hotswapd
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/hotswap-agent ./agent/cmd/hotswap-agent
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/hotswap ./cli/cmd/hotswap

## deps: install what the tests and the demo need (PostgreSQL, MariaDB, PgBouncer, protoc) when missing
deps:
	./scripts/install-deps.sh

## test: every test, with the race detector, against real servers the test bed starts
test: deps
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 14m $(PKGS)

## test-unit: the tests that need no database server
test-unit:
	$(GO) test -count=1 ./controlplane/fsm/... ./internal/sqlcheck/... ./internal/domain/...

## chaos: the chaos soak, RUNS runs (default 50) of the fault scenarios in a seeded random order and timing; counts per scenario and outcome
chaos: deps build
	$(GO) run ./internal/chaos/cmd/hotswap-chaos --bin $(BIN) --runs $(RUNS)

## demo: a single-node control plane, an agent and a local PostgreSQL (ENGINE=mariadb: MariaDB), end to end
demo: deps build
	$(GO) run ./internal/demo/cmd/hotswap-demo --bin $(BIN) --engine $(ENGINE)

## bench-lockqueue: ADD COLUMN behind idle, long, streaming and periodic holders; plain psql vs a pgroll-style retry loop vs HotSwap
bench-lockqueue: deps build
	$(GO) run ./bench/lockqueue --bin $(BIN)

## bench-detection: DROP INDEX under pgbench; onset to decision and rollback, vs a 10 s polling monitor
bench-detection: deps build
	$(GO) run ./bench/detection --bin $(BIN)

## bench-overhead: pgbench TPS with no agent, an agent sampling every 1 s and every 250 ms; the sampler's own cost
bench-overhead: deps build
	$(GO) run ./bench/overhead --bin $(BIN)

## bench-fleet: ADD COLUMN over 100 databases, a serial psql loop vs a Canary rollout
bench-fleet: deps build
	$(GO) run ./bench/fleet --bin $(BIN)

## bench-failover: leader kill -9 during a Phased rollout on 3 servers, 10 runs; time to a new leader, the agent back, the next step
bench-failover: deps build
	$(GO) run ./bench/failover --bin $(BIN)

## bench-scale: one hotswapd, 100/300/1000 simulated agents, 100 executions in flight; CPU, RSS, API p99, Raft entries/s
bench-scale: build
	$(GO) run ./bench/scale --bin $(BIN)

## proto: regenerate proto/agentpb from proto/agent.proto
proto:
	@command -v protoc >/dev/null || ./scripts/install-deps.sh protoc
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	$(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.0
	PATH="$(GOBIN_DIR):$$PATH" protoc -I proto \
		--go_out=proto/agentpb --go_opt=paths=source_relative \
		--go-grpc_out=proto/agentpb --go-grpc_opt=paths=source_relative \
		proto/agent.proto

## ui: build the web console (web/) into controlplane/webui/dist, which hotswapd
## embeds; the built files are committed, so build and test need no npm
ui:
	cd web && npm ci --no-audit --no-fund && npm run build

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## packages: .deb and .rpm packages in dist/ (nfpm), versioned by scripts/pkg-version.sh
packages: build
	./scripts/check-glibc.sh $(BIN)/hotswapd $(BIN)/hotswap-agent $(BIN)/hotswap
	mkdir -p dist
	rm -f dist/hotswap_*.deb dist/hotswap-*.rpm
	VERSION=$(PKG_VERSION) $(NFPM) package -f packaging/nfpm.yaml -p deb -t dist/
	VERSION=$(PKG_VERSION) $(NFPM) package -f packaging/nfpm.yaml -p rpm -t dist/

## check-package: build the .deb, install it, run hotswapd from it as its user, check /health, purge (root)
check-package: packages
	./scripts/check-package.sh

## check-deploy: systemd units, docker-compose.yml and the Kubernetes manifests, validated offline
check-deploy:
	./scripts/check-systemd.sh
	./scripts/check-compose.sh
	cd deploy/kubernetes/check && $(GO) test -count=1 .

clean:
	rm -rf $(BIN) dist
