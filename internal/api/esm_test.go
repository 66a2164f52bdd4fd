package api_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/updraft/updraft/internal/api"
	"github.com/updraft/updraft/internal/esm"
	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/metrics"
	"github.com/updraft/updraft/internal/queue"
	"github.com/updraft/updraft/internal/registry"
	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

// esmFixture is the API with event source mappings over a real
// JetStream; its pollers are not started.
func esmFixture(t *testing.T) *fixture {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st := storetest.Open(t, t.TempDir(), logger)
	reg, err := registry.New(t.Context(), st, registry.Config{Region: testRegion, AccountID: testAccount, CodeCacheDir: t.TempDir()}, logger)
	if err != nil {
		t.Fatalf("registry.New: %v", err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	runner := &fakeRunner{}
	inv := invoke.New(reg, runner, metrics.NewInvoke(prometheus.NewRegistry()), logger)
	q := queue.New(st.JetStream(), 1, logger)
	svc, err := esm.New(t.Context(), esm.Config{Region: testRegion, AccountID: testAccount}, esm.Deps{
		JetStream: st.JetStream(), Invoker: inv, Resolver: reg, Queues: q, Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	deps := api.Deps{Logger: logger, Registry: reg, Invoker: inv, ESM: svc}
	return &fixture{srv: api.New(deps), reg: reg, runner: runner, logs: logs}
}

func TestEventSourceMappingRoutes(t *testing.T) {
	f := esmFixture(t)
	f.mustCreate(t, "fn")
	const path = "/2015-03-31/event-source-mappings/"
	source := queue.ARN(testRegion, testAccount, "jobs")

	rec := f.doJSON(t, "POST", path, map[string]any{"FunctionName": "fn", "EventSourceArn": source, "BatchSize": 5})
	wantStatus(t, rec, http.StatusAccepted)
	var created lambdaapi.EventSourceMappingConfiguration
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	if created.State != "Creating" || created.BatchSize != 5 || created.FunctionArn != fnARN+"fn" || created.EventSourceArn != source {
		t.Fatalf("create = %s", rec.Body)
	}

	rec = f.doJSON(t, "POST", path, map[string]any{"FunctionName": "fn", "EventSourceArn": source})
	wantError(t, rec, http.StatusConflict, "ResourceConflictException",
		`An event source mapping with SQS arn (" `+source+` ") and function (" fn ") already exists. Please update or delete the existing mapping with UUID `+created.UUID)
	rec = f.doJSON(t, "POST", path, map[string]any{"FunctionName": "missing", "EventSourceArn": source})
	wantError(t, rec, http.StatusBadRequest, "InvalidParameterValueException", "Function does not exist")
	rec = f.doJSON(t, "POST", path, map[string]any{"FunctionName": "fn", "EventSourceArn": source, "BatchSize": 100})
	wantError(t, rec, http.StatusBadRequest, "InvalidParameterValueException", "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
	rec = f.doJSON(t, "POST", path, map[string]any{"FunctionName": "fn", "EventSourceArn": source, "BatchSize": 0})
	wantError(t, rec, http.StatusBadRequest, "ValidationException", "1 validation error detected: Value '0' at 'batchSize' failed to satisfy constraint: Member must have value greater than or equal to 1")

	rec = f.do(t, "GET", path+created.UUID, nil)
	wantStatus(t, rec, http.StatusOK)
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"State": "Enabled", "StateTransitionReason": "USER_INITIATED", "MaximumBatchingWindowInSeconds": 0.0, "UUID": created.UUID} {
		if got[k] != v {
			t.Errorf("get: %s = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got["LastModified"].(float64); !ok {
		t.Errorf("get: LastModified = %v, want epoch seconds", got["LastModified"])
	}

	rec = f.do(t, "GET", path+"?FunctionName=fn&EventSourceArn="+url.QueryEscape(source)+"&MaxItems=5", nil)
	wantStatus(t, rec, http.StatusOK)
	var list lambdaapi.ListEventSourceMappingsResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list.EventSourceMappings) != 1 {
		t.Fatalf("list = %s (%v)", rec.Body, err)
	}
	rec = f.do(t, "GET", path+"?MaxItems=0", nil)
	wantError(t, rec, http.StatusBadRequest, "ValidationException", "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1")

	rec = f.doJSON(t, "PUT", path+created.UUID, map[string]any{"Enabled": false})
	wantStatus(t, rec, http.StatusAccepted)
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got["State"] != "Disabling" {
		t.Fatalf("update = %s", rec.Body)
	}

	rec = f.do(t, "DELETE", path+created.UUID, nil)
	wantStatus(t, rec, http.StatusAccepted)
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got["State"] != "Deleting" {
		t.Fatalf("delete = %s", rec.Body)
	}
	rec = f.do(t, "GET", path+created.UUID, nil)
	wantError(t, rec, http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist.")
	rec = f.do(t, "DELETE", path+created.UUID, nil)
	wantError(t, rec, http.StatusNotFound, "ResourceNotFoundException", "The resource you requested does not exist.")
}

func TestEventSourceMappingsUnavailable(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, "GET", "/2015-03-31/event-source-mappings/", nil)
	wantError(t, rec, http.StatusServiceUnavailable, "ServiceUnavailableException", "Event source mappings are not available on this server.")
}
