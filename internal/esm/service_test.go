package esm

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

	"github.com/aws/aws-lambda-go/events"

	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/queue"
	"github.com/updraft/updraft/internal/registry"
	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

const (
	testRegion  = "us-east-1"
	testAccount = "000000000000"
	fnARN       = "arn:aws:lambda:us-east-1:000000000000:function:"
)

// fakeResolver knows the functions "fn" and "other".
type fakeResolver struct{}

func (fakeResolver) Resolve(name, qualifier string) (*registry.Target, error) {
	ref, err := registry.ParseFunctionName(name)
	if err != nil {
		return nil, err
	}
	if ref.Name != "fn" && ref.Name != "other" {
		return nil, lambdaerr.ResourceNotFound("Function not found: %s%s", fnARN, ref.Name)
	}
	arn := fnARN + ref.Name
	if ref.Qualifier != "" {
		arn += ":" + ref.Qualifier
	}
	return &registry.Target{InvokedARN: arn}, nil
}

// fakeInvoker records events and answers with answer.
type fakeInvoker struct {
	mu     sync.Mutex
	events []events.SQSEvent
	answer func(ev events.SQSEvent) (*invoke.Response, error)
}

func (f *fakeInvoker) Invoke(_ context.Context, req *invoke.Request) (*invoke.Response, error) {
	var ev events.SQSEvent
	if err := json.Unmarshal(req.Payload, &ev); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.events = append(f.events, ev)
	answer := f.answer
	f.mu.Unlock()
	if answer == nil {
		return &invoke.Response{StatusCode: 200, Payload: []byte("null")}, nil
	}
	return answer(ev)
}

// records returns every record seen so far.
func (f *fakeInvoker) records() []events.SQSMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []events.SQSMessage
	for _, ev := range f.events {
		out = append(out, ev.Records...)
	}
	return out
}

type harness struct {
	svc *Service
	q   *queue.Service
	inv *fakeInvoker
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	logger := testutil.Logger(t, slog.LevelDebug)
	st := storetest.Open(t, t.TempDir(), logger)
	q := queue.New(st.JetStream(), 1, logger, queue.WithVisibilityTimeout(time.Second))
	inv := &fakeInvoker{}
	svc, err := New(t.Context(), Config{Region: testRegion, AccountID: testAccount, Replicas: 1}, Deps{
		JetStream: st.JetStream(), Invoker: inv, Resolver: fakeResolver{}, Queues: q, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := svc.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &harness{svc: svc, q: q, inv: inv}
}

func ptr[T any](v T) *T { return &v }

func queueARN(name string) string { return queue.ARN(testRegion, testAccount, name) }

func TestCreateValidates(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		name     string
		req      lambdaapi.CreateEventSourceMappingRequest
		wantType string
		wantMsg  string
	}{
		{"no function", lambdaapi.CreateEventSourceMappingRequest{EventSourceArn: ptr(queueARN("q"))}, lambdaerr.TypeValidation, "'functionName'"},
		{"unknown function", lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr("nope"), EventSourceArn: ptr(queueARN("q"))}, lambdaerr.TypeInvalidParameterValue, "Function does not exist"},
		{"a destination for a queue", lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr("nope"), EventSourceArn: ptr(queueARN("q")),
			DestinationConfig: &lambdaapi.DestinationConfig{OnFailure: &lambdaapi.EventDestination{Destination: queueARN("dlq")}}},
			lambdaerr.TypeInvalidParameterValue, "Unsupported DestinationConfig parameter for given event source mapping type."},
		{"no source", lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr("fn")}, lambdaerr.TypeInvalidParameterValue, "Unrecognized event source"},
		{"kinesis", lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr("fn"), EventSourceArn: ptr("arn:aws:kinesis:us-east-1:000000000000:stream/s")}, lambdaerr.TypeInvalidParameterValue, "Value null at 'startingPosition'"},
		{"another account", lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr("fn"), EventSourceArn: ptr("arn:aws:sqs:us-east-1:123456789012:q")}, lambdaerr.TypeInvalidParameterValue, "built-in queues are in region us-east-1"},
		{"batch size 0", lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr("fn"), EventSourceArn: ptr(queueARN("q")), BatchSize: ptr(0)}, lambdaerr.TypeValidation, "Value '0' at 'batchSize' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"batch size 10001", lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr("fn"), EventSourceArn: ptr(queueARN("q")), BatchSize: ptr(10001), MaximumBatchingWindowInSeconds: ptr(1)}, lambdaerr.TypeValidation, "less than or equal to 10000"},
		{"batch size 11 without a window", lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr("fn"), EventSourceArn: ptr(queueARN("q")), BatchSize: ptr(11)}, lambdaerr.TypeInvalidParameterValue, "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"},
		{"window 301", lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr("fn"), EventSourceArn: ptr(queueARN("q")), MaximumBatchingWindowInSeconds: ptr(301)}, lambdaerr.TypeValidation, "'maximumBatchingWindowInSeconds'"},
		{"bad response type", lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr("fn"), EventSourceArn: ptr(queueARN("q")), FunctionResponseTypes: ptr([]string{"Nope"})}, lambdaerr.TypeValidation, "enum value set: [ReportBatchItemFailures]"},
		{"fifo batch 20", lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr("fn"), EventSourceArn: ptr(queueARN("q.fifo")), BatchSize: ptr(20), MaximumBatchingWindowInSeconds: ptr(1)}, lambdaerr.TypeInvalidParameterValue, "FIFO"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.svc.Create(t.Context(), &tc.req)
			le, ok := lambdaerr.As(err)
			if !ok || le.Type != tc.wantType || !strings.Contains(le.Message, tc.wantMsg) {
				t.Fatalf("Create = %v, want %s containing %q", err, tc.wantType, tc.wantMsg)
			}
		})
	}
}

