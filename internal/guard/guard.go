// Package guard decides from an instance's samples whether a rollout must
// roll back (latency, lock waits, CPU) or pause (replication lag). The
// agent runs it next to the DDL so it can cancel at once; the leader runs it
// for the rules that span instances. A short confirmation keeps one noisy
// sample from deciding.
//
// The latency rule judges the application, not the average: each
// significant statement of the baseline window is compared with its own
// baseline, and the rule decides when the statements that got slower cost
// the application more than the latency factor allows, at today's mix of
// calls. New and rare statements, the agent's own (left out by the
// sampler) and a change in the mix do not count. A baseline window with too
// little traffic leaves the rule not armed, and says why.
package guard
