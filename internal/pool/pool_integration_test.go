package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/fnlog"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/registry"
	"github.com/updraft/updraft/internal/sandbox"
	"github.com/updraft/updraft/internal/testutil"
)

// These tests run real functions in basic isolation (sandbox.Config
// ForceBasic), which needs neither root nor cgroups.

// buildCodeDir builds the Go main package pkg (relative to the module root)
// as bootstrap in a new code directory. The directory is 0755 so that a
// full-mode sandbox (uid 65534) could read it too.
func buildCodeDir(t *testing.T, pkg string) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is needed to build the test function")
	}
	dir, err := os.MkdirTemp("", "pool-code-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = testutil.ModuleRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// memSink records function log records in memory.
type memSink struct {
	mu   sync.Mutex
	recs []fnlog.Record
}

func (s *memSink) Publish(rec fnlog.Record) {
	s.mu.Lock()
	s.recs = append(s.recs, rec)
	s.mu.Unlock()
}

// lines returns the messages logged for requestID.
func (s *memSink) lines(requestID string) []fnlog.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []fnlog.Record
	for _, r := range s.recs {
		if r.RequestID == requestID {
			out = append(out, r)
		}
	}
	return out
}

// fakeCode serves code directories by sha. A sha listed in gates blocks
// CodeDir until its gate is closed, announcing itself on entered first.
// It counts the directories handed out and not yet released.
type fakeCode struct {
	dirs    map[string]string
	gates   map[string]chan struct{}
	entered chan string
	opt     string // the merged layers directory every version gets

	mu   sync.Mutex
	held map[string]int // guarded by mu
}

func (c *fakeCode) OptDir(context.Context, *registry.Version) (string, error) {
	if c.opt != "" {
		c.hold(c.opt, 1)
	}
	return c.opt, nil
}

func (c *fakeCode) ReleaseDir(dir string) { c.hold(dir, -1) }

func (c *fakeCode) hold(dir string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held == nil {
		c.held = make(map[string]int)
	}
	c.held[dir] += n
}

// holders returns how many holders dir has.
func (c *fakeCode) holders(dir string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held[dir]
}

