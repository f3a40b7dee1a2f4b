package postgres

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The probe is the first attempt of a transactional step (lockwait.Prober):
// its first statement is preceded, in the same round trip, by LOCK TABLE
// ONLY ... NOWAIT on every table the step's statements lock, each in the
// strongest mode they need. PostgreSQL refuses a NOWAIT request at once
// (SQLSTATE 55P03, as a lock timeout) when another session holds a
// conflicting lock or waits for one, so the probe never queues and the
// application never waits behind it; when it is granted, the statements
// then find their locks already held. It replaces, on most steps, the look
// at pg_locks, which on a session that has not read it yet costs tens of
// milliseconds (the server copies its whole lock table).
//
// A table is probed only when it is a plain or partitioned table the role
// owns (LOCK TABLE refuses views' recursion, indexes and sequences, and
// asks privileges a REFERENCES target may lack); a target that does not
// exist yet (made by the script) has no other holder. A step with any
// other target, or one that sets a parameter (SET search_path would
// resolve its names elsewhere), is not probed: the policy looks first.

// relationKindsSQL says, for each name of $1 in order, the relkind of the
// relation it names (empty when none) and whether the role owns it.
const relationKindsSQL = `SELECT coalesce(c.relkind::text, ''), coalesce(pg_has_role(c.relowner, 'USAGE'), false)
FROM unnest($1::text[]) WITH ORDINALITY AS t(name, idx) LEFT JOIN pg_class c ON c.oid = to_regclass(t.name)
ORDER BY t.idx`

// lockModeSQL is each lock mode as LOCK TABLE writes it.
var lockModeSQL = map[lockMode]string{
	accessShare: "ACCESS SHARE", rowShare: "ROW SHARE", rowExclusive: "ROW EXCLUSIVE",
	shareUpdateExclusive: "SHARE UPDATE EXCLUSIVE", share: "SHARE",
	shareRowExclusive: "SHARE ROW EXCLUSIVE", exclusive: "EXCLUSIVE", accessExclusive: "ACCESS EXCLUSIVE",
}

// relationKind is what relationKindsSQL says of one target.
type relationKind struct {
	kind  string
	owned bool
}

// probeLocks decides what the probe locks, from what relationKindsSQL said
// of each target (kinds, in targets' order). It reports false when the
// step cannot be probed.
func probeLocks(targets []lockTarget, kinds []relationKind) ([]lockTarget, bool) {
	if len(targets) == 0 || len(kinds) != len(targets) {
		return nil, false
	}
	var out []lockTarget
	seen := map[string]int{}
	for i, t := range targets {
		switch k := kinds[i]; {
		case k.kind == "":
			continue // made by the script: nobody else holds it yet
		case (k.kind != "r" && k.kind != "p") || !k.owned:
			return nil, false
		}
		if j, ok := seen[t.name]; ok {
			out[j].mode = max(out[j].mode, t.mode)
			continue
		}
		seen[t.name] = len(out)
		out = append(out, lockTarget{name: t.name, mode: t.mode})
	}
	return out, true
}

// probeSQL is the LOCK TABLE statements that ask for locks without
// waiting, each ending in a semicolon, grouped by mode in the order the
// modes first appear.
func probeSQL(locks []lockTarget) string {
	var modes []lockMode
	names := map[lockMode][]string{}
	for _, l := range locks {
		if names[l.mode] == nil {
			modes = append(modes, l.mode)
		}
		names[l.mode] = append(names[l.mode], "ONLY "+l.name)
	}
	var b strings.Builder
	for _, m := range modes {
		fmt.Fprintf(&b, "LOCK TABLE %s IN %s MODE NOWAIT;\n", strings.Join(names[m], ", "), lockModeSQL[m])
	}
	return b.String()
}

// queueRelationKinds adds relationKindsSQL for targets to b; read reads
// its answer into r.probe once the batch has run.
func (r *stepRun) queueRelationKinds(b *pgx.Batch, p scriptPlan) (read func(pgx.BatchResults) error) {
	needs := needsOf(p.stmts)
	if needs.snapshots || len(needs.targets) == 0 || p.setsParameters() {
		return func(pgx.BatchResults) error { return nil }
	}
	b.Queue(relationKindsSQL, targetNames(needs.targets))
	return func(br pgx.BatchResults) error {
		kinds, err := scanRelationKinds(br)
		if err != nil {
			return err
		}
		r.probe, r.canProbe = probeLocks(needs.targets, kinds)
		return nil
	}
}

// scanRelationKinds reads relationKindsSQL's rows from br.
func scanRelationKinds(br pgx.BatchResults) ([]relationKind, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("look up the step's tables: %w", err)
	}
	defer rows.Close()
	var out []relationKind
	for rows.Next() {
		var k relationKind
		if err := rows.Scan(&k.kind, &k.owned); err != nil {
			return nil, fmt.Errorf("look up the step's tables: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
