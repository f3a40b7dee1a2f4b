package agentpb

import "github.com/hotswap-db/hotswap/internal/domain"

// statementSamplesFromDomain converts a sample's statements (nil stays nil).
func statementSamplesFromDomain(in []domain.StatementSample) []*StatementSample {
	if len(in) == 0 {
		return nil
	}
	out := make([]*StatementSample, len(in))
	for i, s := range in {
		out[i] = &StatementSample{Id: s.ID, Fingerprint: s.Fingerprint, Calls: s.Calls, MeanMs: s.MeanMs, SdMs: s.SDMs}
	}
	return out
}

// statementSamplesToDomain converts a wire sample's statements.
func statementSamplesToDomain(in []*StatementSample) []domain.StatementSample {
	if len(in) == 0 {
		return nil
	}
	out := make([]domain.StatementSample, len(in))
	for i, s := range in {
		out[i] = domain.StatementSample{ID: s.GetId(), Fingerprint: s.GetFingerprint(), Calls: s.GetCalls(), MeanMs: s.GetMeanMs(), SDMs: s.GetSdMs()}
	}
	return out
}

// statementBaselinesFromDomain converts a baseline's statements.
func statementBaselinesFromDomain(in []domain.StatementBaseline) []*StatementBaseline {
	if len(in) == 0 {
		return nil
	}
	out := make([]*StatementBaseline, len(in))
	for i, s := range in {
		out[i] = &StatementBaseline{Id: s.ID, Calls: s.Calls, Samples: int32(s.Samples), MeanMs: s.MeanMs, SdMs: s.SDMs, SpreadMs: s.SpreadMs}
	}
	return out
}

// statementBaselinesToDomain converts a wire guard's statements.
func statementBaselinesToDomain(in []*StatementBaseline) []domain.StatementBaseline {
	if len(in) == 0 {
		return nil
	}
	out := make([]domain.StatementBaseline, len(in))
	for i, s := range in {
		out[i] = domain.StatementBaseline{ID: s.GetId(), Calls: s.GetCalls(), Samples: int(s.GetSamples()), MeanMs: s.GetMeanMs(),
			SDMs: s.GetSdMs(), SpreadMs: s.GetSpreadMs()}
	}
	return out
}

// slowStatementsFromDomain converts a decision's slower statements.
func slowStatementsFromDomain(in []domain.SlowStatement) []*SlowStatement {
	if len(in) == 0 {
		return nil
	}
	out := make([]*SlowStatement, len(in))
	for i, s := range in {
		out[i] = &SlowStatement{Id: s.ID, Calls: s.Calls, BeforeMs: s.BeforeMs, AfterMs: s.AfterMs, LimitMs: s.LimitMs}
	}
	return out
}

// slowStatementsToDomain converts a breach's slower statements.
func slowStatementsToDomain(in []*SlowStatement) []domain.SlowStatement {
	if len(in) == 0 {
		return nil
	}
	out := make([]domain.SlowStatement, len(in))
	for i, s := range in {
		out[i] = domain.SlowStatement{ID: s.GetId(), Calls: s.GetCalls(), BeforeMs: s.GetBeforeMs(), AfterMs: s.GetAfterMs(), LimitMs: s.GetLimitMs()}
	}
	return out
}
