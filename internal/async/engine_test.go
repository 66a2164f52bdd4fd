package async

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/registry"
	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

const testARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"

// fakeResolver knows one function, "fn", with an optional reservation.
type fakeResolver struct {
	mu       sync.Mutex
	reserved *int
	gone     bool
	dlq      string
}

func (r *fakeResolver) Resolve(name, qualifier string) (*registry.Target, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gone || (name != "fn" && name != testARN) {
		return nil, lambdaerr.ResourceNotFound("Function not found: %s", name)
	}
	v := &registry.Version{FunctionName: "fn", FunctionARN: testARN, Version: registry.VersionLatest, DeadLetterTarget: r.dlq}
	t := &registry.Target{Version: v, InvokedARN: testARN, ReservedConcurrency: r.reserved}
	if qualifier != "" {
		t.InvokedARN = testARN + ":" + qualifier
	}
	return t, nil
}

// fakeInvoker answers from a script: the nth call of a request id gets
// answers[n] (the last one repeats).
type fakeInvoker struct {
	mu      sync.Mutex
	answers []func(req *invoke.Request) (*invoke.Response, error)
	calls   map[string]int
	total   int
}

func (f *fakeInvoker) Invoke(ctx context.Context, req *invoke.Request) (*invoke.Response, error) {
	f.mu.Lock()
	n := f.calls[req.RequestID]
	f.calls[req.RequestID]++
	f.total++
	answer := f.answers[min(n, len(f.answers)-1)]
	f.mu.Unlock()
	return answer(req)
}

func succeed(req *invoke.Request) (*invoke.Response, error) {
	return &invoke.Response{StatusCode: 200, RequestID: req.RequestID, Payload: []byte(`{"ok":true}`), ExecutedVersion: "$LATEST"}, nil
}

func failFunction(req *invoke.Request) (*invoke.Response, error) {
	return &invoke.Response{StatusCode: 200, RequestID: req.RequestID, FunctionError: "Unhandled", ExecutedVersion: "$LATEST",
		Payload: []byte(`{"errorMessage":"boom","errorType":"errorString"}`)}, nil
}

func throttle(*invoke.Request) (*invoke.Response, error) {
	return nil, lambdaerr.TooManyRequests("ReservedFunctionConcurrentInvocationLimitExceeded", "Rate Exceeded.")
}

type fixedPolicies struct{ p Policy }

func (f fixedPolicies) AsyncPolicy(string, string) Policy { return f.p }

// fakeQueues records what it is sent; fail makes sends fail.
type fakeQueues struct {
	mu   sync.Mutex
	sent []queued
	fail int // fail this many sends first
}

type queued struct {
	queue, dedup string
	body         []byte
	attrs        map[string]Attribute
}

func (q *fakeQueues) Send(ctx context.Context, queueARN, dedup string, body []byte, attrs map[string]Attribute) error {
	queue := queueARN[strings.LastIndex(queueARN, ":")+1:]
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail > 0 {
		q.fail--
		return errors.New("queue unavailable")
	}
	q.sent = append(q.sent, queued{queue, dedup, body, attrs})
	return nil
}

func (q *fakeQueues) messages() []queued {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]queued(nil), q.sent...)
}

type fixture struct {
	engine   *Engine
	invoker  *fakeInvoker
	resolver *fakeResolver
	queues   *fakeQueues

	js     jetstream.JetStream
	cfg    Config
	policy Policy
}

func newFixture(t *testing.T, policy Policy, answers ...func(*invoke.Request) (*invoke.Response, error)) *fixture {
	t.Helper()
	return newFixtureWith(t, nil, policy, answers...)
}

// newFixtureWith is newFixture with tune applied to the engine's Config.
func newFixtureWith(t *testing.T, tune func(*Config), policy Policy, answers ...func(*invoke.Request) (*invoke.Response, error)) *fixture {
	t.Helper()
	st := storetest.Open(t, t.TempDir(), slog.New(slog.DiscardHandler))
	f := &fixture{
		invoker:  &fakeInvoker{answers: answers, calls: map[string]int{}},
		resolver: &fakeResolver{},
		queues:   &fakeQueues{},
		js:       st.JetStream(),
		cfg:      Config{MaxPayloadBytes: 1 << 20, RetryDelay: 20 * time.Millisecond, RecordTTL: time.Hour, AckWait: 3 * time.Second},
		policy:   policy,
	}
	if f.policy.MaxEventAge == 0 {
		f.policy.MaxEventAge = time.Hour
	}
	if tune != nil {
		tune(&f.cfg)
	}
	f.engine = f.peer(t)
	return f
}

