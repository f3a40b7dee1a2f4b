// Package dialect is the contract every database engine implements on the
// agent side. The agent holds the credentials of the instances on its host;
// everything it learns from them goes to the control plane through the types
// of package domain. One sub-package per engine (dialect/postgres, ...)
// implements Conn and registers itself (Register), so the agent, the planner
// and the monitor never branch on the engine themselves: the agent looks the
// engine up by its domain.DatabaseType and asks a Conn for the optional
// capabilities (WorkloadCapturer, WorkloadReplayer) with a type assertion
// on those interfaces, never on a concrete type.
//
// Policy every engine needs lives in engine-neutral sub-packages with small
// engine hooks: lockwait (lock-timeout retries with backoff and jitter,
// waiting for blockers outside the lock queue), stepwise (resuming a
// script that cannot run in one transaction), verifypoll (waiting on a
// standby for a step to arrive) and quantile (latency estimates); an engine
// whose Conns can share the answers to server-wide questions among the
// databases of one server does it through a servershare.Cache
// (ServerSharingEngine). Every engine's executor passes the suite of
// package conformance.
//
// The package also owns the rule that keeps credentials on the agent's host:
// text that leaves a dialect (errors, statuses) is passed through Scrub or
// ScrubError first, so a password never reaches a log, a metric or the wire.
package dialect

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// Redacted replaces every secret that Scrub finds.
const Redacted = "***"

// Sentinel errors a dialect wraps so callers can classify a failure without
// parsing engine-specific messages. Test for them with errors.Is.
var (
	// ErrUnreachable means no session could be opened with the instance: the
	// network, the server being down, or authentication failed.
	ErrUnreachable = errors.New("dialect: instance unreachable")
	// ErrInvalidDSN means a connection string could not be parsed.
	ErrInvalidDSN = errors.New("dialect: invalid connection string")
)

// Conn is one agent-side connection pool to one database instance.
//
// Contract for every implementation:
//   - Probe asks the instance itself who it is: the server version, its role
//     (primary or standby, as the database reports it, never as configured),
//     its system identifier when the engine has one, the number of client
//     connections excluding the agent's own sessions, its replication links
//     in both directions and, on a standby, its replication lag in seconds
//     (0 on a primary, and 0 when the standby has replayed all it received).
//   - Probe fills Engine, CheckedAt and Reachable. It leaves InstanceID empty:
//     the caller knows under which name the instance was configured and sets it.
//   - Nothing Probe returns, in the status or in the error, may hold a
//     connection string, a user's password or any other credential. A link's
//     Peer is a host:port, an application name or a subscription name.
//   - On failure Probe returns a non-nil error and a status whose Reachable is
//     false, whose Role is domain.DetectedUnknown and whose Error holds the same
//     (scrubbed) text as the error, so the caller can report it as it is. A
//     failure to open a session wraps ErrUnreachable.
//   - Probe honours ctx and is safe for concurrent use.
//   - A Conn is also the instance's Executor and Verifier, and makes its
//     Samplers (NewSampler), each with its own contract below.
//   - Close releases every connection; the Conn must not be used afterwards.
type Conn interface {
	// Probe asks the instance who it is: version, role (primary/standby asked
	// of the database itself), replication links, active connections,
	// replication lag.
	Probe(ctx context.Context) (domain.InstanceStatus, error)
	Executor
	Verifier
	// NewSampler returns a Sampler of the instance, with deltas of its own.
	// It need not connect: the first Sample may.
	NewSampler() Sampler
	// Close releases the pool's connections.
	Close()
}

// Sampler reads an instance's native performance counters. Sample returns
// figures for the interval since the previous call on the same Sampler (the
// first call primes the deltas and returns a Sample with IntervalMs 0). The
// agent's own sessions and queries are excluded. Never returns a DSN or
// password. A Sampler is meant for one goroutine; Close ends what it holds
// of its own (a session), not its Conn.
type Sampler interface {
	Sample(ctx context.Context) (domain.Sample, error)
	Close()
}

// Scrub returns msg with every occurrence of every non-empty secret replaced
// by Redacted. Longer secrets are replaced first, so a secret that contains
// another one is not left half visible.
func Scrub(msg string, secrets ...string) string {
	ordered := slices.Clone(secrets)
	slices.SortFunc(ordered, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, s := range ordered {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, Redacted)
		}
	}
	return msg
}

// ScrubError returns an error whose text is err's text scrubbed of secrets.
// errors.Is still sees through it to every error in err's chain (context
// errors, this package's sentinels, a driver's sentinels), but it has no
// Unwrap: errors.As cannot reach an error of err's chain, whose fields may
// hold the unscrubbed text (a driver's error can carry the connection
// string). ScrubError(nil) is nil.
func ScrubError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	return &scrubbedError{msg: Scrub(err.Error(), secrets...), orig: err}
}

// scrubbedError is an error whose text has been scrubbed of secrets.
type scrubbedError struct {
	msg  string
	orig error
}

// Error returns the scrubbed text.
func (e *scrubbedError) Error() string { return e.msg }

// Is reports whether the original error's chain matches target.
func (e *scrubbedError) Is(target error) bool { return errors.Is(e.orig, target) }
