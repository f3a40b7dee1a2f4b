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
	id := uuid.NewString()
	ch := s.queries.register(id)
	defer s.queries.forget(id)
	err := s.Send(agent, &agentpb.ServerMessage{Body: &agentpb.ServerMessage_History{
		History: &agentpb.HistoryRequest{RequestId: id, InstanceId: instance}}})
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
		rows := make([]domain.HistoryRow, 0, len(resp.GetRows()))
		for _, r := range resp.GetRows() {
			rows = append(rows, agentpb.HistoryToDomain(r))
		}
		return rows, nil
	}
}