func TestMappingLifecycle(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	created, err := h.svc.Create(ctx, &lambdaapi.CreateEventSourceMappingRequest{
		FunctionName: ptr("fn"), EventSourceArn: ptr(queueARN("life")), Enabled: ptr(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.State != lambdaapi.ESMStateCreating || created.BatchSize != 10 || created.FunctionArn != fnARN+"fn" ||
		created.StateTransitionReason != "USER_INITIATED" || created.LastModified == 0 || created.UUID == "" {
		t.Errorf("Create = %+v", created)
	}
	_, err = h.svc.Create(ctx, &lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr("fn"), EventSourceArn: ptr(queueARN("life"))})
	want := `An event source mapping with SQS arn (" ` + queueARN("life") + ` ") and function (" fn ") already exists. Please update or delete the existing mapping with UUID ` + created.UUID
	if le, ok := lambdaerr.As(err); !ok || le.Type != lambdaerr.TypeResourceConflict || le.Message != want {
		t.Fatalf("second Create = %v, want ResourceConflictException %q", err, want)
	}
	second, err := h.svc.Create(ctx, &lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr(fnARN + "other"), EventSourceArn: ptr(queueARN("life"))})
	if err != nil {
		t.Fatalf("a mapping of another function to the same queue: %v", err)
	}

	got, err := h.svc.Get(ctx, created.UUID)
	if err != nil || got.State != lambdaapi.ESMStateDisabled {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if _, err := h.svc.Get(ctx, "4f1a1f2e-0000-4000-8000-000000000000"); !lambdaerr.IsType(err, lambdaerr.TypeResourceNotFound) {
		t.Fatalf("Get of an unknown UUID = %v", err)
	}

	up, err := h.svc.Update(ctx, created.UUID, &lambdaapi.UpdateEventSourceMappingRequest{Enabled: ptr(true), BatchSize: ptr(50)})
	if le, ok := lambdaerr.As(err); !ok || le.Type != lambdaerr.TypeInvalidParameterValue {
		t.Fatalf("Update to 50 without a window = %v, %v", up, err)
	}
	up, err = h.svc.Update(ctx, created.UUID, &lambdaapi.UpdateEventSourceMappingRequest{
		Enabled: ptr(true), BatchSize: ptr(50), MaximumBatchingWindowInSeconds: ptr(2), FunctionResponseTypes: ptr([]string{"ReportBatchItemFailures"}),
	})
	if err != nil || up.State != lambdaapi.ESMStateEnabling || up.BatchSize != 50 || up.MaximumBatchingWindowInSeconds != 2 || len(up.FunctionResponseTypes) != 1 {
		t.Fatalf("Update = %+v, %v", up, err)
	}
	if got, _ := h.svc.Get(ctx, created.UUID); got.State != lambdaapi.ESMStateEnabled {
		t.Errorf("after enabling, state = %s", got.State)
	}

	for _, tc := range []struct {
		name string
		f    ListFilter
		want int
		next bool
	}{
		{"all", ListFilter{}, 2, false},
		{"by function", ListFilter{FunctionName: "fn"}, 1, false},
		{"by function ARN", ListFilter{FunctionName: fnARN + "other"}, 1, false},
		{"by queue", ListFilter{EventSourceArn: queueARN("life")}, 2, false},
		{"by another queue", ListFilter{EventSourceArn: queueARN("else")}, 0, false},
		{"one per page", ListFilter{MaxItems: 1}, 1, true},
	} {
		t.Run("list "+tc.name, func(t *testing.T) {
			out, err := h.svc.List(ctx, tc.f)
			if err != nil || len(out.EventSourceMappings) != tc.want || (out.NextMarker != "") != tc.next {
				t.Fatalf("List = %+v, %v", out, err)
			}
			if tc.next {
				rest, err := h.svc.List(ctx, ListFilter{MaxItems: 1, Marker: out.NextMarker})
				if err != nil || len(rest.EventSourceMappings) != 1 || rest.NextMarker != "" || rest.EventSourceMappings[0].UUID == out.EventSourceMappings[0].UUID {
					t.Fatalf("second page = %+v, %v", rest, err)
				}
			}
		})
	}

	del, err := h.svc.Delete(ctx, created.UUID)
	if err != nil || del.State != lambdaapi.ESMStateDeleting {
		t.Fatalf("Delete = %+v, %v", del, err)
	}
	if _, err := h.svc.Get(ctx, created.UUID); !lambdaerr.IsType(err, lambdaerr.TypeResourceNotFound) {
		t.Fatalf("Get after Delete = %v", err)
	}
	// The pair is free again.
	again, err := h.svc.Create(ctx, &lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr("fn"), EventSourceArn: ptr(queueARN("life")), Enabled: ptr(false)})
	if err != nil {
		t.Fatalf("Create after Delete: %v", err)
	}
	for _, id := range []string{again.UUID, second.UUID} {
		if _, err := h.svc.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
}

func send(t *testing.T, q *queue.Service, name string, bodies ...string) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, b := range bodies {
		id, err := q.Send(t.Context(), name, []byte(b), nil)
		if err != nil {
			t.Fatal(err)
		}
		ids[b] = id
	}
	return ids
}

func TestPollerDeliversAndDeletes(t *testing.T) {
	h := newHarness(t)
	send(t, h.q, "in", "1", "2", "3")
	m, err := h.svc.Create(t.Context(), &lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr("fn"), EventSourceArn: ptr(queueARN("in"))})
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 15*time.Second, func() error {
		if n := len(h.inv.records()); n < 3 {
			return fmt.Errorf("%d of 3 messages delivered", n)
		}
		return nil
	})
	r := h.inv.records()[0]
	if r.EventSourceARN != queueARN("in") || r.Attributes["ApproximateReceiveCount"] != "1" {
		t.Errorf("record = %+v", r)
	}
	// Acknowledged: nothing left, even after the visibility timeout.
	if _, err := h.svc.Update(t.Context(), m.UUID, &lambdaapi.UpdateEventSourceMappingRequest{Enabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if left, err := h.q.Receive(t.Context(), "in", 10, 0); err != nil || len(left) != 0 {
		t.Fatalf("left in the queue: %v, %v", left, err)
	}
	// Disabled: a new message stays in the queue.
	before := len(h.inv.records())
	send(t, h.q, "in", "4")
	time.Sleep(1500 * time.Millisecond)
	if n := len(h.inv.records()); n != before {
		t.Fatalf("a disabled mapping delivered %d more", n-before)
	}
	if left, err := h.q.Receive(t.Context(), "in", 10, time.Second); err != nil || len(left) != 1 {
		t.Fatalf("the queue should still hold message 4: %v, %v", left, err)
	}
}

func TestPollerRetriesFailures(t *testing.T) {
	h := newHarness(t)
	h.inv.answer = func(ev events.SQSEvent) (*invoke.Response, error) {
		if ev.Records[0].Attributes["ApproximateReceiveCount"] == "1" {
			return &invoke.Response{FunctionError: "Unhandled", ErrorType: "boom", Payload: []byte(`{"errorMessage":"boom"}`)}, nil
		}
		return &invoke.Response{Payload: []byte("null")}, nil
	}
	send(t, h.q, "fail", "x")
	if _, err := h.svc.Create(t.Context(), &lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr("fn"), EventSourceArn: ptr(queueARN("fail"))}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 15*time.Second, func() error {
		rs := h.inv.records()
		if len(rs) < 2 {
			return fmt.Errorf("%d deliveries", len(rs))
		}
		if rs[1].Attributes["ApproximateReceiveCount"] != "2" {
			return errors.New("the second delivery is not counted as such")
		}
		return nil
	})
}

