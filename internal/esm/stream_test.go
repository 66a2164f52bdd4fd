package esm

import (
	"context"
	"encoding/json"
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
	"github.com/updraft/updraft/internal/stream"
	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

// kinesisInvoker records Kinesis events, checks that no two batches of
// one shard overlap, and fails batches holding a record whose data
// starts with "fail" as often as failures says.
type kinesisInvoker struct {
	mu       sync.Mutex
	batches  []events.KinesisEvent
	running  map[string]bool // shard -> a batch is in flight
	overlap  bool
	failures map[string]int // data -> failures left; -1 forever
}

func (f *kinesisInvoker) Invoke(_ context.Context, req *invoke.Request) (*invoke.Response, error) {
	var ev events.KinesisEvent
	if err := json.Unmarshal(req.Payload, &ev); err != nil {
		return nil, err
	}
	id, _, _ := strings.Cut(ev.Records[0].EventID, ":")
	shard := ev.Records[0].EventSourceArn + "/" + id
	f.mu.Lock()
	if f.running[shard] {
		f.overlap = true
	}
	f.running[shard] = true
	f.batches = append(f.batches, ev)
	fail := false
	for _, r := range ev.Records {
		if n := f.failures[string(r.Kinesis.Data)]; n != 0 {
			fail = true
			if n > 0 {
				f.failures[string(r.Kinesis.Data)] = n - 1
			}
		}
	}
	f.mu.Unlock()
	time.Sleep(10 * time.Millisecond)
	f.mu.Lock()
	f.running[shard] = false
	f.mu.Unlock()
	if fail {
		return &invoke.Response{StatusCode: 200, FunctionError: "Unhandled", ErrorType: "asked to fail", Payload: []byte(`{}`)}, nil
	}
	return &invoke.Response{StatusCode: 200, Payload: []byte("null")}, nil
}

// seen returns the data of every record delivered, by partition key, in
// delivery order, and how many times each was delivered.
func (f *kinesisInvoker) seen() (map[string][]string, map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	byKey, count := map[string][]string{}, map[string]int{}
	for _, ev := range f.batches {
		for _, r := range ev.Records {
			d := string(r.Kinesis.Data)
			if count[d] == 0 {
				byKey[r.Kinesis.PartitionKey] = append(byKey[r.Kinesis.PartitionKey], d)
			}
			count[d]++
		}
	}
	return byKey, count
}

type streamHarness struct {
	svc *Service
	st  *stream.Service
	inv *kinesisInvoker
}

func newStreamHarness(t *testing.T, failures map[string]int) *streamHarness {
	t.Helper()
	logger := testutil.Logger(t, slog.LevelDebug)
	store := storetest.Open(t, t.TempDir(), logger)
	st := stream.New(store.JetStream(), 1, logger, stream.WithAccount(testRegion, testAccount))
	inv := &kinesisInvoker{running: map[string]bool{}, failures: failures}
	q := queue.New(store.JetStream(), 1, logger)
	svc, err := New(t.Context(), Config{Region: testRegion, AccountID: testAccount, Replicas: 1}, Deps{
		JetStream: store.JetStream(), Invoker: inv, Resolver: fakeResolver{}, Queues: q, Streams: st, Logger: logger,
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
	return &streamHarness{svc: svc, st: st, inv: inv}
}

func (h *streamHarness) put(t *testing.T, name string, keyData ...string) {
	t.Helper()
	var recs []stream.Record
	for i := 0; i < len(keyData); i += 2 {
		recs = append(recs, stream.Record{PartitionKey: keyData[i], Data: []byte(keyData[i+1])})
	}
	if _, err := h.st.Put(t.Context(), name, recs); err != nil {
		t.Fatal(err)
	}
}

func streamARN(name string) string { return stream.ARN(testRegion, testAccount, name) }

func TestCreateStreamMappingValidates(t *testing.T) {
	h := newStreamHarness(t, nil)
	if err := h.st.Create(t.Context(), "s", 2); err != nil {
		t.Fatal(err)
	}
	base := func() lambdaapi.CreateEventSourceMappingRequest {
		return lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr("fn"), EventSourceArn: ptr(streamARN("s")), StartingPosition: ptr("TRIM_HORIZON")}
	}
	for _, tc := range []struct {
		name     string
		edit     func(r *lambdaapi.CreateEventSourceMappingRequest)
		wantType string
		wantMsg  string
	}{
		{"no starting position", func(r *lambdaapi.CreateEventSourceMappingRequest) { r.StartingPosition = nil }, lambdaerr.TypeInvalidParameterValue, "Value null at 'startingPosition' failed to satisfy constraint: Member must not be null."},
		{"bad starting position", func(r *lambdaapi.CreateEventSourceMappingRequest) { r.StartingPosition = ptr("OLDEST") }, lambdaerr.TypeValidation, "enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]"},
		{"AT_TIMESTAMP without one", func(r *lambdaapi.CreateEventSourceMappingRequest) { r.StartingPosition = ptr("AT_TIMESTAMP") }, lambdaerr.TypeInvalidParameterValue, "Need to specify a timestamp"},
		{"timestamp with LATEST", func(r *lambdaapi.CreateEventSourceMappingRequest) {
			r.StartingPosition, r.StartingPositionTimestamp = ptr("LATEST"), ptr(1.0)
		}, lambdaerr.TypeInvalidParameterValue, "only valid with StartingPosition AT_TIMESTAMP"},
		{"retries -2", func(r *lambdaapi.CreateEventSourceMappingRequest) { r.MaximumRetryAttempts = ptr(-2) }, lambdaerr.TypeValidation, "'maximumRetryAttempts'"},
		{"retries 10001", func(r *lambdaapi.CreateEventSourceMappingRequest) { r.MaximumRetryAttempts = ptr(10001) }, lambdaerr.TypeValidation, "'maximumRetryAttempts'"},
		{"record age 30", func(r *lambdaapi.CreateEventSourceMappingRequest) { r.MaximumRecordAgeInSeconds = ptr(30) }, lambdaerr.TypeInvalidParameterValue, "MaximumRecordAgeInSeconds must be -1 or between 60"},
		{"parallelization 11", func(r *lambdaapi.CreateEventSourceMappingRequest) { r.ParallelizationFactor = ptr(11) }, lambdaerr.TypeValidation, "'parallelizationFactor'"},
		{"batch 10001", func(r *lambdaapi.CreateEventSourceMappingRequest) { r.BatchSize = ptr(10001) }, lambdaerr.TypeValidation, "'batchSize'"},
		{"missing stream", func(r *lambdaapi.CreateEventSourceMappingRequest) { r.EventSourceArn = ptr(streamARN("nope")) }, lambdaerr.TypeInvalidParameterValue, "Stream not found"},
		{"another account", func(r *lambdaapi.CreateEventSourceMappingRequest) {
			r.EventSourceArn = ptr("arn:aws:kinesis:us-east-1:123456789012:stream/s")
		}, lambdaerr.TypeInvalidParameterValue, "built-in streams are in region us-east-1"},
		{"report failures", func(r *lambdaapi.CreateEventSourceMappingRequest) {
			r.FunctionResponseTypes = ptr([]string{lambdaapi.ReportBatchItemFailures})
		}, lambdaerr.TypeInvalidParameterValue, "not supported for built-in streams"},
		{"queue with a starting position", func(r *lambdaapi.CreateEventSourceMappingRequest) { r.EventSourceArn = ptr(queueARN("q")) }, lambdaerr.TypeInvalidParameterValue, "apply to streams only"},
		{"an OnFailure destination", func(r *lambdaapi.CreateEventSourceMappingRequest) {
			r.DestinationConfig = &lambdaapi.DestinationConfig{OnFailure: &lambdaapi.EventDestination{Destination: queueARN("dlq")}}
		}, lambdaerr.TypeInvalidParameterValue, "DestinationConfig of a stream mapping is not supported by this server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := base()
			tc.edit(&req)
			_, err := h.svc.Create(t.Context(), &req)
			le, ok := lambdaerr.As(err)
			if !ok || le.Type != tc.wantType || !strings.Contains(le.Message, tc.wantMsg) {
				t.Fatalf("Create = %v, want %s containing %q", err, tc.wantType, tc.wantMsg)
			}
		})
	}
	// Defaults, as Lambda reports them.
	req := base()
	c, err := h.svc.Create(t.Context(), &req)
	if err != nil {
		t.Fatal(err)
	}
	if c.BatchSize != 100 || c.StartingPosition != "TRIM_HORIZON" || *c.MaximumRetryAttempts != -1 || *c.MaximumRecordAgeInSeconds != -1 ||
		*c.ParallelizationFactor != 1 || *c.BisectBatchOnFunctionError || c.State != lambdaapi.ESMStateCreating {
		t.Fatalf("defaults: %+v", c)
	}
	// A stream mapping's reason, ARN and empty OnFailure, as Lambda shows
	// them (recorded: LocalStack's Kinesis integration snapshot).
	if c.StateTransitionReason != "User action" || c.DestinationConfig == nil || c.DestinationConfig.OnFailure == nil ||
		c.DestinationConfig.OnFailure.Destination != "" || c.EventSourceMappingArn != "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:"+c.UUID {
		t.Fatalf("stream mapping reason, destination, ARN: %q %+v %q", c.StateTransitionReason, c.DestinationConfig, c.EventSourceMappingArn)
	}
	_, err = h.svc.Create(t.Context(), &req)
	if le, ok := lambdaerr.As(err); !ok || le.Type != lambdaerr.TypeResourceConflict || !strings.Contains(le.Message, "provided mapping already exists") {
		t.Fatalf("second mapping: %v", err)
	}
	u, err := h.svc.Update(t.Context(), c.UUID, &lambdaapi.UpdateEventSourceMappingRequest{StreamMappingOptions: lambdaapi.StreamMappingOptions{MaximumRetryAttempts: ptr(3), BisectBatchOnFunctionError: ptr(true)}})
	if err != nil || *u.MaximumRetryAttempts != 3 || !*u.BisectBatchOnFunctionError {
		t.Fatalf("Update: %+v %v", u, err)
	}
}

func waitRecords(t *testing.T, inv *kinesisInvoker, want ...string) {
	t.Helper()
	testutil.WaitFor(t, 30*time.Second, func() error {
		_, count := inv.seen()
		for _, w := range want {
			if count[w] == 0 {
				return fmt.Errorf("record %q not delivered yet (seen %v)", w, count)
			}
		}
		return nil
	})
}

func TestStreamMappingDelivers(t *testing.T) {
	h := newStreamHarness(t, map[string]int{"fail-twice": 2, "fail-always": -1})
	ctx := t.Context()
	for _, name := range []string{"s", "t"} {
		if err := h.st.Create(ctx, name, 2); err != nil {
			t.Fatal(err)
		}
	}
	h.put(t, "s", "a", "a1", "b", "b1", "a", "a2", "user-1", "u1", "b", "b2")
	_, err := h.svc.Create(ctx, &lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr("fn"), EventSourceArn: ptr(streamARN("s")),
		StartingPosition: ptr("TRIM_HORIZON"), BatchSize: ptr(2)})
	if err != nil {
		t.Fatal(err)
	}
	waitRecords(t, h.inv, "a1", "a2", "b1", "b2", "u1")
	// A failing record blocks its shard ("b" is shard 1) until it succeeds.
	h.put(t, "s", "b", "fail-twice", "b", "b3", "a", "a3")
	testutil.WaitFor(t, 30*time.Second, func() error {
		if _, count := h.inv.seen(); count["fail-twice"] < 3 || count["a3"] == 0 {
			return fmt.Errorf("fail-twice delivered %d times, a3 %d", count["fail-twice"], count["a3"])
		}
		return nil
	})
	time.Sleep(500 * time.Millisecond)
	byKey, count := h.inv.seen()
	if count["fail-twice"] != 3 {
		t.Errorf("fail-twice delivered %d times, want 3", count["fail-twice"])
	}
	for key, want := range map[string]string{"a": "[a1 a2 a3]", "b": "[b1 b2 fail-twice b3]", "user-1": "[u1]"} {
		if got := fmt.Sprint(byKey[key]); got != want {
			t.Errorf("partition key %s: %s, want %s", key, got, want)
		}
	}
	// Records of stream t put before a LATEST mapping are skipped; with
	// MaximumRetryAttempts 1 and bisection a record that always fails is
	// tried alone twice, then discarded, and the shard moves on.
	h.put(t, "t", "b", "old")
	_, err = h.svc.Create(ctx, &lambdaapi.CreateEventSourceMappingRequest{FunctionName: ptr("fn"), EventSourceArn: ptr(streamARN("t")),
		StartingPosition: ptr("LATEST"), BatchSize: ptr(10), StreamMappingOptions: lambdaapi.StreamMappingOptions{MaximumRetryAttempts: ptr(1), BisectBatchOnFunctionError: ptr(true)}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the consumers exist
	h.put(t, "t", "b", "fail-always", "b", "after")
	alone := func(data string) (n int) {
		h.inv.mu.Lock()
		defer h.inv.mu.Unlock()
		for _, ev := range h.inv.batches {
			if len(ev.Records) == 1 && string(ev.Records[0].Kinesis.Data) == data {
				n++
			}
		}
		return n
	}
	testutil.WaitFor(t, 30*time.Second, func() error {
		if alone("after") == 0 {
			return fmt.Errorf("after not delivered alone yet; fail-always alone %d times", alone("fail-always"))
		}
		return nil
	})
	_, count = h.inv.seen()
	if count["old"] != 0 || alone("fail-always") != 2 {
		t.Errorf("old delivered %d times (want 0), fail-always alone %d (want 2)", count["old"], alone("fail-always"))
	}
	h.inv.mu.Lock()
	defer h.inv.mu.Unlock()
	if h.inv.overlap {
		t.Error("two batches of one shard were in flight at once")
	}
	for _, ev := range h.inv.batches {
		r := ev.Records[0]
		if r.EventSource != "aws:kinesis" || r.EventName != "aws:kinesis:record" || r.EventVersion != "1.0" || r.Kinesis.KinesisSchemaVersion != "1.0" ||
			r.AwsRegion != testRegion || !strings.HasPrefix(r.EventID, "shardId-00000000000") || !strings.HasSuffix(r.EventID, ":"+r.Kinesis.SequenceNumber) ||
			!strings.HasPrefix(r.EventSourceArn, "arn:aws:kinesis:us-east-1:000000000000:stream/") || r.Kinesis.ApproximateArrivalTimestamp.IsZero() {
			t.Fatalf("record %+v", r)
		}
	}
}
