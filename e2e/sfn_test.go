package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/updraft/updraft/internal/testutil"
)

// sfnCall posts one Step Functions operation, signed as the SDKs sign
// it, for the polling the aws CLI would make slow; the steps a person
// types go through the CLI itself.
func sfnCall(t *testing.T, srv *testutil.Server, op string, in any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(in)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AWSStepFunctions."+op)
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "states", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", op, resp.StatusCode, b)
	}
	return out
}

// sfnFunctions creates the python functions of testdata/sfn/wf.py with
// the aws CLI and returns their ARN prefix.
func sfnFunctions(t *testing.T, srv *testutil.Server, names ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sfn", "wf.py"))
	if err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(t.TempDir(), "wf.zip")
	if err := os.WriteFile(zipPath, testutil.ZipFiles(t, map[string]testutil.ZipEntry{"wf.py": {Data: b}}), 0o644); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			awsCLI(t, srv, false, "lambda", "create-function", "--function-name", "wf-"+n, "--runtime", "python3.12",
				"--handler", "wf."+n, "--role", testRole, "--zip-file", "fileb://"+zipPath, "--timeout", "30")
			awsCLI(t, srv, false, "lambda", "wait", "function-active-v2", "--function-name", "wf-"+n)
		}()
	}
	wg.Wait()
	out, _ := awsCLI(t, srv, false, "lambda", "get-function-configuration", "--function-name", "wf-"+names[0])
	var cfg struct{ FunctionArn string }
	if err := json.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(cfg.FunctionArn, names[0])
}

// sfnRole is the role state machines run as.
const sfnRole = "arn:aws:iam::000000000000:role/workflow"

// sfnJSON runs an aws stepfunctions command and decodes its output.
func sfnJSON(t *testing.T, srv *testutil.Server, args ...string) map[string]any {
	t.Helper()
	out, _ := awsCLI(t, srv, false, append([]string{"stepfunctions"}, args...)...)
	var m map[string]any
	if strings.TrimSpace(out) == "" {
		return m
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("stepfunctions %v: %s (%v)", args, out, err)
	}
	return m
}

// createMachine creates a state machine from a definition.
func createMachine(t *testing.T, srv *testutil.Server, name, def string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".json")
	if err := os.WriteFile(path, []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	out := sfnJSON(t, srv, "create-state-machine", "--name", name, "--definition", "file://"+path, "--role-arn", sfnRole)
	return out["stateMachineArn"].(string)
}

// startAndWait starts an execution and polls describe-execution until it ends.
func startAndWait(t *testing.T, srv *testutil.Server, machine, input string, timeout time.Duration) map[string]any {
	t.Helper()
	start := sfnJSON(t, srv, "start-execution", "--state-machine-arn", machine, "--input", input)
	return waitExecution(t, srv, start["executionArn"].(string), timeout)
}

func waitExecution(t *testing.T, srv *testutil.Server, arn string, timeout time.Duration) map[string]any {
	t.Helper()
	testutil.WaitFor(t, timeout, func() error {
		if d := sfnCall(t, srv, "DescribeExecution", map[string]any{"executionArn": arn}); d["status"] == "RUNNING" {
			time.Sleep(100 * time.Millisecond)
			return fmt.Errorf("execution still running")
		}
		return nil
	})
	// What the person polling would see last.
	return sfnJSON(t, srv, "describe-execution", "--execution-arn", arn)
}

// historyTypes lists the types of an execution's events, in order.
func historyTypes(t *testing.T, srv *testutil.Server, arn string) ([]string, []map[string]any) {
	t.Helper()
	var types []string
	var events []map[string]any
	in := map[string]any{"executionArn": arn, "maxResults": 1000}
	for {
		h := sfnCall(t, srv, "GetExecutionHistory", in)
		for _, e := range h["events"].([]any) {
			m := e.(map[string]any)
			types = append(types, m["type"].(string))
			events = append(events, m)
		}
		next, _ := h["nextToken"].(string)
		if next == "" {
			return types, events
		}
		in["nextToken"] = next
	}
}

