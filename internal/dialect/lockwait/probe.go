package lockwait

import "context"

// Prober is the optional Queue hook of an engine whose attempt can ask for
// the statements' locks without waiting (PostgreSQL: LOCK TABLE ...
// NOWAIT): such a probe fails at once, with the engine's lock timeout
// error, when another session holds or waits for a conflicting lock, and
// otherwise runs as any attempt. With it the policy makes its first attempt
// a probe instead of looking at the holders first: most of the time nobody
// holds the tables, and on a fresh session the look is the costliest
// statement of a step. The probe never enters the lock queue, so it costs
// the application nothing; when it finds the tables taken, the policy
// looks and picks its moment as it would have.
type Prober interface {
	// CanProbe reports whether the attempt can ask for every lock the
	// statements need of other sessions without waiting.
	CanProbe() bool
}

// probeKey marks a probe attempt's context.
type probeKey struct{}

// Probing reports whether the attempt running with ctx is the policy's
// probe: it must ask for its locks without waiting.
func Probing(ctx context.Context) bool {
	probe, _ := ctx.Value(probeKey{}).(bool)
	return probe
}

// probeFirst makes the probe attempt when q offers it. It returns done
// when the probe ended the step (success, or an error other than finding
// the locks taken), with attempt's error; tried says a probe was made.
func (p *Policy) probeFirst(ctx context.Context, q Queue, attempt func(ctx context.Context, n int) error) (tried, done bool, err error) {
	pr, ok := q.(Prober)
	if !ok || !pr.CanProbe() {
		return false, false, nil
	}
	err = p.traced(context.WithValue(ctx, probeKey{}, true), 1, attempt)
	if ctx.Err() != nil || !p.Session.IsLockTimeout(err) {
		return true, true, err
	}
	p.emit("info", "attempt 1 found the tables locked by another session and did not queue: looking at who holds them", "")
	return true, false, nil
}
