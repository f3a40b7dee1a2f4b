package fsm

import (
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// watchLine opens a step's monitor window in the log. After a BlueGreen
// switch it names the instance watched (the one the traffic went to) and
// the baseline it is judged against: the other's, under the same traffic.
func watchLine(e *domain.Execution, st *domain.Step, at time.Time) domain.LogEntry {
	secs := e.Monitoring.MonitorWindowSeconds
	b := st.Baseline
	if st.Kind != domain.StepSwitch || e.BlueGreen == nil || b == nil || b.Source == "" {
		return logAt(at, "info", "watching %s/%s for %ds before going on", st.Agent, st.InstanceID, secs)
	}
	to, from := e.BlueGreen.Green, "blue"
	if st.SwitchTo != "green" {
		to, from = e.BlueGreen.Blue, "green"
	}
	line := logAt(at, "info", "watching %s %s for %ds before going on, against %s %s's baseline under the same traffic before the switch (%s)",
		st.SwitchTo, refName(to), secs, from, b.Source, b.Summary())
	if b.LatencyNotArmed != "" {
		line.Message += "; latency rule not armed: " + b.LatencyNotArmed
		line.Level = "warn"
	}
	return line
}

// followTraffic moves the database's roles to follow a BlueGreen
// execution's traffic, in the Raft entry that ends it (whichever command
// that is), so no reader ever sees the execution ended and the roles of
// before. When the forward run succeeds (the pooler sends the clients to
// green), green becomes the Master and blue takes green's former role: the
// fallback, to re-seed before it is named the next green. When the rollback
// of a succeeded switch ends RolledBack (the clients are back on blue), the
// roles of before come back. It returns the log lines saying so.
func (s *State) followTraffic(e domain.Execution) []domain.LogEntry {
	db, ok := s.databases[e.DatabaseID]
	if !ok {
		return nil // deleted meanwhile: nothing to move
	}
	bg := *e.BlueGreen
	var line domain.LogEntry
	switch {
	case e.Status == domain.ExecutionSucceeded && !e.RollingBack:
		if !setRoles(&db, bg.Green, bg.Blue, greenRole(bg)) {
			return nil
		}
		line = logAt(e.CompletedAt, "info", "roles follow the traffic: green %s is now the Master of %s; blue %s is %s, "+
			"the fallback: re-seed it from green before naming it the next green (a switch back loses what was written to green)",
			refName(bg.Green), db.Name, refName(bg.Blue), greenRole(bg))
	case e.Status == domain.ExecutionRolledBack && isMaster(db, bg.Green):
		if !setRoles(&db, bg.Blue, bg.Green, greenRole(bg)) {
			return nil
		}
		line = logAt(e.CompletedAt, "info", "roles restored: blue %s serves %s again as its Master; green %s is %s",
			refName(bg.Blue), db.Name, refName(bg.Green), greenRole(bg))
	default:
		return nil
	}
	db.UpdatedAt = e.CompletedAt
	s.databases[db.DatabaseID] = db
	return []domain.LogEntry{line}
}

// greenRole is the role green had before its first switch (AsyncReplica
// when the registration did not say).
func greenRole(bg domain.BlueGreenSpec) domain.InstanceRole {
	if bg.Green.Role == "" || bg.Green.Role == domain.RoleMaster {
		return domain.RoleAsyncReplica
	}
	return bg.Green.Role
}

// setRoles makes master the Master and gives other role; false when either
// is no longer registered in db.
func setRoles(db *domain.Database, master, other domain.InstanceRef, role domain.InstanceRole) bool {
	mi, oi := indexOf(*db, master), indexOf(*db, other)
	if mi < 0 || oi < 0 {
		return false
	}
	ins := append([]domain.InstanceRef(nil), db.Instances...)
	ins[mi].Role, ins[oi].Role = domain.RoleMaster, role
	db.Instances = ins
	return true
}

func indexOf(db domain.Database, ref domain.InstanceRef) int {
	for i, in := range db.Instances {
		if in.Agent == ref.Agent && in.InstanceID == ref.InstanceID {
			return i
		}
	}
	return -1
}

func isMaster(db domain.Database, ref domain.InstanceRef) bool {
	i := indexOf(db, ref)
	return i >= 0 && db.Instances[i].Role == domain.RoleMaster
}

func refName(r domain.InstanceRef) string { return r.Agent + "/" + r.InstanceID }
