package agent

// The engines and poolers this agent serves, one import per engine or kind
// of pooler. Each package registers itself (with package dialect or package
// pooler); nothing else in the agent names an engine.
import (
	_ "github.com/hotswap-db/hotswap/internal/dialect/mysql"
	_ "github.com/hotswap-db/hotswap/internal/dialect/oracle"
	_ "github.com/hotswap-db/hotswap/internal/dialect/postgres"
	_ "github.com/hotswap-db/hotswap/internal/dialect/sqlserver"
	_ "github.com/hotswap-db/hotswap/internal/pooler/pgbouncer"
)
