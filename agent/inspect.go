package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// inspectTimeout bounds a catalog look-up, write-rate window included.
const inspectTimeout = 30 * time.Second

// handleInspect answers a catalog look-up with the instance's engine, when
// it can inspect its catalog.
func (a *Agent) handleInspect(ctx context.Context, m *agentpb.InspectRequest) {
	resp, err := a.inspect(ctx, m)
	if err != nil {
		resp = &agentpb.InspectResponse{Error: a.scrub(err.Error())}
	}
	resp.RequestId = m.GetRequestId()
	a.send(&agentpb.AgentMessage{Body: &agentpb.AgentMessage_Inspect{Inspect: resp}})
}

func (a *Agent) inspect(ctx context.Context, m *agentpb.InspectRequest) (*agentpb.InspectResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, inspectTimeout)
	defer cancel()
	in, ok := a.instance(m.GetInstanceId())
	if !ok {
		return nil, fmt.Errorf("this agent has no instance %q", m.GetInstanceId())
	}
	conn, err := a.conn(ctx, in)
	if err != nil {
		return nil, err
	}
	insp, ok := conn.(dialect.Inspector)
	if !ok {
		return nil, fmt.Errorf("engine %s cannot inspect its catalog", in.Engine)
	}
	facts, err := insp.Inspect(ctx, agentpb.CatalogRequestToDomain(m))
	if err != nil {
		return nil, err
	}
	return agentpb.CatalogFactsFromDomain(m.GetRequestId(), facts), nil
}
