package fsm

import (
	"fmt"
	"slices"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// CreateFleetWaveRequest creates, in one entry, the executions of one wave
// of a fleet rollout (one per database) and records them on the rollout.
// Start names the children to start at once, each taking its database's
// lock when it is free (the others wait, queued); the Raft index of this
// entry is their fencing token.
type CreateFleetWaveRequest struct {
	ParentID string
	Wave     int
	Children []domain.Execution
	Start    []string `json:",omitempty"`
	At       time.Time
}

// PhaseDoneRequest records that a phase (a fleet rollout's wave) ended
// well on every database: the rollout goes on to the next wave, or, after
// the last, succeeds.
type PhaseDoneRequest struct {
	ExecutionID string
	Phase       int
	At          time.Time
}

// Type implements Command.
func (CreateFleetWaveRequest) Type() MessageType { return CreateFleetWaveType }

// Type implements Command.
func (PhaseDoneRequest) Type() MessageType { return PhaseDoneType }

func (s *State) applyCreateFleetWave(r CreateFleetWaveRequest) error {
	p, err := s.mutable(r.ParentID)
	if err != nil {
		return err
	}
	if err := s.checkWave(p, r); err != nil {
		return err
	}
	for _, c := range r.Children {
		c.Version = s.index
		s.executions[c.ExecutionID] = c
		p.Fleet.Children[c.DatabaseID] = c.ExecutionID
	}
	started := 0
	for _, id := range r.Start {
		if s.startLocked(id, r.At) == nil {
			started++
		}
	}
	p.CurrentPhase = fmt.Sprintf("wave %d", r.Wave+1)
	s.put(p, logAt(r.At, "info", "wave %d: %d execution(s) created, %d started", r.Wave+1, len(r.Children), started))
	return nil
}

// checkWave refuses the whole wave when the rollout is not creating it, or
// when any child could not be created on its own: a wave is created whole
// or not at all.
func (s *State) checkWave(p domain.Execution, r CreateFleetWaveRequest) error {
	switch {
	case p.Fleet == nil:
		return conflict("execution %s is not a fleet rollout", p.ExecutionID)
	case p.Status.Terminal() || p.RollbackRequested || p.RollingBack:
		return conflict("fleet rollout %s is %s (rollback requested: %v): it creates no wave", p.ExecutionID, p.Status, p.RollbackRequested)
	case p.Fleet.Wave != r.Wave:
		return conflict("fleet rollout %s is in wave %d, not %d", p.ExecutionID, p.Fleet.Wave+1, r.Wave+1)
	}
	seen := map[string]bool{}
	for _, c := range r.Children {
		switch {
		case c.ParentID != p.ExecutionID || c.MigrationID != p.MigrationID:
			return conflict("execution %s is not a child of fleet rollout %s", c.ExecutionID, p.ExecutionID)
		case !slices.Contains(p.Fleet.Waves[r.Wave], c.DatabaseID):
			return conflict("database %s is not in wave %d", c.DatabaseID, r.Wave+1)
		case seen[c.DatabaseID] || p.Fleet.Children[c.DatabaseID] != "":
			return conflict("database %s already has its execution in this rollout", c.DatabaseID)
		case c.Status != domain.ExecutionPending:
			return conflict("execution %s is created Pending, not %s", c.ExecutionID, c.Status)
		}
		seen[c.DatabaseID] = true
		if err := s.checkCreate(c); err != nil {
			return fmt.Errorf("database %s: %w", c.DatabaseID, err)
		}
	}
	return nil
}

func (s *State) applyPhaseDone(r PhaseDoneRequest) error {
	e, err := s.mutable(r.ExecutionID)
	if err != nil {
		return err
	}
	switch {
	case e.Fleet == nil:
		return conflict("execution %s is not a fleet rollout: its phases end with their steps", e.ExecutionID)
	case e.Status != domain.ExecutionRunning || e.RollbackRequested:
		return conflict("fleet rollout %s is %s (rollback requested: %v): no wave ends", e.ExecutionID, e.Status, e.RollbackRequested)
	case e.Fleet.Wave != r.Phase:
		return conflict("fleet rollout %s is in wave %d, not %d", e.ExecutionID, e.Fleet.Wave+1, r.Phase+1)
	}
	if err := s.checkWaveSucceeded(e); err != nil {
		return err
	}
	if e.Fleet.Wave+1 < len(e.Fleet.Waves) {
		e.Fleet.Wave++
		s.put(e, logAt(r.At, "info", "wave %d succeeded on every database; starting wave %d", e.Fleet.Wave, e.Fleet.Wave+1))
		return nil
	}
	e.Status, e.CompletedAt, e.CurrentPhase = domain.ExecutionSucceeded, r.At, ""
	s.put(e, logAt(r.At, "info", "every wave succeeded: execution Succeeded"))
	return nil
}
