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

// queries matches agents' answers of one kind to the requests waiting for
// them.
type queries[T any] struct {
	mu      sync.Mutex
	waiting map[string]chan T
}

func newQueries[T any]() *queries[T] {
	return &queries[T]{waiting: map[string]chan T{}}
}

func (q *queries[T]) register(id string) chan T {
	ch := make(chan T, 1)
	q.mu.Lock()
	q.waiting[id] = ch
	q.mu.Unlock()
	return ch
}

func (q *queries[T]) forget(id string) {
	q.mu.Lock()
	delete(q.waiting, id)
	q.mu.Unlock()
}

func (q *queries[T]) answer(id string, resp T) {
	q.mu.Lock()
	ch, ok := q.waiting[id]
	delete(q.waiting, id)
	q.mu.Unlock()
	if ok {
		ch <- resp
	}
}

// ask sends the message build makes for a new request id to agent, and
// waits for the answer with that id or ctx's end.
func ask[T any](ctx context.Context, s *Server, q *queries[T], agent string, build func(id string) *agentpb.ServerMessage) (T, error) {
	var zero T
	id := uuid.NewString()
	ch := q.register(id)
	defer q.forget(id)
	if err := s.Send(agent, build(id)); err != nil {
		return zero, err
	}
	select {
	case <-ctx.Done():
		return zero, ctx.Err()
	case resp := <-ch:
		return resp, nil
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
// what changed out of band in its schema. The string says why the schema
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
	resp, err := ask(ctx, s, s.queries, agent, func(id string) *agentpb.ServerMessage {
		return &agentpb.ServerMessage{Body: &agentpb.ServerMessage_History{
			History: &agentpb.HistoryRequest{RequestId: id, InstanceId: instance, SchemaDrift: drift}}}
	})
	if err != nil {
		return nil, fmt.Errorf("history of %s/%s: %w", agent, instance, err)
	}
	if resp.GetError() != "" {
		return nil, errors.New(resp.GetError())
	}
	return resp, nil
}

// historyRows converts a response's rows.
func historyRows(resp *agentpb.HistoryResponse) []domain.HistoryRow {
	rows := make([]domain.HistoryRow, 0, len(resp.GetRows()))
	for _, r := range resp.GetRows() {
		rows = append(rows, agentpb.HistoryToDomain(r))
	}
	return rows
}

// Inspect asks an agent to look relations up in an instance's catalog and
// waits for the answer or ctx's end.
func (s *Server) Inspect(ctx context.Context, agent, instance string, req domain.CatalogRequest) (domain.CatalogFacts, error) {
	resp, err := ask(ctx, s, s.inspects, agent, func(id string) *agentpb.ServerMessage {
		return &agentpb.ServerMessage{Body: &agentpb.ServerMessage_Inspect{
			Inspect: agentpb.CatalogRequestFromDomain(id, instance, req)}}
	})
	if err != nil {
		return domain.CatalogFacts{}, fmt.Errorf("catalog of %s/%s: %w", agent, instance, err)
	}
	if resp.GetError() != "" {
		return domain.CatalogFacts{}, fmt.Errorf("catalog of %s/%s: %s", agent, instance, resp.GetError())
	}
	return agentpb.CatalogFactsToDomain(resp), nil
}
