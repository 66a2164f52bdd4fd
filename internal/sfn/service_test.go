package sfn

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/metrics"
	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

// fakeInvoker runs "functions" written in Go.
type fakeInvoker struct {
	mu    sync.Mutex
	calls map[string]int
	fns   map[string]func(payload []byte, call int) (out []byte, errType string)
	peak  atomic.Int64
	now   atomic.Int64
}

func (f *fakeInvoker) Invoke(ctx context.Context, req *invoke.Request) (*invoke.Response, error) {
	name := req.FunctionName
	if i := strings.LastIndex(name, ":function:"); i >= 0 {
		name = name[i+len(":function:"):]
	}
	f.mu.Lock()
	f.calls[name]++
	n := f.calls[name]
	fn := f.fns[name]
	f.mu.Unlock()
	cur := f.now.Add(1)
	defer f.now.Add(-1)
	for {
		p := f.peak.Load()
		if cur <= p || f.peak.CompareAndSwap(p, cur) {
			break
		}
	}
	if fn == nil {
		return nil, fmt.Errorf("no function %s", name)
	}
	out, et := fn(req.Payload, n)
	r := &invoke.Response{StatusCode: 200, RequestID: "req-1", Payload: out, ExecutedVersion: "$LATEST"}
	if et != "" {
		r.FunctionError, r.ErrorType = "Unhandled", et
	}
	return r, nil
}

// fakeQueues records what was sent.
type fakeQueues struct {
	mu   sync.Mutex
	sent map[string][]string // by queue name
	ids  map[string]bool
}

func (q *fakeQueues) Send(_ context.Context, name, id string, body []byte) (string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.ids[id] {
		q.ids[id] = true
		q.sent[name] = append(q.sent[name], string(body))
	}
	return "msg-" + id[:12], nil
}

type fixture struct {
	queues  *fakeQueues
	svc     *Service
	h       http.Handler
	inv     *fakeInvoker
	metrics *metrics.Workflows
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	logger := testutil.Logger(t, slog.LevelWarn)
	st := storetest.Open(t, t.TempDir(), logger)
	inv := &fakeInvoker{calls: map[string]int{}, fns: map[string]func([]byte, int) ([]byte, string){}}
	m := metrics.NewWorkflows(prometheus.NewRegistry())
	q := &fakeQueues{sent: map[string][]string{}, ids: map[string]bool{}}
	svc, err := New(t.Context(), Config{Region: "us-east-1", AccountID: "123456789012", Workers: 8},
		Deps{JetStream: st.JetStream(), Invoker: inv, Queues: q, Metrics: m, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	return &fixture{svc: svc, h: svc.Handler(nil), inv: inv, metrics: m, queues: q}
}

// mustB is must for benchmarks.
func (f *fixture) mustB(b *testing.B, op string, in any) map[string]any {
	b.Helper()
	out, err := f.callTB(b, op, in)
	if err != nil {
		b.Fatalf("%s: %v", op, err)
	}
	return out
}

// call posts one operation and decodes the answer; a non-200 answer is
// returned as an error carrying __type.
func (f *fixture) call(t *testing.T, op string, in any) (map[string]any, error) {
	t.Helper()
	return f.callTB(t, op, in)
}

func (f *fixture) callTB(t testing.TB, op string, in any) (map[string]any, error) {
	t.Helper()
	b, _ := json.Marshal(in)
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(b))
	req.Header.Set("X-Amz-Target", TargetPrefix+op)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s: body %q: %v", op, rec.Body.String(), err)
	}
	if rec.Code != http.StatusOK {
		return out, fmt.Errorf("%v: %v", out["__type"], out["message"])
	}
	return out, nil
}

func (f *fixture) must(t *testing.T, op string, in any) map[string]any {
	t.Helper()
	out, err := f.call(t, op, in)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out
}