func (c *fakeCode) CodeDir(ctx context.Context, sha string) (string, error) {
	if g, ok := c.gates[sha]; ok {
		c.entered <- sha
		select {
		case <-g:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	dir, ok := c.dirs[sha]
	if !ok {
		return "", fmt.Errorf("no code %s", sha)
	}
	c.hold(dir, 1)
	return dir, nil
}

type harness struct {
	pool *Pool
	code *fakeCode
	logs *memSink
	obs  *recordingObserver
}

// newHarness starts a pool over a basic-mode sandbox whose code source
// serves the echo function as sha "echo".
func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real function processes")
	}
	dir := buildCodeDir(t, "./bench/echofn")
	logger := slog.New(slog.DiscardHandler)
	sb, err := sandbox.New(sandbox.Config{ForceBasic: true}, logger)
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	h := &harness{
		code: &fakeCode{dirs: map[string]string{"echo": dir}, gates: map[string]chan struct{}{}, entered: make(chan string, 8)},
		logs: &memSink{},
		obs:  &recordingObserver{},
	}
	if cfg.TmpRoot == "" {
		cfg.TmpRoot = t.TempDir()
	}
	cfg.Region = "us-east-1"
	h.pool, err = New(cfg, Deps{Logger: logger, Sandbox: sb, Code: h.code, Logs: h.logs, Observer: h.obs})
	if err != nil {
		t.Fatalf("pool.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := h.pool.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

func version(function, sha, revision string) *registry.Version {
	return &registry.Version{
		FunctionName:  function,
		FunctionARN:   "arn:aws:lambda:us-east-1:000000000000:function:" + function,
		Version:       "$LATEST",
		Runtime:       "provided.al2023",
		Handler:       "bootstrap",
		Timeout:       30 * time.Second,
		MemoryMB:      512,
		EphemeralMB:   512,
		CodeSha256Hex: sha,
		RevisionID:    revision,
	}
}

var reqSeq struct {
	sync.Mutex
	n int
}

func newRequest(v *registry.Version, payload string) *Request {
	reqSeq.Lock()
	reqSeq.n++
	n := reqSeq.n
	reqSeq.Unlock()
	return &Request{
		Version:    v,
		RequestID:  fmt.Sprintf("00000000-0000-0000-0000-%012d", n),
		Payload:    []byte(payload),
		InvokedARN: v.FunctionARN,
	}
}

// mustInvoke runs req and fails unless the function answered without error.
func (h *harness) mustInvoke(t *testing.T, req *Request) *Result {
	t.Helper()
	res, err := h.pool.Invoke(t.Context(), req)
	if err != nil {
		t.Fatalf("Invoke %s: %v", req.RequestID, err)
	}
	if res.FunctionError != "" || string(res.Payload) != string(req.Payload) {
		t.Fatalf("Invoke %s = %s (error %q %s), want the echo %s", req.RequestID, res.Payload, res.FunctionError, res.ErrorType, req.Payload)
	}
	return res
}

// envs returns the environments of function, idle or busy.
func (h *harness) envs(function string) []*env {
	h.pool.mu.Lock()
	defer h.pool.mu.Unlock()
	var out []*env
	for k, vp := range h.pool.versions {
		if k.function == function {
			for e := range vp.all {
				out = append(out, e)
			}
		}
	}
	return out
}

// describe renders a Result for failure messages.
func describe(r *Result) string {
	if r == nil {
		return "no result"
	}
	return fmt.Sprintf("payload %s, function error %q %s, init %v, tail %q", r.Payload, r.FunctionError, r.ErrorType, r.InitDuration, r.LogTail)
}

func wantStats(t *testing.T, p *Pool, want Stats) {
	t.Helper()
	if got := p.Stats(); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}

// wantDestroyed fails unless e was destroyed and its process has exited.
func wantDestroyed(t *testing.T, e *env) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, func() error {
		if !e.dead.Load() {
			return errors.New("environment not destroyed")
		}
		select {
		case <-e.proc.Done():
			return nil
		default:
			return errors.New("process still running")
		}
	})
}

func TestPoolColdStartThenWarmReuse(t *testing.T) {
	h := newHarness(t, Config{MaxEnvironments: 10})
	v := version("echo", "echo", "rev-1")

	first := newRequest(v, `{"n":1}`)
	r1 := h.mustInvoke(t, first)
	if r1.InitDuration <= 0 {
		t.Errorf("first invocation InitDuration = %v, want the cold start's init", r1.InitDuration)
	}
	if r1.Duration <= 0 || r1.ExecutedVersion != "$LATEST" {
		t.Errorf("first result = %+v, want a duration and version $LATEST", r1)
	}
	wantStats(t, h.pool, Stats{Environments: 1, Idle: 1, Busy: 0})
	envs := h.envs("echo")
	if len(envs) != 1 {
		t.Fatalf("%d environments after one invocation, want 1", len(envs))
	}

	for i := 2; i <= 4; i++ {
		req := newRequest(v, fmt.Sprintf(`{"n":%d}`, i))
		r := h.mustInvoke(t, req)
		if r.InitDuration != 0 {
			t.Errorf("warm invocation %d InitDuration = %v, want 0", i, r.InitDuration)
		}
		if got := h.envs("echo"); len(got) != 1 || got[0] != envs[0] {
			t.Errorf("warm invocation %d ran in a new environment", i)
		}
		if tail := string(r.LogTail); strings.Contains(tail, "Init Duration") || !strings.Contains(tail, "REPORT RequestId: "+req.RequestID) {
			t.Errorf("warm invocation %d tail = %q, want its REPORT without Init Duration", i, tail)
		}
	}
	wantStats(t, h.pool, Stats{Environments: 1, Idle: 1, Busy: 0})

	tail := string(r1.LogTail)
	for _, want := range []string{"START RequestId: " + first.RequestID + " Version: $LATEST", "END RequestId: " + first.RequestID, "REPORT RequestId: " + first.RequestID, "Init Duration"} {
		if !strings.Contains(tail, want) {
			t.Errorf("cold tail %q lacks %q", tail, want)
		}
	}
	recs := h.logs.lines(first.RequestID)
	var msgs []string
	for _, r := range recs {
		msgs = append(msgs, r.Message)
		if r.Function != "echo" || r.Version != "$LATEST" || r.Stream == "" {
			t.Errorf("record %+v, want function echo, version $LATEST and a stream", r)
		}
	}
	if len(msgs) < 3 || !strings.HasPrefix(msgs[0], "START ") || !strings.HasPrefix(msgs[len(msgs)-2], "END ") || !strings.HasPrefix(msgs[len(msgs)-1], "REPORT ") {
		t.Errorf("records of the first invocation = %q, want START ... END, REPORT", msgs)
	}

	cold, inits, conc := h.obs.snapshot()
	if !slices.Equal(cold, []string{"echo $LATEST"}) || len(inits) != 1 || inits[0] != r1.InitDuration {
		t.Errorf("ColdStart calls = %q %v, want one for echo $LATEST with %v", cold, inits, r1.InitDuration)
	}
	if want := []string{"echo=1", "echo=0", "echo=1", "echo=0", "echo=1", "echo=0", "echo=1", "echo=0"}; !slices.Equal(conc, want) {
		t.Errorf("Concurrency calls = %q, want %q", conc, want)
	}
}

func TestPoolThrottles(t *testing.T) {
	h := newHarness(t, Config{MaxEnvironments: 1})
	gate := make(chan struct{})
	h.code.gates["gated"] = gate
	h.code.dirs["gated"] = h.code.dirs["echo"]
	a := version("a", "gated", "rev-1")
	b := version("b", "echo", "rev-1")

	t.Run("a reservation of zero throttles at once", func(t *testing.T) {
		_, err := h.pool.Invoke(t.Context(), &Request{Version: b, ReservedConcurrency: ptr(0), RequestID: "r0", Payload: []byte(`{}`)})
		wantThrottle(t, err, lambdaerr.ReasonReservedFunctionConcurrentInvocationLimitExceeded)
	})

	// Hold one invocation of a in its cold start.
	type outcome struct {
		res *Result
		err error
	}
	held := make(chan outcome, 1)
	heldReq := newRequest(a, `{"held":true}`)
	heldReq.ReservedConcurrency = ptr(1)
	go func() {
		res, err := h.pool.Invoke(context.Background(), heldReq)
		held <- outcome{res, err}
	}()
	select {
	case <-h.code.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the held invocation never reached its cold start")
	}
	wantStats(t, h.pool, Stats{Environments: 0, Idle: 0, Busy: 1})

	t.Run("a second call past the reservation is throttled", func(t *testing.T) {
		req := newRequest(a, `{}`)
		req.ReservedConcurrency = ptr(1)
		_, err := h.pool.Invoke(t.Context(), req)
		wantThrottle(t, err, lambdaerr.ReasonReservedFunctionConcurrentInvocationLimitExceeded)
	})
	t.Run("another function past MaxEnvironments is throttled", func(t *testing.T) {
		_, err := h.pool.Invoke(t.Context(), newRequest(b, `{}`))
		wantThrottle(t, err, lambdaerr.ReasonConcurrentInvocationLimitExceeded)
	})
	wantStats(t, h.pool, Stats{Environments: 0, Idle: 0, Busy: 1})

	close(gate)
	var o outcome
	select {
	case o = <-held:
	case <-time.After(60 * time.Second):
		t.Fatal("the held invocation did not finish")
	}
	if o.err != nil || string(o.res.Payload) != `{"held":true}` || o.res.InitDuration <= 0 {
		t.Fatalf("held invocation = %s, %v; want the echo after a cold start", describe(o.res), o.err)
	}
	wantStats(t, h.pool, Stats{Environments: 1, Idle: 1, Busy: 0})

	t.Run("the freed slot admits the other function, which takes the idle environment's place", func(t *testing.T) {
		aEnvs := h.envs("a")
		if len(aEnvs) != 1 {
			t.Fatalf("a has %d environments, want 1", len(aEnvs))
		}
		h.mustInvoke(t, newRequest(b, `{"b":1}`))
		wantDestroyed(t, aEnvs[0])
		wantStats(t, h.pool, Stats{Environments: 1, Idle: 1, Busy: 0})
		if len(h.envs("a")) != 0 || len(h.envs("b")) != 1 {
			t.Errorf("environments: a %d, b %d; want 0 and 1", len(h.envs("a")), len(h.envs("b")))
		}
	})
}

func TestPoolEvictStale(t *testing.T) {
	h := newHarness(t, Config{MaxEnvironments: 10})
	old := version("fn", "echo", "rev-1")
	other := version("other", "echo", "rev-1")
	h.mustInvoke(t, newRequest(old, `{"old":1}`))
	h.mustInvoke(t, newRequest(other, `{"other":1}`))
	wantStats(t, h.pool, Stats{Environments: 2, Idle: 2})
	stale := h.envs("fn")
	kept := h.envs("other")

	h.pool.EvictStale("fn", func(version, revision string) bool { return true })
	wantStats(t, h.pool, Stats{Environments: 2, Idle: 2})

	var asked []string
	h.pool.EvictStale("fn", func(version, revision string) bool {
		asked = append(asked, version+" "+revision)
		return revision == "rev-2"
	})
	if !slices.Equal(asked, []string{"$LATEST rev-1"}) {
		t.Errorf("keep was asked about %q, want only fn's own $LATEST rev-1", asked)
	}
	wantDestroyed(t, stale[0])
	wantStats(t, h.pool, Stats{Environments: 1, Idle: 1})
	if kept[0].dead.Load() {
		t.Error("EvictStale of fn destroyed an environment of another function")
	}

	updated := version("fn", "echo", "rev-2")
	r := h.mustInvoke(t, newRequest(updated, `{"new":1}`))
	if r.InitDuration <= 0 {
		t.Errorf("the first invocation of the new revision was warm (InitDuration %v); want a cold start", r.InitDuration)
	}
	r = h.mustInvoke(t, newRequest(old, `{"old":2}`))
	if r.InitDuration <= 0 {
		t.Errorf("the evicted revision was served warm (InitDuration %v)", r.InitDuration)
	}
	wantStats(t, h.pool, Stats{Environments: 3, Idle: 3})
}

// TestPoolHoldsCodeWhileEnvironmentsLive checks that every environment
// holds its code directory from the code source exactly as long as it
// lives, so that a deleted function's files are removed only once no
// environment runs from them.
func TestPoolHoldsCodeWhileEnvironmentsLive(t *testing.T) {
	h := newHarness(t, Config{MaxEnvironments: 10})
	dir := h.code.dirs["echo"]
	a, b := version("a", "echo", "rev-1"), version("b", "echo", "rev-1")
	h.mustInvoke(t, newRequest(a, `{"a":1}`))
	h.mustInvoke(t, newRequest(b, `{"b":1}`))
	if n := h.code.holders(dir); n != 2 {
		t.Fatalf("two warm environments hold the code dir %d times, want 2", n)
	}
	h.pool.EvictStale("a", func(string, string) bool { return false })
	if n := h.code.holders(dir); n != 1 {
		t.Fatalf("after evicting a's environment the code dir has %d holders, want 1", n)
	}
	if _, err := h.pool.Invoke(t.Context(), newRequest(version("c", "missing", "rev-1"), `{}`)); err == nil {
		t.Fatal("an invocation of code that cannot be unpacked succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.pool.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n := h.code.holders(dir); n != 0 {
		t.Fatalf("after Close the code dir has %d holders, want 0", n)
	}
}

func TestPoolCloseWaitsForInFlightInvocations(t *testing.T) {
	h := newHarness(t, Config{MaxEnvironments: 10})
	h.code.dirs["wait"] = buildCodeDir(t, "./internal/pool/testdata/waitfn")
	slow := version("slow", "wait", "rev-1")
	fast := version("fast", "echo", "rev-1")
	h.mustInvoke(t, newRequest(slow, `{}`)) // warm it
	h.mustInvoke(t, newRequest(fast, `{}`)) // an idle environment Close must destroy too
	all := append(h.envs("slow"), h.envs("fast")...)

	release := filepath.Join(t.TempDir(), "release")
	payload := fmt.Sprintf(`{"waitFor":%q}`, release)
	type outcome struct {
		res *Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := h.pool.Invoke(context.Background(), newRequest(slow, payload))
		done <- outcome{res, err}
	}()
	testutil.WaitFor(t, 10*time.Second, func() error {
		if s := h.pool.Stats(); s.Busy != 1 {
			return fmt.Errorf("stats %+v, want one busy", s)
		}
		return nil
	})

	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		closed <- h.pool.Close(ctx)
	}()
	testutil.WaitFor(t, 10*time.Second, func() error {
		h.pool.mu.Lock()
		defer h.pool.mu.Unlock()
		if !h.pool.closed {
			return errors.New("pool not closed yet")
		}
		return nil
	})

	_, err := h.pool.Invoke(t.Context(), newRequest(fast, `{}`))
	if le, ok := lambdaerr.As(err); !ok || le.Type != lambdaerr.TypeServiceUnavailable {
		t.Errorf("Invoke while closing = %v, want ServiceUnavailableException", err)
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while an invocation was in flight", err)
	case o := <-done:
		t.Fatalf("the in-flight invocation ended before it was released: %s, %v", describe(o.res), o.err)
	default:
	}

	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var o outcome
	select {
	case o = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the in-flight invocation did not finish")
	}
	if o.err != nil || o.res.FunctionError != "" || string(o.res.Payload) != payload {
		t.Errorf("in-flight invocation = %s, %v; want its echo: Close must let it finish", describe(o.res), o.err)
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return after the invocation finished")
	}
	for _, e := range all {
		wantDestroyed(t, e)
	}
	wantStats(t, h.pool, Stats{})
	if err := h.pool.Close(t.Context()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