func TestPollerPartialBatch(t *testing.T) {
	h := newHarness(t)
	ids := send(t, h.q, "part", "ok-1", "bad", "ok-2")
	h.inv.answer = func(ev events.SQSEvent) (*invoke.Response, error) {
		var resp events.SQSEventResponse
		for _, r := range ev.Records {
			if r.Body == "bad" && r.Attributes["ApproximateReceiveCount"] == "1" {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
		}
		b, _ := json.Marshal(resp)
		return &invoke.Response{Payload: b}, nil
	}
	if _, err := h.svc.Create(t.Context(), &lambdaapi.CreateEventSourceMappingRequest{
		FunctionName: ptr("fn"), EventSourceArn: ptr(queueARN("part")), FunctionResponseTypes: ptr([]string{"ReportBatchItemFailures"}),
	}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 15*time.Second, func() error {
		count := map[string]int{}
		for _, r := range h.inv.records() {
			count[r.Body]++
		}
		if count["bad"] < 2 {
			return fmt.Errorf("deliveries: %v", count)
		}
		if count["ok-1"] != 1 || count["ok-2"] != 1 {
			return fmt.Errorf("successful messages redelivered: %v", count)
		}
		return nil
	})
	for _, r := range h.inv.records() {
		if r.Body == "bad" && r.MessageId != ids["bad"] {
			t.Errorf("redelivered id %s, want %s", r.MessageId, ids["bad"])
		}
	}
}
