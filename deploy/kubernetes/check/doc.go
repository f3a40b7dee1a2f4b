// Package check validates the Kubernetes manifests of deploy/kubernetes
// offline: every document is decoded strictly into the Kubernetes API's own
// Go types (an unknown or misspelt field, a wrong type or a bad quantity is
// an error), then checked for what HotSwap needs of it (Raft's headless
// Service, probes on /health, selectors that match, the bootstrap token from
// a Secret). It is its own module so the main go.mod does not carry the
// Kubernetes API. Run it with `make check-deploy`.
package check
