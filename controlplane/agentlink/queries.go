package agentlink

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// queries matches agents' answers to the requests waiting for them.
type queries struct {
	mu      sync.Mutex
	waiting map[string]chan *agentpb.HistoryResponse
}

func newQueries() *queries {
	return &queries{waiting: map[string]chan *agentpb.HistoryResponse{}}
}

func (q *queries) register(id string) chan *agentpb.HistoryResponse {
	ch := make(chan *agentpb.HistoryResponse, 1)
	q.mu.Lock()
	q.waiting[id] = ch
	q.mu.Unlock()
	return ch
}

func (q *queries) forget(id string) {
	q.mu.Lock()
	delete(q.waiting, id)
	q.mu.Unlock()
}

func (q *queries) answer(id string, resp *agentpb.HistoryResponse) {
	q.mu.Lock()
	ch, ok := q.waiting[id]
	delete(q.waiting, id)
	q.mu.Unlock()
	if ok {
		ch <- resp
	}
}

// History asks an agent for an instance's history table and waits for the
// answer or ctx's end.
func (s *Server) History(ctx context.Context, agent, instance string) ([]domain.HistoryRow, error) {
	resp, err := s.askHistory(ctx, agent, instance, false)
	if err != nil {
		return nil, err
	}
	return historyRows(resp), nil
}

// HistoryAndDrift asks an agent for an instance's history table and for
// what changed out of band in its schema. driftErr says why the schema
// could not be compared (the history may still be read).
func (s *Server) HistoryAndDrift(ctx context.Context, agent, instance string) ([]domain.HistoryRow, []domain.SchemaDrift, string, error) {
	resp, err := s.askHistory(ctx, agent, instance, true)
	if err != nil {
		return nil, nil, "", err
	}
	var drift []domain.SchemaDrift
	for _, d := range resp.GetSchemaDrift() {
		drift = append(drift, agentpb.SchemaDriftToDomain(d))
	}
	return historyRows(resp), drift, resp.GetSchemaDriftError(), nil
}

// askHistory sends a history request and waits for its answer.
func (s *Server) askHistory(ctx context.Context, agent, instance string, drift bool) (*agentpb.HistoryResponse, error) {
	id := uuid.NewString()
	ch := s.queries.register(id)
	defer s.queries.forget(id)
	err := s.Send(agent, &agentpb.ServerMessage{Body: &agentpb.ServerMessage_History{
		History: &agentpb.HistoryRequest{RequestId: id, InstanceId: instance, SchemaDrift: drift}}})
	if err != nil {
		return nil, err
	}
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("history of %s/%s: %w", agent, instance, ctx.Err())
	case resp := <-ch:
		if resp.GetError() != "" {
			return nil, errors.New(resp.GetError())
		}
		return resp, nil
	}
}

// historyRows converts a response's rows.
func historyRows(resp *agentpb.HistoryResponse) []domain.HistoryRow {
	rows := make([]domain.HistoryRow, 0, len(resp.GetRows()))
	for _, r := range resp.GetRows() {
		rows = append(rows, agentpb.HistoryToDomain(r))
	}
	return rows
}