// run creates a machine, starts it with input and waits for the end.
func (f *fixture) run(t *testing.T, name, def, input string) map[string]any {
	t.Helper()
	f.must(t, "CreateStateMachine", map[string]any{"name": name, "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"})
	start := f.must(t, "StartExecution", map[string]any{"stateMachineArn": f.svc.machineARN(name), "input": input})
	var out map[string]any
	testutil.WaitFor(t, 20*time.Second, func() error {
		out = f.must(t, "DescribeExecution", map[string]any{"executionArn": start["executionArn"]})
		if out["status"] == StatusRunning {
			return fmt.Errorf("still running")
		}
		return nil
	})
	return out
}

func TestPassChoiceAndMapRunToTheEnd(t *testing.T) {
	f := newFixture(t)
	f.inv.fns["square"] = func(p []byte, _ int) ([]byte, string) {
		var v struct{ N int }
		_ = json.Unmarshal(p, &v)
		time.Sleep(20 * time.Millisecond)
		return []byte(fmt.Sprintf(`{"sq":%d}`, v.N*v.N)), ""
	}
	def := `{"StartAt":"Prep","States":{
	  "Prep":{"Type":"Pass","Parameters":{"xs.$":"States.ArrayRange(1, 12, 1)"},"Next":"Fan"},
	  "Fan":{"Type":"Map","ItemsPath":"$.xs","MaxConcurrency":3,"ItemSelector":{"N.$":"$$.Map.Item.Value"},
	    "ItemProcessor":{"StartAt":"Sq","States":{"Sq":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
	      "Parameters":{"FunctionName":"square","Payload.$":"$"},"OutputPath":"$.Payload.sq","End":true}}},
	  "ResultPath":"$.squares","Next":"Check"},
	  "Check":{"Type":"Choice","Choices":[{"Variable":"$.squares[11]","NumericEquals":144,"Next":"Done"}],"Default":"Bad"},
	  "Bad":{"Type":"Fail","Error":"Wrong"},
	  "Done":{"Type":"Pass","OutputPath":"$.squares","End":true}}}`
	out := f.run(t, "squares", def, `{}`)
	if out["status"] != StatusSucceeded || out["output"] != `[1,4,9,16,25,36,49,64,81,100,121,144]` {
		t.Fatalf("execution = %v", out)
	}
	if n := counterValue(t, f.metrics.Ended.WithLabelValues("squares", StatusSucceeded)); n != 1 {
		t.Errorf("executions ended SUCCEEDED = %v, want 1", n)
	}
	if n := counterValue(t, f.metrics.Started.WithLabelValues("squares")); n != 1 {
		t.Errorf("executions started = %v, want 1", n)
	}
	// Prep, Fan, Check, Done, and Sq in each of 12 iterations.
	if n := counterValue(t, f.metrics.Transitions.WithLabelValues("squares")); n != 16 {
		t.Errorf("state transitions = %v, want 16", n)
	}
	if p := f.inv.peak.Load(); p > 3 {
		t.Errorf("%d functions ran at once, above MaxConcurrency 3", p)
	}
	hist := f.must(t, "GetExecutionHistory", map[string]any{"executionArn": out["executionArn"], "maxResults": 1000})
	events := hist["events"].([]any)
	counts := map[string]int{}
	for i, e := range events {
		m := e.(map[string]any)
		counts[m["type"].(string)]++
		if int(m["id"].(float64)) != i+1 {
			t.Fatalf("event %d has id %v", i, m["id"])
		}
	}
	if counts["MapIterationStarted"] != 12 || counts["TaskSucceeded"] != 12 || counts["ExecutionSucceeded"] != 1 || counts["MapStateStarted"] != 1 {
		t.Errorf("history counts = %v", counts)
	}
}

