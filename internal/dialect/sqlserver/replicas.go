package sqlserver

import (
	"context"
	"fmt"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// replicaLinksSQL lists this database's copies on the availability group's
// replicas: on a primary every secondary, with its lag; on a secondary its
// own row (the others are not visible there) and the primary's name.
const replicaLinksSQL = agentTag + `SELECT ar.replica_server_name, drs.is_local, ars.role_desc,
	COALESCE(drs.synchronization_state_desc, N''), CAST(COALESCE(drs.secondary_lag_seconds, -1) AS float),
	CAST(COALESCE(drs.redo_queue_size, 0) AS float), CAST(COALESCE(drs.redo_rate, 0) AS float)
	FROM sys.dm_hadr_database_replica_states drs
	JOIN sys.availability_replicas ar ON ar.replica_id = drs.replica_id
	JOIN sys.dm_hadr_availability_replica_states ars ON ars.replica_id = drs.replica_id
	WHERE drs.database_id = DB_ID()
	ORDER BY ar.replica_server_name`

// replicaRow is one row of replicaLinksSQL.
type replicaRow struct {
	server, role, state    string
	local                  bool
	lagSeconds             float64 // secondary_lag_seconds, -1 when NULL
	redoQueueKB, redoRateK float64
}

// readReplicaLinks reads the links of the database's availability group.
func readReplicaLinks(ctx context.Context, q queryer, ag agState) ([]domain.ReplicationLink, error) {
	rows, err := q.QueryContext(ctx, replicaLinksSQL)
	if _, no := denied(err); no {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("availability group replicas: %w", err)
	}
	defer rows.Close()
	var rs []replicaRow
	for rows.Next() {
		var r replicaRow
		if err := rows.Scan(&r.server, &r.local, &r.role, &r.state, &r.lagSeconds, &r.redoQueueKB, &r.redoRateK); err != nil {
			return nil, fmt.Errorf("availability group replicas: %w", err)
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("availability group replicas: %w", err)
	}
	return replicaLinks(rs, ag), nil
}

// replicaLinks turns the rows into links. On the primary each other
// replica is a downstream link whose lag is secondary_lag_seconds; on a
// secondary the primary is the upstream link, and the lag is an estimate:
// the redo queue (KB) over the redo rate (KB/s).
func replicaLinks(rs []replicaRow, ag agState) []domain.ReplicationLink {
	var out []domain.ReplicationLink
	for _, r := range rs {
		switch {
		case ag.role == "PRIMARY" && !r.local:
			out = append(out, domain.ReplicationLink{Direction: "downstream", Kind: "physical", Peer: r.server,
				State: r.state, Name: ag.group, LagSeconds: max(r.lagSeconds, 0)})
		case ag.role == "SECONDARY" && !r.local && r.role == "PRIMARY":
			out = append(out, domain.ReplicationLink{Direction: "upstream", Kind: "physical", Peer: r.server,
				State: r.state, Name: ag.group})
		}
	}
	if ag.role == "SECONDARY" {
		lag := 0.0
		for _, r := range rs {
			if r.local {
				lag = redoLag(r)
			}
		}
		if len(out) == 0 {
			out = append(out, domain.ReplicationLink{Direction: "upstream", Kind: "physical", Name: ag.group})
		}
		out[0].LagSeconds = lag
	}
	return out
}

// redoLag estimates a secondary's lag from its redo queue: the seconds it
// needs to redo what it has received, at its current redo rate.
func redoLag(r replicaRow) float64 {
	if r.redoRateK <= 0 || r.redoQueueKB <= 0 {
		return 0
	}
	return r.redoQueueKB / r.redoRateK
}

// worstLag is the lag Probe reports: the worst secondary's on a primary,
// its own on a secondary.
func worstLag(links []domain.ReplicationLink, role domain.DetectedRole) float64 {
	worst := 0.0
	for _, l := range links {
		if (role == domain.DetectedPrimary && l.Direction == "downstream") || (role == domain.DetectedStandby && l.Direction == "upstream") {
			worst = max(worst, l.LagSeconds)
		}
	}
	return worst
}
