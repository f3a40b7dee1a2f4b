package dialect

import "errors"

// ErrStaleToken means a step carried a fencing token older than one the
// instance has already recorded in its history: the request comes from a
// control plane leader that has since been superseded, and nothing was run.
var ErrStaleToken = errors.New("dialect: stale fencing token")
