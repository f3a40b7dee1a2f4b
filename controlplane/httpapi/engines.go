package httpapi

// The script checkers of the engines the control plane checks scripts for,
// one import per engine. A checker registers itself with package sqlcheck;
// an engine without one has its scripts checked only when they run. The
// replay grammars (PostgreSQL's is package replay's own) read a Shadow
// rollout's workload file.
import (
	_ "github.com/hotswap-db/hotswap/internal/replay/mysqlreplay"
	_ "github.com/hotswap-db/hotswap/internal/sqlcheck/mysqlcheck"
	_ "github.com/hotswap-db/hotswap/internal/sqlcheck/oraclecheck"
	_ "github.com/hotswap-db/hotswap/internal/sqlcheck/pgcheck"
	_ "github.com/hotswap-db/hotswap/internal/sqlcheck/sqlservercheck"
)
