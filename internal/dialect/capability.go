package dialect

import (
	"context"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/replay"
)

// The optional capabilities. An engine's Conn implements those it can; the
// agent finds them with a type assertion on these interfaces and tells the
// control plane, in the step's result, when an engine lacks one.

// CaptureRequest asks for a captured workload.
type CaptureRequest struct {
	// Limit bounds the statements kept (at least 1).
	Limit int
	// StatementLog, when set, is the server's log with statements logged,
	// to read first; the engine falls back to its statement statistics
	// when the log yields nothing.
	StatementLog string
	// Since leaves out what the log recorded before it.
	Since time.Time
}

// CapturedWorkload is a captured workload and where it came from.
type CapturedWorkload struct {
	replay.Workload
	// Source names where the statements were read, for messages ("the
	// statement log", "pg_stat_statements").
	Source string
}

// WorkloadCapturer is a Conn that can capture the instance's recent
// read-only workload, for the Shadow strategy. CaptureWorkload keeps only
// statements that replay as they are (see replay.Collector), never
// HotSwap's own, and never returns a credential.
type WorkloadCapturer interface {
	CaptureWorkload(ctx context.Context, req CaptureRequest) (CapturedWorkload, error)
}

// WorkloadReplayer is a Conn that can replay a read-only workload and
// measure it, following replay.Run: every statement in a read-only
// transaction that is rolled back, so the replay never writes.
type WorkloadReplayer interface {
	ReplayWorkload(ctx context.Context, w replay.Workload, opts replay.Options) (replay.Result, error)
}

// Preflighter is a Conn that can check, as the agent's role, what HotSwap's
// guards rely on (domain.PreflightChecks): seeing other sessions' queries
// and locks, statement statistics for the latency rule, the right to
// create the history schema, reading replication state. Preflight returns
// one check per name it knows, each with what it found and, when it
// failed, the fix; an error means the instance could not be asked at all.
// A failed check is a result, not an error. Nothing returned holds a
// credential.
type Preflighter interface {
	Preflight(ctx context.Context) (domain.Preflight, error)
}

// HistoryPreparer is a Conn that can create its bookkeeping (the history
// schema and tables) ahead of the first step, when the agent connects, so
// that a first rollout does not pay for it step by step and a role that
// may not create it shows in the preflight. PrepareHistory does nothing on
// an instance that cannot take writes (a standby) or where the bookkeeping
// exists, and reports whether it created it.
type HistoryPreparer interface {
	PrepareHistory(ctx context.Context) (created bool, err error)
}

// SchemaDrifter is a Conn that records, after each applied step, a
// fingerprint of the objects the step touched and of the schema as a
// whole, and compares the latest with the live catalog: SchemaDrift names
// each object changed out of band. An instance without fingerprints
// reports none.
type SchemaDrifter interface {
	SchemaDrift(ctx context.Context) ([]domain.SchemaDrift, error)
}

// Inspector is a Conn that can look relations up in the instance's catalog
// for a live validation: whether each exists and what it is, a table's row
// estimate, size, columns, indexes and (over req.WriteWindowMs) write rate,
// and the free space of the file system holding the data. Inspect changes
// nothing, takes no lock a DDL would wait for, reports a figure it cannot
// read as domain.UnknownSize rather than failing, answers one RelationFacts
// per requested name in order, and never returns a credential.
type Inspector interface {
	Inspect(ctx context.Context, req domain.CatalogRequest) (domain.CatalogFacts, error)
}