// peer starts another engine on the fixture's store, as a second node
// sharing its JetStream would run, with the same collaborators.
func (f *fixture) peer(t *testing.T) *Engine {
	t.Helper()
	e, err := New(t.Context(), f.cfg, Deps{
		JetStream: f.js, Invoker: f.invoker, Resolver: f.resolver,
		Policies: fixedPolicies{f.policy}, Queues: f.queues, Logger: testutil.Logger(t, slog.LevelWarn),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = e.Close(ctx)
	})
	if err := e.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return e
}

func (f *fixture) accept(t *testing.T, payload string) string {
	t.Helper()
	id, err := f.engine.Accept(t.Context(), &Request{FunctionName: "fn", Payload: []byte(payload)})
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	return id
}

func (f *fixture) final(t *testing.T, id string) *Record {
	t.Helper()
	rec, err := f.engine.Record(t.Context(), id, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Status.Final() {
		t.Fatalf("record %s still %s", id, rec.Status)
	}
	return rec
}

// waitDelivered waits until the record has no pending delivery.
func (f *fixture) waitDelivered(t *testing.T, id string) *Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec, _, err := f.engine.records.get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if rec != nil && rec.Status.Final() && !rec.pendingDeliveries() {
			return rec
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries of %s not done: %+v", id, rec)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOutcomes(t *testing.T) {
	tests := []struct {
		name          string
		policy        Policy
		answers       []func(*invoke.Request) (*invoke.Response, error)
		wantStatus    Status
		wantCondition string
		wantAttempts  int
	}{
		{"success at once", Policy{MaxRetries: 2}, []func(*invoke.Request) (*invoke.Response, error){succeed}, StatusSucceeded, ConditionSuccess, 1},
		{"two failures then success", Policy{MaxRetries: 2}, []func(*invoke.Request) (*invoke.Response, error){failFunction, failFunction, succeed}, StatusSucceeded, ConditionSuccess, 3},
		{"failures exhaust two retries", Policy{MaxRetries: 2}, []func(*invoke.Request) (*invoke.Response, error){failFunction}, StatusFailed, ConditionRetriesExhausted, 3},
		{"no retries", Policy{MaxRetries: 0}, []func(*invoke.Request) (*invoke.Response, error){failFunction, succeed}, StatusFailed, ConditionRetriesExhausted, 1},
		{"throttles do not count as attempts", Policy{MaxRetries: 0}, []func(*invoke.Request) (*invoke.Response, error){throttle, succeed}, StatusSucceeded, ConditionSuccess, 1},
		{"throttled until the event is too old", Policy{MaxRetries: 2, MaxEventAge: 1500 * time.Millisecond}, []func(*invoke.Request) (*invoke.Response, error){throttle}, StatusFailed, ConditionEventAgeExceeded, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.policy, tc.answers...)
			id := f.accept(t, `{"n":1}`)
			rec := f.final(t, id)
			if rec.Status != tc.wantStatus || rec.Condition != tc.wantCondition || rec.Attempts != tc.wantAttempts {
				t.Fatalf("record: status %s condition %s attempts %d; want %s %s %d (%+v)",
					rec.Status, rec.Condition, rec.Attempts, tc.wantStatus, tc.wantCondition, tc.wantAttempts, rec)
			}
		})
	}
}

func TestZeroReservedConcurrencyFailsAtOnceToOnFailure(t *testing.T) {
	f := newFixture(t, Policy{MaxRetries: 2, OnFailure: "arn:aws:sqs:us-east-1:000000000000:failures"}, succeed)
	zero := 0
	f.resolver.reserved = &zero
	id := f.accept(t, `{"n":1}`)
	rec := f.waitDelivered(t, id)
	if rec.Status != StatusFailed || rec.Attempts != 0 || f.invoker.total != 0 {
		t.Fatalf("record %+v after %d runs: want FAILED without running", rec, f.invoker.total)
	}
	msgs := f.queues.messages()
	if len(msgs) != 1 || msgs[0].queue != "failures" {
		t.Fatalf("OnFailure got %+v", msgs)
	}
}

