package agentpb

import (
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// FromDomain converts an instance status to its wire form.
func FromDomain(s domain.InstanceStatus) *InstanceStatus {
	out := &InstanceStatus{
		InstanceId: s.InstanceID, Engine: string(s.Engine), ServerVersion: s.ServerVersion, Role: string(s.Role),
		Reachable: s.Reachable, Error: s.Error, ActiveConnections: int32(s.ActiveConnections),
		ReplicationLagSeconds: s.ReplicationLagSeconds, CheckedUnixMs: s.CheckedAt.UnixMilli(),
		SystemIdentifier: s.SystemIdentifier,
	}
	for _, l := range s.Links {
		out.Links = append(out.Links, &ReplicationLink{Direction: l.Direction, Kind: l.Kind, Peer: l.Peer,
			State: l.State, LagSeconds: l.LagSeconds, Name: l.Name})
	}
	return out
}

// ToDomain converts a wire instance status to the domain type.
func ToDomain(s *InstanceStatus) domain.InstanceStatus {
	out := domain.InstanceStatus{
		InstanceID: s.GetInstanceId(), Engine: domain.DatabaseType(s.GetEngine()), ServerVersion: s.GetServerVersion(),
		Role: domain.DetectedRole(s.GetRole()), Reachable: s.GetReachable(), Error: s.GetError(),
		ActiveConnections: int(s.GetActiveConnections()), ReplicationLagSeconds: s.GetReplicationLagSeconds(),
		SystemIdentifier: s.GetSystemIdentifier(),
	}
	if ms := s.GetCheckedUnixMs(); ms > 0 {
		out.CheckedAt = time.UnixMilli(ms).UTC()
	}
	for _, l := range s.GetLinks() {
		out.Links = append(out.Links, domain.ReplicationLink{Direction: l.GetDirection(), Kind: l.GetKind(),
			Peer: l.GetPeer(), State: l.GetState(), LagSeconds: l.GetLagSeconds(), Name: l.GetName()})
	}
	return out
}

// ToDomainList converts a list of wire instance statuses.
func ToDomainList(in []*InstanceStatus) []domain.InstanceStatus {
	out := make([]domain.InstanceStatus, 0, len(in))
	for _, s := range in {
		out = append(out, ToDomain(s))
	}
	return out
}
