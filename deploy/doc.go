// Package deploy holds no code: its tests check that the deployment files
// (docker-compose.yml and the files it mounts, builds and runs) name only
// things that exist in the repository, so the stack a newcomer starts is not
// broken by a rename. The Kubernetes manifests have their own check module
// in kubernetes/check, to keep the Kubernetes API types out of go.mod.
package deploy