func TestDeadLetterAndDestinationRecords(t *testing.T) {
	f := newFixture(t, Policy{
		MaxRetries: 0,
		OnSuccess:  "arn:aws:sqs:us-east-1:000000000000:ok",
		OnFailure:  "arn:aws:sqs:us-east-1:000000000000:ko",
	}, failFunction)
	f.resolver.dlq = "arn:aws:sqs:us-east-1:000000000000:dlq"
	f.queues.fail = 1 // the first delivery fails and is retried
	id := f.accept(t, `{"order":7}`)
	rec := f.waitDelivered(t, id)
	byQueue := map[string]queued{}
	for _, m := range f.queues.messages() {
		byQueue[m.queue] = m
	}
	dlq, ok := byQueue["dlq"]
	if !ok || string(dlq.body) != `{"order":7}` {
		t.Fatalf("DLQ got %+v", byQueue)
	}
	wantAttrs := map[string]Attribute{
		"RequestID":    {"String", id},
		"ErrorCode":    {"Number", "200"},
		"ErrorMessage": {"String", "boom"},
	}
	for k, v := range wantAttrs {
		if dlq.attrs[k] != v {
			t.Errorf("DLQ attribute %s = %+v, want %+v", k, dlq.attrs[k], v)
		}
	}
	ko, ok := byQueue["ko"]
	if !ok {
		t.Fatalf("OnFailure got nothing: %+v", byQueue)
	}
	var got map[string]any
	if err := json.Unmarshal(ko.body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"version":   "1.0",
		"timestamp": rec.FinishedAt.Format("2006-01-02T15:04:05.000Z"),
		"requestContext": map[string]any{
			"requestId": id, "functionArn": testARN + ":$LATEST", "condition": "RetriesExhausted", "approximateInvokeCount": 1.0,
		},
		"requestPayload":  map[string]any{"order": 7.0},
		"responseContext": map[string]any{"statusCode": 200.0, "executedVersion": "$LATEST", "functionError": "Unhandled"},
		"responsePayload": map[string]any{"errorMessage": "boom", "errorType": "errorString"},
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if string(gotJSON) != string(wantJSON) {
		t.Fatalf("OnFailure record\n got %s\nwant %s", gotJSON, wantJSON)
	}
	if _, ok := byQueue["ok"]; ok {
		t.Fatal("OnSuccess received a failure")
	}
	if rec.Deliveries[0].Attempts+rec.Deliveries[1].Attempts != 3 {
		t.Fatalf("deliveries %+v: want one retried delivery", rec.Deliveries)
	}
}

func TestDeletedFunctionDropsItsEvents(t *testing.T) {
	f := newFixture(t, Policy{MaxRetries: 2}, succeed)
	f.resolver.mu.Lock()
	f.resolver.gone = false
	f.resolver.mu.Unlock()
	id := f.accept(t, `{}`)
	f.final(t, id)
	f.resolver.mu.Lock()
	f.resolver.gone = true
	f.resolver.mu.Unlock()
	// An event published for the function after it disappeared.
	ev := &event{RequestID: "7d9a3c0e-1111-4222-8333-444455556666", Function: "fn", Received: time.Now(), Payload: []byte(`{}`)}
	ev.RecordKey = ev.RequestID
	if _, err := f.engine.records.create(t.Context(), ev.RecordKey, newRecord(ev)); err != nil {
		t.Fatal(err)
	}
	if err := f.engine.publish(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	rec := f.final(t, ev.RequestID)
	if rec.Status != StatusFailed || rec.Error == nil || rec.Error.ErrorType != lambdaerr.TypeResourceNotFound {
		t.Fatalf("record %+v", rec)
	}
}

func TestBatchIsQueuedOnceAndReadOnce(t *testing.T) {
	f := newFixture(t, Policy{MaxRetries: 2}, succeed)
	for i := 0; i < 3; i++ {
		if err := f.engine.SubmitBatch(t.Context(), "fn", "q1:1:1:0:0", []byte(`{"data":[[0,"a"]]}`)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	var rec *Record
	for {
		var err error
		rec, err = f.engine.PollBatch(t.Context(), "fn", "q1:1:1:0:0")
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status.Final() || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if rec.Status != StatusSucceeded || string(rec.Result) != `{"ok":true}` {
		t.Fatalf("batch record %+v", rec)
	}
	if _, err := f.engine.PollBatch(t.Context(), "fn", "q1:1:1:0:0"); !lambdaerr.IsType(err, lambdaerr.TypeResourceNotFound) {
		t.Fatalf("second read: %v, want ResourceNotFound", err)
	}
	if f.invoker.total != 1 {
		t.Fatalf("the batch ran %d times", f.invoker.total)
	}
}

func TestAcceptValidates(t *testing.T) {
	f := newFixture(t, Policy{}, succeed)
	tests := []struct {
		name    string
		req     Request
		errType string
	}{
		{"too large", Request{FunctionName: "fn", Payload: []byte(`"` + strings.Repeat("x", 1<<20) + `"`)}, lambdaerr.TypeRequestTooLarge},
		{"not JSON", Request{FunctionName: "fn", Payload: []byte(`{`)}, lambdaerr.TypeInvalidRequestContent},
		{"unknown function", Request{FunctionName: "nope", Payload: []byte(`{}`)}, lambdaerr.TypeResourceNotFound},
		{"bad client context", Request{FunctionName: "fn", ClientContext: "!!", Payload: []byte(`{}`)}, lambdaerr.TypeInvalidRequestContent},
	}
	for _, tc := range tests {
		if _, err := f.engine.Accept(t.Context(), &tc.req); !lambdaerr.IsType(err, tc.errType) {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.errType)
		}
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		base, limit time.Duration
		n           int
		want        time.Duration
	}{
		{time.Minute, 1 << 62, 1, time.Minute},
		{time.Minute, 1 << 62, 2, 2 * time.Minute},
		{time.Second, 5 * time.Minute, 3, 4 * time.Second},
		{time.Second, 5 * time.Minute, 20, 5 * time.Minute},
	}
	for _, tc := range tests {
		if got := backoff(tc.base, tc.limit, tc.n); got != tc.want {
			t.Errorf("backoff(%s, %s, %d) = %s, want %s", tc.base, tc.limit, tc.n, got, tc.want)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	ev := &event{RequestID: "id", RecordKey: "k", Function: "fn", Qualifier: "live", Received: time.Unix(0, 42), Payload: []byte(`{}`)}
	m := ev.message()
	f.Add(m.Header.Get(hdrRequestID), m.Header.Get(hdrFunction), m.Header.Get(hdrReceived), []byte(`{}`))
	f.Add("", "fn", "x", []byte(nil))
	f.Fuzz(func(t *testing.T, id, fn, received string, data []byte) {
		h := ev.message().Header
		h.Set(hdrRequestID, id)
		h.Set(hdrFunction, fn)
		h.Set(hdrReceived, received)
		got, err := decodeEvent(h, data)
		if err != nil {
			return
		}
		if got.RequestID != id || got.Function != fn || got.RecordKey == "" {
			t.Fatalf("decoded %+v from id %q fn %q", got, id, fn)
		}
	})
}

func TestWorkersGrowWithWorkUpToTheirLimit(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	running, peak := 0, 0
	block := func(req *invoke.Request) (*invoke.Response, error) {
		mu.Lock()
		running++
		peak = max(peak, running)
		mu.Unlock()
		<-release
		mu.Lock()
		running--
		mu.Unlock()
		return succeed(req)
	}
	f := newFixture(t, Policy{}, block)
	f.engine.FunctionChanged("fn")
	if n := f.engine.workerSets(); n != 0 {
		t.Fatalf("a function without events has %d worker sets, want none", n)
	}
	ids := []string{f.accept(t, `{}`)}
	workers := func() (active, limit int) {
		f.engine.mu.Lock()
		w := f.engine.workers["fn"]
		f.engine.mu.Unlock()
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.active, w.n
	}
	_, limit := workers()
	if limit < 2 {
		t.Fatalf("limit %d: want room for a burst", limit)
	}
	for range limit + 2 {
		ids = append(ids, f.accept(t, `{}`))
	}
	testutil.WaitFor(t, 10*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if running < limit {
			return fmt.Errorf("%d events run at once, want %d", running, limit)
		}
		return nil
	})
	close(release)
	for _, id := range ids {
		if rec := f.final(t, id); rec.Status != StatusSucceeded {
			t.Errorf("event %s ended %s", id, rec.Status)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if peak != limit {
		t.Errorf("at most %d events ran at once, want the workers' limit %d", peak, limit)
	}
}

func TestFunctionWorkersGrowAndRetire(t *testing.T) {
	w := &functionWorkers{n: 3}
	for i, want := range []bool{true, true, true, false} {
		if got := w.grow(); got != want {
			t.Errorf("grow #%d = %v, want %v", i+1, got, want)
		}
	}
	for i, want := range []bool{true, true, false, false} {
		if got := w.retire(); got != want {
			t.Errorf("retire #%d = %v, want %v", i+1, got, want)
		}
	}
	if w.active != 1 {
		t.Errorf("active after retiring = %d, want the last worker kept", w.active)
	}
}