func countOf(types []string, want string) int {
	n := 0
	for _, t := range types {
		if t == want {
			n++
		}
	}
	return n
}

// fanOutDefinition is the seed's workflow: prepare the items, map the
// computing function over them, aggregate in a final task. wait adds a
// Wait state to each iteration.
func fanOutDefinition(fn string, conc int, wait bool) string {
	iter := `"StartAt":"Square","States":{"Square":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
	  "Parameters":{"FunctionName":"` + fn + `square","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}`
	if wait {
		iter = `"StartAt":"Pause","States":{"Pause":{"Type":"Wait","Seconds":1,"Next":"Square"},"Square":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
	  "Parameters":{"FunctionName":"` + fn + `square","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}`
	}
	return fmt.Sprintf(`{"Comment":"fan out, fan in","StartAt":"Prepare","States":{
	  "Prepare":{"Type":"Task","Resource":"%sprepare","Next":"Fan"},
	  "Fan":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":%d,
	    "ItemSelector":{"n.$":"$$.Map.Item.Value.n","sleep":0.05},
	    "ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},%s},
	    "ResultPath":"$.results","Next":"Aggregate"},
	  "Aggregate":{"Type":"Task","Resource":"%saggregate","InputPath":"$","Parameters":{"results.$":"$.results"},"End":true}}}`,
		fn, conc, iter, fn)
}

// wantAggregate is the aggregate of n items.
func wantAggregate(n int) map[string]any {
	sum := 0
	ns := make([]any, n)
	for i := range n {
		sum += i * i
		ns[i] = float64(i)
	}
	return map[string]any{"count": float64(n), "sum": float64(sum), "ns": ns}
}

func checkAggregate(t *testing.T, out map[string]any, n int) {
	t.Helper()
	if out["status"] != "SUCCEEDED" {
		t.Fatalf("execution ended %v: %v %v", out["status"], out["error"], out["cause"])
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out["output"].(string)), &got); err != nil {
		t.Fatal(err)
	}
	want := wantAggregate(n)
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Fatalf("output %s, want %s", gb, wb)
	}
}