func TestRetryCatchAndHistory(t *testing.T) {
	f := newFixture(t)
	f.inv.fns["flaky"] = func(_ []byte, n int) ([]byte, string) {
		return []byte(fmt.Sprintf(`{"errorType":"Boom","errorMessage":"attempt %d"}`, n)), "Boom"
	}
	def := `{"StartAt":"Call","States":{
	  "Call":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:flaky",
	    "Retry":[{"ErrorEquals":["Boom"],"IntervalSeconds":1,"MaxAttempts":2,"BackoffRate":1}],
	    "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"Handled"}],"End":true},
	  "Handled":{"Type":"Pass","End":true}}}`
	out := f.run(t, "flaky", def, `{"a":1}`)
	if out["status"] != StatusSucceeded || !strings.Contains(out["output"].(string), `"Error":"Boom"`) {
		t.Fatalf("execution = %v", out)
	}
	if f.inv.calls["flaky"] != 3 {
		t.Errorf("function called %d times, want 3 (1 + 2 retries)", f.inv.calls["flaky"])
	}
	hist := f.must(t, "GetExecutionHistory", map[string]any{"executionArn": out["executionArn"]})
	failed := 0
	for _, e := range hist["events"].([]any) {
		if e.(map[string]any)["type"] == "LambdaFunctionFailed" {
			failed++
		}
	}
	if failed != 3 {
		t.Errorf("history shows %d failed attempts, want 3", failed)
	}
}

