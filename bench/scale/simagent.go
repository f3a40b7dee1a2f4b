package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// instanceID is the one instance each simulated agent serves.
const instanceID = "pg"

// simAgent speaks the agent's side of proto/agentpb over a real gRPC
// stream: a Hello, heartbeats at the interval the server asks for, one
// batch of samples a second, and a StepResult for each ExecuteStep after
// stepDelay. It touches no database.
type simAgent struct {
	name, token, addr string
	stepDelay         time.Duration
	stats             *simStats

	sendMu sync.Mutex
	stream agentpb.AgentLink_SessionClient
}

// simStats counts what every simulated agent did.
type simStats struct {
	connected, sessions, steps, errors atomic.Int64
}

// run keeps a session until ctx ends, reconnecting after a second.
func (a *simAgent) run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := a.session(ctx); err != nil && ctx.Err() == nil {
			a.stats.errors.Add(1)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (a *simAgent) session(ctx context.Context) error {
	conn, err := grpc.NewClient(a.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+a.token)
	stream, err := agentpb.NewAgentLinkClient(conn).Session(ctx)
	if err != nil {
		return fmt.Errorf("open session: %w", err)
	}
	a.sendMu.Lock()
	a.stream = stream // the last session's ticker, ending, may send one more message here: harmless
	a.sendMu.Unlock()
	every, err := a.hello()
	if err != nil {
		return err
	}
	a.stats.sessions.Add(1)
	a.stats.connected.Add(1)
	defer a.stats.connected.Add(-1)
	go a.tick(ctx, every)
	return a.serve(ctx)
}

// hello opens the session and returns the heartbeat interval asked for.
func (a *simAgent) hello() (time.Duration, error) {
	hello := &agentpb.Hello{AgentName: a.name, AgentVersion: "bench-sim", Hostname: a.name,
		Instances: []*agentpb.InstanceStatus{a.status()}}
	if err := a.send(&agentpb.AgentMessage{Body: &agentpb.AgentMessage_Hello{Hello: hello}}); err != nil {
		return 0, fmt.Errorf("send hello: %w", err)
	}
	first, err := a.stream.Recv()
	if err != nil {
		return 0, fmt.Errorf("await welcome: %w", err)
	}
	w := first.GetWelcome()
	if w == nil {
		return 0, fmt.Errorf("first message was not a welcome: %v", first)
	}
	return time.Duration(w.GetHeartbeatIntervalMs()) * time.Millisecond, nil
}

// status is what a real agent learns by probing its instance.
func (a *simAgent) status() *agentpb.InstanceStatus {
	now := time.Now().UTC()
	pre := &domain.Preflight{CheckedAt: now}
	for _, name := range domain.PreflightChecks {
		pre.Checks = append(pre.Checks, domain.PreflightCheck{Name: name, OK: true, Detail: "simulated"})
	}
	return agentpb.FromDomain(domain.InstanceStatus{InstanceID: instanceID, Engine: domain.PostgreSQL, ServerVersion: "15.0",
		Role: domain.DetectedPrimary, SystemIdentifier: "sim-" + a.name, Reachable: true, ActiveConnections: 5,
		CheckedAt: now, Preflight: pre})
}

func (a *simAgent) send(m *agentpb.AgentMessage) error {
	a.sendMu.Lock()
	defer a.sendMu.Unlock()
	return a.stream.Send(m)
}

// tick sends heartbeats every interval and samples every second.
func (a *simAgent) tick(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 2 * time.Second
	}
	hb, samples := time.NewTicker(every), time.NewTicker(time.Second)
	defer hb.Stop()
	defer samples.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hb.C:
			_ = a.send(&agentpb.AgentMessage{Body: &agentpb.AgentMessage_Heartbeat{Heartbeat: &agentpb.Heartbeat{
				SentUnixMs: time.Now().UnixMilli(), Instances: []*agentpb.InstanceStatus{a.status()}}}})
		case <-samples.C:
			_ = a.send(&agentpb.AgentMessage{Body: &agentpb.AgentMessage_Samples{Samples: &agentpb.Samples{
				Samples: []*agentpb.Sample{sample()}}}})
		}
	}
}

// sample is a steady reading of a healthy instance: no guard is crossed.
func sample() *agentpb.Sample {
	lat := 1 + rand.Float64()*0.1
	return &agentpb.Sample{InstanceId: instanceID, AtUnixMs: time.Now().UnixMilli(), IntervalMs: 1000,
		AvgLatencyMs: lat, P95LatencyMs: 2 * lat, P99LatencyMs: 3 * lat, Calls: 200, Tps: 200,
		ActiveConnections: 5, ActiveSessions: 1, CpuPercent: 10}
}

// serve answers the server's messages until the stream ends.
func (a *simAgent) serve(ctx context.Context) error {
	for {
		m, err := a.stream.Recv()
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		switch {
		case m.GetExecute() != nil:
			go a.execute(ctx, m.GetExecute())
		case m.GetHistory() != nil:
			_ = a.send(&agentpb.AgentMessage{Body: &agentpb.AgentMessage_History{History: &agentpb.HistoryResponse{
				RequestId: m.GetHistory().GetRequestId()}}})
		case m.GetInspect() != nil:
			_ = a.send(&agentpb.AgentMessage{Body: &agentpb.AgentMessage_Inspect{Inspect: &agentpb.InspectResponse{
				RequestId: m.GetInspect().GetRequestId(), FreeDiskBytes: -1}}})
		case m.GetRedirect() != nil:
			return fmt.Errorf("redirected to %s", m.GetRedirect().GetLeaderRpcAddr())
		}
	}
}

// execute answers a step with success after the step delay, as if its
// one statement ran that long.
func (a *simAgent) execute(ctx context.Context, st *agentpb.ExecuteStep) {
	start := time.Now()
	select {
	case <-ctx.Done():
		return
	case <-time.After(a.stepDelay):
	}
	a.stats.steps.Add(1)
	res := &agentpb.StepResult{ExecutionId: st.GetExecutionId(), StepId: st.GetStepId(), Attempt: st.GetAttempt(),
		Transactional: true, Statements: []*agentpb.StatementResult{{Index: 0, Sql: st.GetScript(),
			StartedUnixMs: start.UnixMilli(), DurationMs: float64(a.stepDelay.Milliseconds()), Attempts: 1}}}
	_ = a.send(&agentpb.AgentMessage{Body: &agentpb.AgentMessage_StepResult{StepResult: res}})
}