// TestStepFunctionsCLI drives workflows with the aws stepfunctions CLI:
// the seed's fan-out over 200 items, Retry then Catch, a Wait, Choice,
// Parallel with a failing branch, .waitForTaskToken answered from
// outside, and definitions refused with InvalidDefinition.
func TestStepFunctionsCLI(t *testing.T) {
	requireAWSCLI(t)
	pyRequire(t)
	srv := testutil.StartServer(t, testutil.Options{})
	fn := sfnFunctions(t, srv, "prepare", "square", "aggregate", "flaky", "handoff")

	t.Run("the seed fans out over 200 items and aggregates them in order", func(t *testing.T) {
		t.Parallel()
		m := createMachine(t, srv, "fan-out", fanOutDefinition(fn, 20, false))
		out := startAndWait(t, srv, m, `{"count":200}`, 90*time.Second)
		checkAggregate(t, out, 200)
		types, _ := historyTypes(t, srv, out["executionArn"].(string))
		if countOf(types, "MapIterationSucceeded") != 200 || countOf(types, "TaskSucceeded") != 200 {
			t.Errorf("history: %d iterations, %d tasks succeeded", countOf(types, "MapIterationSucceeded"), countOf(types, "TaskSucceeded"))
		}
	})

	t.Run("Retry runs every attempt, then Catch takes over", func(t *testing.T) {
		t.Parallel()
		m := createMachine(t, srv, "retry-catch", `{"StartAt":"Call","States":{
		  "Call":{"Type":"Task","Resource":"`+fn+`flaky",
		    "Retry":[{"ErrorEquals":["Flaky"],"IntervalSeconds":1,"MaxAttempts":2,"BackoffRate":1.5}],
		    "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Recover"}],"End":true},
		  "Recover":{"Type":"Pass","Parameters":{"recovered.$":"$.error.Error"},"End":true}}}`)
		out := startAndWait(t, srv, m, `{}`, 60*time.Second)
		if out["status"] != "SUCCEEDED" || out["output"] != `{"recovered":"Flaky"}` {
			t.Fatalf("execution: %v", out)
		}
		types, events := historyTypes(t, srv, out["executionArn"].(string))
		if n := countOf(types, "LambdaFunctionFailed"); n != 3 {
			t.Errorf("history shows %d failed attempts, want 3: %v", n, types)
		}
		for _, e := range events {
			if e["type"] == "LambdaFunctionFailed" {
				d := e["lambdaFunctionFailedEventDetails"].(map[string]any)
				if d["error"] != "Flaky" || !strings.Contains(d["cause"].(string), "attempt failed") {
					t.Errorf("failed attempt details: %v", d)
				}
			}
		}
	})

	t.Run("a Wait of 3 s waits 3 s", func(t *testing.T) {
		t.Parallel()
		m := createMachine(t, srv, "wait", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3,"Next":"P"},"P":{"Type":"Pass","End":true}}}`)
		out := startAndWait(t, srv, m, `{"x":1}`, 30*time.Second)
		if out["status"] != "SUCCEEDED" || out["output"] != `{"x":1}` {
			t.Fatalf("execution: %v", out)
		}
		if d := out["stopDate"].(float64) - out["startDate"].(float64); d < 3 || d > 6 {
			t.Errorf("the execution took %.1f s, want 3 s", d)
		}
	})

	t.Run("Choice goes through every operator family", func(t *testing.T) {
		t.Parallel()
		m := createMachine(t, srv, "choice", `{"StartAt":"Str","States":{
		  "Str":{"Type":"Choice","Choices":[{"Variable":"$.s","StringMatches":"ord*-?","Next":"No"},{"Variable":"$.s","StringEquals":"order-7","Next":"Num"}],"Default":"No"},
		  "Num":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThanPath":"$.limit","Next":"Bool"}],"Default":"No"},
		  "Bool":{"Type":"Choice","Choices":[{"Variable":"$.b","BooleanEquals":true,"Next":"Time"}],"Default":"No"},
		  "Time":{"Type":"Choice","Choices":[{"Variable":"$.t","TimestampLessThan":"2030-01-01T00:00:00Z","Next":"Types"}],"Default":"No"},
		  "Types":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.missing","IsPresent":false},{"Variable":"$.nothing","IsNull":true},
		     {"Variable":"$.n","IsNumeric":true},{"Variable":"$.t","IsTimestamp":true},{"Variable":"$.s","IsString":true},{"Variable":"$.b","IsBoolean":true}],"Next":"Logic"}],"Default":"No"},
		  "Logic":{"Type":"Choice","Choices":[{"Or":[{"Variable":"$.n","NumericEquals":0},{"Not":{"Variable":"$.s","StringEquals":"x"}}],"Next":"Yes"}],"Default":"No"},
		  "Yes":{"Type":"Succeed"},"No":{"Type":"Fail","Error":"WrongBranch"}}}`)
		out := startAndWait(t, srv, m, `{"s":"order-7","n":12,"limit":10,"b":true,"t":"2024-05-01T12:00:00Z","nothing":null}`, 30*time.Second)
		if out["status"] != "SUCCEEDED" {
			t.Fatalf("execution: %v", out)
		}
		out = startAndWait(t, srv, m, `{"s":"order-7","n":2,"limit":10}`, 30*time.Second)
		if out["status"] != "FAILED" || out["error"] != "WrongBranch" {
			t.Fatalf("execution with a small n: %v", out)
		}
	})

	t.Run("Parallel fails with its failing branch", func(t *testing.T) {
		t.Parallel()
		m := createMachine(t, srv, "parallel", `{"StartAt":"Both","States":{"Both":{"Type":"Parallel","Branches":[
		  {"StartAt":"Ok","States":{"Ok":{"Type":"Task","Resource":"`+fn+`square","Parameters":{"n":3},"End":true}}},
		  {"StartAt":"Broken","States":{"Broken":{"Type":"Task","Resource":"`+fn+`flaky","End":true}}}],"End":true}}}`)
		out := startAndWait(t, srv, m, `{}`, 30*time.Second)
		if out["status"] != "FAILED" || out["error"] != "Flaky" {
			t.Fatalf("execution: %v", out)
		}
		types, _ := historyTypes(t, srv, out["executionArn"].(string))
		if countOf(types, "ParallelStateFailed") != 1 || types[len(types)-1] != "ExecutionFailed" {
			t.Errorf("history: %v", types)
		}
	})

	t.Run("waitForTaskToken resumes on send-task-success", func(t *testing.T) {
		t.Parallel()
		m := createMachine(t, srv, "token", `{"StartAt":"Ask","States":{"Ask":{"Type":"Task",
		  "Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","HeartbeatSeconds":60,
		  "Parameters":{"FunctionName":"`+fn+`handoff","Payload":{"token.$":"$$.Task.Token"}},"ResultPath":"$.approval","End":true}}}`)
		start := sfnJSON(t, srv, "start-execution", "--state-machine-arn", m, "--input", `{"order":1}`)
		arn := start["executionArn"].(string)
		var token string
		testutil.WaitFor(t, 30*time.Second, func() error {
			_, events := historyTypes(t, srv, arn)
			for _, e := range events {
				if e["type"] == "TaskScheduled" {
					var p struct{ Payload struct{ Token string } }
					_ = json.Unmarshal([]byte(e["taskScheduledEventDetails"].(map[string]any)["parameters"].(string)), &p)
					token = p.Payload.Token
				}
				if e["type"] == "TaskSubmitted" || (e["type"] == "TaskStarted" && token != "") {
					return nil
				}
			}
			return fmt.Errorf("task not started")
		})
		if d := sfnJSON(t, srv, "describe-execution", "--execution-arn", arn); d["status"] != "RUNNING" {
			t.Fatalf("before send-task-success: %v", d)
		}
		sfnJSON(t, srv, "send-task-heartbeat", "--task-token", token)
		sfnJSON(t, srv, "send-task-success", "--task-token", token, "--task-output", `{"approved":true}`)
		out := waitExecution(t, srv, arn, 30*time.Second)
		if out["status"] != "SUCCEEDED" || out["output"] != `{"approval":{"approved":true},"order":1}` {
			t.Fatalf("execution: %v", out)
		}
		_, stderr := awsCLI(t, srv, true, "stepfunctions", "send-task-success", "--task-token", token, "--task-output", `{}`)
		if !strings.Contains(stderr, "TaskTimedOut") {
			t.Errorf("a used token: %s", stderr)
		}
	})

	t.Run("bad definitions get InvalidDefinition with AWS's diagnostics", func(t *testing.T) {
		t.Parallel()
		tests := []struct{ name, def, want string }{
			{"unknown-type", `{"StartAt":"A","States":{"A":{"Type":"Bogus","End":true}}}`, "SCHEMA_VALIDATION_FAILED: Value is not a valid state type: Bogus at /States/A/Type"},
			{"missing-next", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`, "MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next"},
			{"unreachable", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true},"B":{"Type":"Pass","End":true}}}`, `MISSING_TRANSITION_TARGET: State "B" is not reachable. at /States/B`},
			{"bad-path", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$.a[","End":true}}}`, "SCHEMA_VALIDATION_FAILED: The value for the field 'InputPath' must be a valid JSONPath at /States/A/InputPath"},
		}
		for _, tc := range tests {
			path := filepath.Join(t.TempDir(), "def.json")
			_ = os.WriteFile(path, []byte(tc.def), 0o644)
			_, stderr := awsCLI(t, srv, true, "stepfunctions", "create-state-machine", "--name", "bad-"+tc.name, "--definition", "file://"+path, "--role-arn", sfnRole)
			if !strings.Contains(stderr, "(InvalidDefinition)") || !strings.Contains(stderr, tc.want) {
				t.Errorf("%s: %s", tc.name, stderr)
			}
			v := sfnCall(t, srv, "ValidateStateMachineDefinition", map[string]any{"definition": tc.def})
			if v["result"] != "FAIL" || len(v["diagnostics"].([]any)) == 0 {
				t.Errorf("%s: validate: %v", tc.name, v)
			}
		}
		path := filepath.Join(t.TempDir(), "ok.json")
		_ = os.WriteFile(path, []byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`), 0o644)
		if v := sfnJSON(t, srv, "validate-state-machine-definition", "--definition", "file://"+path); v["result"] != "OK" {
			t.Errorf("validate a good definition: %v", v)
		}
		_, stderr := awsCLI(t, srv, true, "stepfunctions", "describe-state-machine", "--state-machine-arn", "arn:aws:states:us-east-1:123456789012:stateMachine:nope")
		if !strings.Contains(stderr, "StateMachineDoesNotExist") {
			t.Errorf("describe of a missing machine: %s", stderr)
		}
	})
}

// TestStepFunctionsSurviveKill kills the server while a Map of 100
// items (each with a Wait) runs, restarts it on the same data, and
// expects the execution to finish with every item processed and the
// output an uninterrupted run gives (checkAggregate's, which
// TestStepFunctionsCLI's uninterrupted fan-out also gets).
func TestStepFunctionsSurviveKill(t *testing.T) {
	requireAWSCLI(t)
	pyRequire(t)
	dataDir := t.TempDir()
	first := testutil.StartServer(t, testutil.Options{DataDir: dataDir})
	fn := sfnFunctions(t, first, "prepare", "square", "aggregate")
	m := createMachine(t, first, "durable", fanOutDefinition(fn, 20, true))
	start := sfnJSON(t, first, "start-execution", "--state-machine-arn", m, "--name", "killed", "--input", `{"count":100}`)
	arn := start["executionArn"].(string)
	testutil.WaitFor(t, 60*time.Second, func() error {
		types, _ := historyTypes(t, first, arn)
		if n := countOf(types, "MapIterationSucceeded"); n < 20 {
			return fmt.Errorf("%d iterations done", n)
		}
		return nil
	})
	first.Kill()
	<-first.Done()
	second := testutil.StartServer(t, testutil.Options{DataDir: dataDir})
	out := waitExecution(t, second, arn, 90*time.Second)
	checkAggregate(t, out, 100)
	types, _ := historyTypes(t, second, arn)
	if n := countOf(types, "MapIterationSucceeded"); n != 100 {
		t.Errorf("%d iterations succeeded in the history, want 100", n)
	}
}

// TestStepFunctionsTwoNodes starts an execution on a node that joined
// another's store with --nats-url, stops that node mid-Map, and expects
// the node holding the store to finish the execution.
func TestStepFunctionsTwoNodes(t *testing.T) {
	requireAWSCLI(t)
	pyRequire(t)
	a := testutil.StartServer(t, testutil.Options{Args: []string{"--nats-listen", "127.0.0.1:0"}})
	b := testutil.StartServer(t, testutil.Options{Args: joinArgs(t, a)})
	fn := sfnFunctions(t, a, "prepare", "square", "aggregate")
	t.Logf("functions ready")
	def := fanOutDefinition(fn, 5, true)
	created := sfnCall(t, b, "CreateStateMachine", map[string]any{"name": "two-nodes", "definition": def, "roleArn": sfnRole})
	start := sfnCall(t, b, "StartExecution", map[string]any{"stateMachineArn": created["stateMachineArn"], "input": `{"count":20}`})
	arn := start["executionArn"].(string)
	testutil.WaitFor(t, 60*time.Second, func() error {
		types, _ := historyTypes(t, b, arn)
		if n := countOf(types, "MapIterationSucceeded"); n < 5 {
			return fmt.Errorf("%d iterations done", n)
		}
		return nil
	})
	t.Logf("stopping the joined node")
	b.Stop(t)
	t.Logf("stopped")
	if d := sfnCall(t, a, "DescribeExecution", map[string]any{"executionArn": arn}); d["status"] != "RUNNING" {
		t.Fatalf("the execution was no longer running when its node stopped: %v", d)
	}
	out := waitExecution(t, a, arn, 90*time.Second)
	t.Logf("finished")
	checkAggregate(t, out, 20)
}