func TestParallelWithFailingBranchAndWait(t *testing.T) {
	f := newFixture(t)
	def := `{"StartAt":"Both","States":{
	  "Both":{"Type":"Parallel","Branches":[
	    {"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}},
	    {"StartAt":"F","States":{"F":{"Type":"Fail","Error":"BranchBroke","Cause":"on purpose"}}}],
	   "Catch":[{"ErrorEquals":["BranchBroke"],"Next":"Caught"}],"End":true},
	  "Caught":{"Type":"Pass","End":true}}}`
	out := f.run(t, "par", def, `{}`)
	if out["status"] != StatusSucceeded || out["output"] != `{"Cause":"on purpose","Error":"BranchBroke"}` {
		t.Fatalf("execution = %v", out)
	}
	began := time.Now()
	out = f.run(t, "waits", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"P"},"P":{"Type":"Parallel","Branches":[{"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"End":true}}},{"StartAt":"B","States":{"B":{"Type":"Pass","Result":2,"End":true}}}],"End":true}}}`, `{}`)
	if out["status"] != StatusSucceeded || out["output"] != `[1,2]` {
		t.Fatalf("execution = %v", out)
	}
	if d := time.Since(began); d < time.Second {
		t.Errorf("a 1 s Wait finished after %v", d)
	}
}

func TestTaskTokenAndErrors(t *testing.T) {
	f := newFixture(t)
	var token atomic.Value
	f.inv.fns["handoff"] = func(p []byte, _ int) ([]byte, string) {
		var v struct{ Token string }
		_ = json.Unmarshal(p, &v)
		token.Store(v.Token)
		return []byte(`null`), ""
	}
	def := `{"StartAt":"Ask","States":{"Ask":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
	  "Parameters":{"FunctionName":"handoff","Payload":{"Token.$":"$$.Task.Token"}},"ResultPath":"$.answer","End":true}}}`
	f.must(t, "CreateStateMachine", map[string]any{"name": "token", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"})
	start := f.must(t, "StartExecution", map[string]any{"stateMachineArn": f.svc.machineARN("token"), "name": "one", "input": `{"q":1}`})
	testutil.WaitFor(t, 10*time.Second, func() error {
		if token.Load() == nil {
			return fmt.Errorf("no token yet")
		}
		return nil
	})
	// The same name and input while it runs: the same execution.
	again := f.must(t, "StartExecution", map[string]any{"stateMachineArn": f.svc.machineARN("token"), "name": "one", "input": `{"q":1}`})
	if again["executionArn"] != start["executionArn"] || again["startDate"] != start["startDate"] {
		t.Errorf("a repeated StartExecution answered %v, want %v", again, start)
	}
	if _, err := f.call(t, "StartExecution", map[string]any{"stateMachineArn": f.svc.machineARN("token"), "name": "one", "input": `{"q":9}`}); err == nil || !strings.HasPrefix(err.Error(), "ExecutionAlreadyExists") {
		t.Errorf("the same name with other input: %v", err)
	}
	if _, err := f.call(t, "SendTaskSuccess", map[string]any{"taskToken": "bogus", "output": "{}"}); err == nil || !strings.HasPrefix(err.Error(), "InvalidToken") {
		t.Errorf("a bogus token: %v", err)
	}
	f.must(t, "SendTaskSuccess", map[string]any{"taskToken": token.Load(), "output": `{"ok":true}`})
	testutil.WaitFor(t, 10*time.Second, func() error {
		out := f.must(t, "DescribeExecution", map[string]any{"executionArn": start["executionArn"]})
		if out["output"] != `{"answer":{"ok":true},"q":1}` {
			return fmt.Errorf("execution = %v", out)
		}
		return nil
	})
	if _, err := f.call(t, "SendTaskSuccess", map[string]any{"taskToken": token.Load(), "output": "{}"}); err == nil || !strings.HasPrefix(err.Error(), "TaskTimedOut") {
		t.Errorf("a used token: %v", err)
	}
	// Same name and input: the same execution; other input: refused.
	if _, err := f.call(t, "StartExecution", map[string]any{"stateMachineArn": f.svc.machineARN("token"), "name": "one", "input": `{"q":1}`}); err == nil || !strings.HasPrefix(err.Error(), "ExecutionAlreadyExists") {
		t.Errorf("reusing the name of a finished execution: %v", err)
	}
	tests := []struct {
		op   string
		in   map[string]any
		want string
	}{
		{"DescribeStateMachine", map[string]any{"stateMachineArn": f.svc.machineARN("nope")}, "StateMachineDoesNotExist"},
		{"DescribeStateMachine", map[string]any{"stateMachineArn": "bad"}, "InvalidArn"},
		{"DescribeExecution", map[string]any{"executionArn": f.svc.executionARN("token", "none")}, "ExecutionDoesNotExist"},
		{"CreateStateMachine", map[string]any{"name": "x", "definition": `{"StartAt":"A","States":{"A":{"Type":"Nope"}}}`, "roleArn": "arn:aws:iam::123456789012:role/r"}, "InvalidDefinition"},
		{"CreateStateMachine", map[string]any{"name": "x", "definition": `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","End":true}}}`, "roleArn": "arn:aws:iam::123456789012:role/r"}, "InvalidDefinition"},
		{"CreateStateMachine", map[string]any{"name": "bad name", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"}, "InvalidName"},
		{"StartExecution", map[string]any{"stateMachineArn": f.svc.machineARN("token"), "input": "{"}, "InvalidExecutionInput"},
		{"Nope", map[string]any{}, "UnknownOperationException"},
	}
	for _, tc := range tests {
		if _, err := f.call(t, tc.op, tc.in); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s %v: %v, want %s", tc.op, tc.in, err, tc.want)
		}
	}
}

// counterValue reads a counter.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func TestStartSyncExecution(t *testing.T) {
	f := newFixture(t)
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"sum.$":"States.MathAdd($.a, $.b)"},"End":true}}}`
	f.must(t, "CreateStateMachine", map[string]any{"name": "express", "type": "EXPRESS", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"})
	out := f.must(t, "StartSyncExecution", map[string]any{"stateMachineArn": f.svc.machineARN("express"), "input": `{"a":2,"b":3}`})
	if out["status"] != StatusSucceeded || out["output"] != `{"sum":5}` {
		t.Fatalf("StartSyncExecution = %v", out)
	}
	f.must(t, "CreateStateMachine", map[string]any{"name": "standard", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"})
	if _, err := f.call(t, "StartSyncExecution", map[string]any{"stateMachineArn": f.svc.machineARN("standard")}); err == nil || !strings.HasPrefix(err.Error(), "StateMachineTypeNotSupported") {
		t.Errorf("StartSyncExecution of a STANDARD machine: %v", err)
	}
}

func TestSQSSendMessage(t *testing.T) {
	f := newFixture(t)
	def := `{"StartAt":"Send","States":{"Send":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage",
	  "Parameters":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/jobs","MessageBody":{"job.$":"$.job"}},
	  "ResultSelector":{"id.$":"$.MessageId","md5.$":"$.MD5OfMessageBody"},"Next":"Ask"},
	  "Ask":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
	  "Parameters":{"QueueUrl":"http://127.0.0.1:9321/updraft/v1/queues/approvals","MessageBody.$":"$$.Task.Token"},"ResultPath":"$.approval","End":true}}}`
	f.must(t, "CreateStateMachine", map[string]any{"name": "sqs", "definition": def, "roleArn": "arn:aws:iam::123456789012:role/r"})
	start := f.must(t, "StartExecution", map[string]any{"stateMachineArn": f.svc.machineARN("sqs"), "input": `{"job":7}`})
	var token string
	testutil.WaitFor(t, 10*time.Second, func() error {
		f.queues.mu.Lock()
		defer f.queues.mu.Unlock()
		if len(f.queues.sent["approvals"]) == 0 {
			return fmt.Errorf("nothing sent to approvals yet")
		}
		token = f.queues.sent["approvals"][0]
		return nil
	})
	if got := f.queues.sent["jobs"]; len(got) != 1 || got[0] != `{"job":7}` {
		t.Fatalf("jobs received %v", got)
	}
	f.must(t, "SendTaskSuccess", map[string]any{"taskToken": token, "output": `"yes"`})
	testutil.WaitFor(t, 10*time.Second, func() error {
		out := f.must(t, "DescribeExecution", map[string]any{"executionArn": start["executionArn"]})
		if out["status"] != StatusSucceeded {
			return fmt.Errorf("execution = %v", out)
		}
		if o := out["output"].(string); !strings.Contains(o, `"approval":"yes"`) || !strings.Contains(o, `"md5":"`) {
			t.Fatalf("output %s", o)
		}
		return nil
	})
}

