package pool

import (
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/lambdaerr"
)

// recordingObserver records the pool's Observer calls.
type recordingObserver struct {
	mu          sync.Mutex
	coldStarts  []string        // "function version"
	inits       []time.Duration // init duration of each cold start
	concurrency []string        // "function=busy"
}

func (o *recordingObserver) ColdStart(function, version string, init time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.coldStarts = append(o.coldStarts, function+" "+version)
	o.inits = append(o.inits, init)
}

func (o *recordingObserver) Concurrency(function string, busy int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.concurrency = append(o.concurrency, function+"="+itoa(busy))
}

func (o *recordingObserver) snapshot() (cold []string, inits []time.Duration, conc []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.coldStarts), slices.Clone(o.inits), slices.Clone(o.concurrency)
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// barePool is a Pool with no sandbox, code or janitor, enough for the
// admission logic, which starts no process.
func barePool(maxEnvs int, obs Observer) *Pool {
	return &Pool{
		cfg:      Config{MaxEnvironments: maxEnvs},
		deps:     Deps{Observer: obs},
		logger:   slog.New(slog.DiscardHandler),
		versions: make(map[envKey]*versionPool),
		busyByFn: make(map[string]int),
		stop:     make(chan struct{}),
	}
}

func key(function string) envKey { return envKey{function, "$LATEST", "rev-1"} }

// admit acquires a slot for function and registers its release.
func admit(t *testing.T, p *Pool, function string, reserved *int) {
	t.Helper()
	e, err := p.acquire(key(function), reserved)
	if err != nil {
		t.Fatalf("acquire(%s): %v", function, err)
	}
	if e != nil {
		t.Fatalf("acquire(%s) returned an idle environment from an empty pool", function)
	}
}

// release gives back one slot of function taken by admit.
func release(p *Pool, function string) {
	p.releaseSlot(function)
	p.inflight.Done()
}

func wantThrottle(t *testing.T, err error, reason string) {
	t.Helper()
	le, ok := lambdaerr.As(err)
	if !ok {
		t.Fatalf("error = %v, want TooManyRequestsException", err)
	}
	if le.Type != lambdaerr.TypeTooManyRequests || le.Status != 429 || le.Reason != reason || le.Message != "Rate Exceeded." || le.RetryAfterSeconds != 1 {
		t.Fatalf("error = %+v, want 429 TooManyRequestsException %s \"Rate Exceeded.\" retry after 1", le, reason)
	}
}

func ptr(n int) *int { return &n }

func TestAcquireAdmission(t *testing.T) {
	const (
		reservedReason = lambdaerr.ReasonReservedFunctionConcurrentInvocationLimitExceeded
		accountReason  = lambdaerr.ReasonConcurrentInvocationLimitExceeded
	)
	type call struct {
		function string
		reserved *int
		reason   string // "" means admitted
	}
	tests := []struct {
		name    string
		maxEnvs int
		calls   []call
	}{
		{
			name: "a reservation of zero throttles every call", maxEnvs: 10,
			calls: []call{{"fn", ptr(0), reservedReason}, {"fn", ptr(0), reservedReason}},
		},
		{
			name: "a reservation of two admits two calls and throttles the third", maxEnvs: 10,
			calls: []call{{"fn", ptr(2), ""}, {"fn", ptr(2), ""}, {"fn", ptr(2), reservedReason}},
		},
		{
			name: "one function's reservation does not limit another", maxEnvs: 10,
			calls: []call{{"a", ptr(1), ""}, {"a", ptr(1), reservedReason}, {"b", nil, ""}, {"b", ptr(2), ""}},
		},
		{
			name: "the account limit counts every function", maxEnvs: 2,
			calls: []call{{"a", nil, ""}, {"b", nil, ""}, {"c", nil, accountReason}, {"a", nil, accountReason}},
		},
		{
			name: "a function below its reservation is still held to the account limit", maxEnvs: 1,
			calls: []call{{"a", nil, ""}, {"b", ptr(5), accountReason}},
		},
		{
			name: "the reservation is checked before the account limit", maxEnvs: 1,
			calls: []call{{"a", ptr(1), ""}, {"a", ptr(1), reservedReason}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := barePool(tc.maxEnvs, nil)
			admitted := map[string]int{}
			for i, c := range tc.calls {
				before := p.Stats()
				e, err := p.acquire(key(c.function), c.reserved)
				if c.reason == "" {
					if err != nil || e != nil {
						t.Fatalf("call %d (%s): acquire = %v, %v; want admitted", i, c.function, e, err)
					}
					admitted[c.function]++
					continue
				}
				wantThrottle(t, err, c.reason)
				if after := p.Stats(); after != before {
					t.Errorf("call %d: a throttle changed the counts from %+v to %+v", i, before, after)
				}
			}
			total := 0
			for fn, n := range admitted {
				if got := p.busyByFn[fn]; got != n {
					t.Errorf("busy of %s = %d, want %d", fn, got, n)
				}
				total += n
			}
			if got := p.Stats().Busy; got != total {
				t.Errorf("Stats().Busy = %d, want %d", got, total)
			}
			for fn, n := range admitted {
				for range n {
					release(p, fn)
				}
			}
			if s := p.Stats(); s != (Stats{}) || len(p.busyByFn) != 0 {
				t.Errorf("after every release: Stats %+v, busyByFn %v; want all zero and empty", s, p.busyByFn)
			}
		})
	}
}

func TestReleaseFreesTheSlotForTheNextCall(t *testing.T) {
	p := barePool(1, nil)
	admit(t, p, "fn", ptr(1))
	_, err := p.acquire(key("fn"), ptr(1))
	wantThrottle(t, err, lambdaerr.ReasonReservedFunctionConcurrentInvocationLimitExceeded)
	release(p, "fn")
	admit(t, p, "fn", ptr(1))
	release(p, "fn")
}

func TestAcquireOnAClosedPoolIsRefused(t *testing.T) {
	p := barePool(10, nil)
	p.closed = true
	_, err := p.acquire(key("fn"), nil)
	le, ok := lambdaerr.As(err)
	if !ok || le.Type != lambdaerr.TypeServiceUnavailable || le.Status != 503 || le.Message != "The server is shutting down." {
		t.Fatalf("acquire on a closed pool = %v, want 503 ServiceUnavailableException", err)
	}
	if s := p.Stats(); s != (Stats{}) {
		t.Errorf("a refused call changed the counts: %+v", s)
	}
}

func TestAcquireAndReleaseReportConcurrency(t *testing.T) {
	obs := &recordingObserver{}
	p := barePool(10, obs)
	admit(t, p, "a", nil)
	admit(t, p, "a", nil)
	admit(t, p, "b", nil)
	_, err := p.acquire(key("a"), ptr(2)) // throttled: reported as nothing
	wantThrottle(t, err, lambdaerr.ReasonReservedFunctionConcurrentInvocationLimitExceeded)
	release(p, "a")
	release(p, "b")
	release(p, "a")
	_, _, conc := obs.snapshot()
	want := []string{"a=1", "a=2", "b=1", "a=1", "b=0", "a=0"}
	if !slices.Equal(conc, want) {
		t.Errorf("Concurrency calls = %q, want %q", conc, want)
	}
}
