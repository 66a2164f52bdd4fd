package auth

import (
	"net/http"
	"sync"
)

// DefaultSpoolBudget bounds the body bytes held, across all concurrent
// requests, before their authentication completes: 256 MB.
const DefaultSpoolBudget = 256 << 20

// WithSpoolBudget sets how many body bytes, in memory and in spool files
// together, all requests still being verified may hold at once (default
// [DefaultSpoolBudget]). A request that would take more is refused with a
// 503 SlowDown before the bytes are read. Must be at least the largest
// body ([WithMaxBodyBytes]), so that any one request allowed in can fit.
//
// A body must be read whole before its hash, and so the request, is
// verified when the client does not state the hash (botocore and the Go
// SDK do not for Lambda); without a bound, anyone who knows an access key
// ID could fill the disk with concurrent uploads whose signatures are
// wrong.
func WithSpoolBudget(n int64) Option {
	return func(v *Verifier) { v.budget = &budget{limit: n} }
}

// budget counts the bytes held by requests under verification.
type budget struct {
	limit int64

	mu   sync.Mutex
	used int64 // guarded by mu
	peak int64 // guarded by mu; the most ever used, for tests
}

// take reserves n bytes, or reports false if that would exceed the limit.
func (b *budget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	b.peak = max(b.peak, b.used)
	return true
}

// give returns n bytes taken earlier.
func (b *budget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// errBusy is the refusal of a request whose body does not fit the budget.
// It is a 503 with the SlowDown code, which the AWS SDKs (Go v2, botocore,
// JavaScript v3) classify as throttling and retry with back-off; a 413
// would tell them the request can never succeed, when it is the server's
// momentary load and not the request that is too large.
func errBusy() *Error {
	return newError(TypeSlowDown, http.StatusServiceUnavailable,
		"Please reduce your request rate.", nil)
}