func TestNestedExecutions(t *testing.T) {
	f := newFixture(t)
	child := `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"C"},"C":{"Type":"Choice","Choices":[{"Variable":"$.fail","BooleanEquals":true,"Next":"F"}],"Default":"P"},
	  "F":{"Type":"Fail","Error":"ChildBroke"},"P":{"Type":"Pass","Parameters":{"doubled.$":"States.MathAdd($.n, $.n)"},"End":true}}}`
	f.must(t, "CreateStateMachine", map[string]any{"name": "child", "definition": child, "roleArn": "arn:aws:iam::123456789012:role/r"})
	parent := `{"StartAt":"Fire","States":{
	  "Fire":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution","Parameters":{"StateMachineArn":"` + f.svc.machineARN("child") + `","Input":{"n":1}},"ResultPath":"$.fired","Next":"Run"},
	  "Run":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2","Parameters":{"StateMachineArn":"` + f.svc.machineARN("child") + `","Input":{"n.$":"$.n","fail.$":"$.fail"}},
	    "ResultSelector":{"out.$":"$.Output","status.$":"$.Status"},"ResultPath":"$.child",
	    "Catch":[{"ErrorEquals":["States.TaskFailed"],"ResultPath":"$.err","Next":"Failed"}],"End":true},
	  "Failed":{"Type":"Pass","Parameters":{"error.$":"$.err.Error"},"End":true}}}`
	f.must(t, "CreateStateMachine", map[string]any{"name": "parent", "definition": parent, "roleArn": "arn:aws:iam::123456789012:role/r"})
	start := func(input string) map[string]any {
		t.Helper()
		s := f.must(t, "StartExecution", map[string]any{"stateMachineArn": f.svc.machineARN("parent"), "input": input})
		var out map[string]any
		testutil.WaitFor(t, 20*time.Second, func() error {
			out = f.must(t, "DescribeExecution", map[string]any{"executionArn": s["executionArn"]})
			if out["status"] == StatusRunning {
				return fmt.Errorf("running")
			}
			return nil
		})
		return out
	}
	out := start(`{"n":21,"fail":false}`)
	var got struct {
		Fired struct{ ExecutionArn string }
		Child struct {
			Out    struct{ Doubled int }
			Status string
		}
	}
	if err := json.Unmarshal([]byte(out["output"].(string)), &got); err != nil || out["status"] != StatusSucceeded ||
		got.Child.Out.Doubled != 42 || got.Child.Status != StatusSucceeded || !strings.Contains(got.Fired.ExecutionArn, ":execution:child:") {
		t.Fatalf("parent = %v (%v)", out, err)
	}
	out = start(`{"n":1,"fail":true}`)
	if out["status"] != StatusSucceeded || out["output"] != `{"error":"States.TaskFailed"}` {
		t.Fatalf("parent of a failing child = %v", out)
	}
}
