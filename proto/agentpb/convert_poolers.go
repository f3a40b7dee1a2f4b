package agentpb

// PoolerTargetsToDomain turns a Hello's pooler targets into
// domain.Agent.PoolerTargets: nil when the agent reports none (an agent
// older than them).
func PoolerTargetsToDomain(in []*PoolerTargets) map[string][]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string][]string, len(in))
	for _, p := range in {
		out[p.GetPoolerId()] = append([]string{}, p.GetInstanceIds()...)
	}
	return out
}
