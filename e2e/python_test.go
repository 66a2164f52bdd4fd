package e2e

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

// pyRequire skips unless the host has a python3 the server can use.
func pyRequire(t *testing.T) {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"} {
		if _, err := os.Stat(p); err == nil {
			return
		}
	}
	t.Skip("no python3 interpreter in /usr/bin or /usr/local/bin")
}

// pyZip zips e2e/testdata/python, the test function's code.
func pyZip(t *testing.T) []byte {
	t.Helper()
	files := map[string]testutil.ZipEntry{}
	root := filepath.Join("testdata", "python")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = testutil.ZipEntry{Data: b}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return testutil.ZipFiles(t, files)
}

// pyInvoke is what `aws lambda invoke --log-type Tail` reported.
type pyInvoke struct {
	StatusCode    int
	FunctionError string
	LogResult     string
	// Payload is the content of the outfile; Log the decoded LogResult.
	Payload []byte `json:"-"`
	Log     string `json:"-"`
}

// requestID is the id of the invocation, from the START line of the tail.
func (r *pyInvoke) requestID(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`START RequestId: (\S+) Version:`).FindStringSubmatch(r.Log)
	if m == nil {
		t.Fatalf("no START line in the tail:\n%s", r.Log)
	}
	return m[1]
}

func pyCLIInvoke(t *testing.T, srv *testutil.Server, name, payload string) *pyInvoke {
	t.Helper()
	outFile := filepath.Join(t.TempDir(), "out.json")
	out, _ := awsCLI(t, srv, false, "lambda", "invoke", "--function-name", name,
		"--payload", payload, "--log-type", "Tail", outFile)
	var r pyInvoke
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.StatusCode != 200 {
		t.Fatalf("invoke %s output: %s (%v)", name, out, err)
	}
	r.Payload, _ = os.ReadFile(outFile)
	logs, err := base64.StdEncoding.DecodeString(r.LogResult)
	if err != nil {
		t.Fatalf("LogResult: %v", err)
	}
	r.Log = string(logs)
	return &r
}

func pyCLICreate(t *testing.T, srv *testutil.Server, zipPath, name, handler string, extra ...string) map[string]any {
	t.Helper()
	args := append([]string{"lambda", "create-function", "--function-name", name,
		"--runtime", "python3.12", "--handler", handler, "--role", testRole,
		"--zip-file", "fileb://" + zipPath, "--timeout", "10", "--memory-size", "256"}, extra...)
	out, _ := awsCLI(t, srv, false, args...)
	var created map[string]any
	if err := json.Unmarshal([]byte(out), &created); err != nil || created["State"] != "Pending" {
		t.Fatalf("create-function %s: %s (%v)", name, out, err)
	}
	return created
}

// pyError is Lambda's error document.
type pyError struct {
	ErrorMessage string   `json:"errorMessage"`
	ErrorType    string   `json:"errorType"`
	RequestID    string   `json:"requestId"`
	StackTrace   []string `json:"stackTrace"`
}

func pyDecodeError(t *testing.T, payload []byte) pyError {
	t.Helper()
	var e pyError
	if err := json.Unmarshal(payload, &e); err != nil {
		t.Fatalf("error document %q: %v", payload, err)
	}
	return e
}

var pyLogTimestamp = `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`

// TestPythonRuntime drives python3.12 functions with the aws CLI: context,
// logs, reuse, errors, packages and init failures, on a server with
// runtime templates (where full isolation allows them; more pre-started
// sandboxes than by default, so that most of its parallel cold starts
// find one) and on one without.
func TestPythonRuntime(t *testing.T) {
	requireAWSCLI(t)
	pyRequire(t)
	t.Parallel()
	for _, mode := range []struct {
		name string
		args []string
	}{
		{"runtime templates", []string{"--zygotes", "6", "--log-level", "debug"}},
		{"no runtime templates", []string{"--runtime-templates=false"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			srv := testutil.StartServer(t, testutil.Options{Args: mode.args})
			t.Cleanup(func() { checkTemplatesTaken(t, srv) })
			testPythonRuntime(t, srv)
		})
	}
}

// checkTemplatesTaken fails t when srv has runtime templates on but no
// cold start took one, and logs how many did.
func checkTemplatesTaken(t *testing.T, srv *testutil.Server) {
	out := srv.Output.String()
	n := strings.Count(out, "runtime_template=true")
	if n == 0 && strings.Contains(out, "runtime templates on") && !t.Failed() {
		t.Error("runtime templates are on, but no cold start took one")
	}
	t.Logf("%d cold starts took a runtime template", n)
}

func testPythonRuntime(t *testing.T, srv *testutil.Server) {
	zipPath := filepath.Join(t.TempDir(), "python.zip")
	if err := os.WriteFile(zipPath, pyZip(t), 0o644); err != nil {
		t.Fatal(err)
	}
	fullIsolation := strings.Contains(srv.Output.String(), "isolation: full")

	t.Run("the handler gets Lambda's context and its output is tagged with the request id", func(t *testing.T) {
		t.Parallel()
		created := pyCLICreate(t, srv, zipPath, "py-context", "app.handler")
		r := pyCLIInvoke(t, srv, "py-context", `{"tag":"first"}`)
		if r.FunctionError != "" {
			t.Fatalf("function error %s: %s\n%s", r.FunctionError, r.Payload, r.Log)
		}
		rid := r.requestID(t)
		var got struct {
			FunctionName       string    `json:"function_name"`
			FunctionVersion    string    `json:"function_version"`
			InvokedFunctionARN string    `json:"invoked_function_arn"`
			MemoryLimitInMB    string    `json:"memory_limit_in_mb"`
			AWSRequestID       string    `json:"aws_request_id"`
			LogGroupName       string    `json:"log_group_name"`
			LogStreamName      string    `json:"log_stream_name"`
			Remaining          int       `json:"remaining"`
			Identity           []*string `json:"identity"`
			ClientContext      any       `json:"client_context"`
			TraceID            string    `json:"trace_id"`
			EnvStream          string    `json:"env_stream"`
			Count              int       `json:"count"`
			PID                int       `json:"pid"`
			UID                int       `json:"uid"`
			Cwd                string    `json:"cwd"`
			SysPath0           string    `json:"sys_path0"`
			Event              struct{ Tag string }
		}
		if err := json.Unmarshal(r.Payload, &got); err != nil {
			t.Fatalf("answer %s: %v", r.Payload, err)
		}
		checks := []struct {
			what      string
			got, want any
		}{
			{"function_name", got.FunctionName, "py-context"},
			{"function_version", got.FunctionVersion, "$LATEST"},
			{"invoked_function_arn", got.InvokedFunctionARN, created["FunctionArn"]},
			{"memory_limit_in_mb (a string, as on Lambda)", got.MemoryLimitInMB, "256"},
			{"aws_request_id", got.AWSRequestID, rid},
			{"log_group_name", got.LogGroupName, "/aws/lambda/py-context"},
			{"log_stream_name", got.LogStreamName, got.EnvStream},
			{"identity", len(got.Identity) == 2 && got.Identity[0] == nil && got.Identity[1] == nil, true},
			{"client_context", got.ClientContext, nil},
			{"count", got.Count, 1},
			{"cwd", got.Cwd, "/var/task"},
			{"sys.path[0]", got.SysPath0, "/var/task"},
			{"event", got.Event.Tag, "first"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
			}
		}
		if got.Remaining <= 0 || got.Remaining > 10000 {
			t.Errorf("get_remaining_time_in_millis() = %d, want within (0, 10000]", got.Remaining)
		}
		if !strings.HasPrefix(got.TraceID, "Root=1-") {
			t.Errorf("_X_AMZN_TRACE_ID = %q", got.TraceID)
		}
		if got.LogStreamName == "" {
			t.Error("log_stream_name is empty")
		}
		if fullIsolation && got.UID != 65534 {
			t.Errorf("the function runs as uid %d under full isolation, want 65534", got.UID)
		}
		q := regexp.QuoteMeta(rid)
		for _, want := range []string{
			`(?m)^` + pyLogTimestamp + `\t` + q + `\tprint from handler first$`,
			`(?m)^` + pyLogTimestamp + `\t` + q + `\ttwo$`,
			`(?m)^` + pyLogTimestamp + `\t` + q + `\tlines$`,
			`(?m)^\[WARNING\]\t` + pyLogTimestamp + `\t` + q + `\twarning from handler$`,
		} {
			if !regexp.MustCompile(want).MatchString(r.Log) {
				t.Errorf("the tail has no line matching %q:\n%q", want, r.Log)
			}
		}
		if strings.Contains(r.Log, "debug from handler") || strings.Contains(r.Log, "info from handler") {
			t.Errorf("a logging.debug or logging.info line is in the tail at the default level (WARNING):\n%s", r.Log)
		}

		// The second call (with the SDK, quicker than the CLI) reuses the
		// environment: module state and process survive.
		res, err := srv.Lambda().Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("py-context"), Payload: []byte(`{"tag":"second"}`), LogType: types.LogTypeTail})
		if err != nil || res.FunctionError != nil {
			t.Fatalf("second call: %v %s", err, res.Payload)
		}
		var again struct {
			Count        int    `json:"count"`
			PID          int    `json:"pid"`
			AWSRequestID string `json:"aws_request_id"`
		}
		if err := json.Unmarshal(res.Payload, &again); err != nil {
			t.Fatalf("second answer %s: %v", res.Payload, err)
		}
		if again.Count != 2 || again.PID != got.PID {
			t.Errorf("second call: count %d pid %d, want count 2 in the same process %d", again.Count, again.PID, got.PID)
		}
		tail := pyTail(t, res)
		if again.AWSRequestID == rid || !strings.Contains(tail, "START RequestId: "+again.AWSRequestID+" ") {
			t.Errorf("second call: aws_request_id %s, first %s, tail:\n%s", again.AWSRequestID, rid, tail)
		}
		if strings.Contains(tail, "Init Duration") {
			t.Errorf("the second call was a cold start:\n%s", tail)
		}
	})

	t.Run("a raised exception is Lambda's error document", func(t *testing.T) {
		t.Parallel()
		c := srv.Lambda()
		pyCreate(t, c, "py-raise", "app.handler", nil)
		r := pyCLIInvoke(t, srv, "py-raise", `{"action":"raise","order":"A-17"}`)
		if r.FunctionError != "Unhandled" {
			t.Fatalf("FunctionError = %q, want Unhandled (payload %s)", r.FunctionError, r.Payload)
		}
		rid := r.requestID(t)
		e := pyDecodeError(t, r.Payload)
		if e.ErrorType != "OrderError" || e.ErrorMessage != "order A-17 is out of stock" || e.RequestID != rid {
			t.Errorf("error document %s, want OrderError for request %s", r.Payload, rid)
		}
		if !strings.HasPrefix(string(r.Payload), `{"errorMessage": "order A-17 is out of stock", "errorType": "OrderError", "requestId": "`) {
			t.Errorf("error document not in Lambda's key order: %s", r.Payload)
		}
		if len(e.StackTrace) != 1 || !strings.HasPrefix(e.StackTrace[0], `  File "/var/task/app.py", line `) ||
			!strings.HasSuffix(e.StackTrace[0], ", in handler\n    raise OrderError(\"order %s is out of stock\" % event.get(\"order\"))\n") {
			t.Errorf("stackTrace = %q, want the handler's one frame", e.StackTrace)
		}
		want := `(?m)^\[ERROR\] OrderError: order A-17 is out of stock\rTraceback \(most recent call last\):\r\x{a0}\x{a0}File "/var/task/app.py", line \d+, in handler\r`
		if !regexp.MustCompile(want).MatchString(r.Log) {
			t.Errorf("the tail lacks the error record:\n%q", r.Log)
		}
		// The environment survives a raised exception.
		res, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("py-raise"), Payload: []byte(`{}`), LogType: types.LogTypeTail})
		if err != nil {
			t.Fatal(err)
		}
		if tail := pyTail(t, res); res.FunctionError != nil || strings.Contains(tail, "Init Duration") {
			t.Errorf("the call after an exception: %v %s\n%s", aws.ToString(res.FunctionError), res.Payload, tail)
		}
	})

	t.Run("a dotted handler names a module in a package", func(t *testing.T) {
		t.Parallel()
		pyCreate(t, srv.Lambda(), "py-dotted", "pkg.sub.mod.handler", nil)
		r := pyCLIInvoke(t, srv, "py-dotted", `{"name":"updraft"}`)
		if r.FunctionError != "" || string(r.Payload) != `{"where": "pkg.sub.mod", "helper": "hello updraft"}` {
			t.Fatalf("answer %s %s\n%s", r.FunctionError, r.Payload, r.Log)
		}
	})

	t.Run("a missing module fails the init with Runtime.ImportModuleError", func(t *testing.T) {
		t.Parallel()
		pyCreate(t, srv.Lambda(), "py-nomodule", "nosuch.handler", nil)
		r := pyCLIInvoke(t, srv, "py-nomodule", `{}`)
		e := pyDecodeError(t, r.Payload)
		if r.FunctionError != "Unhandled" || e.ErrorType != "Runtime.ImportModuleError" ||
			e.ErrorMessage != "Unable to import module 'nosuch': No module named 'nosuch'" {
			t.Fatalf("FunctionError %q, payload %s", r.FunctionError, r.Payload)
		}
	})

	t.Run("logging.basicConfig does nothing and logging.info prints nothing with the Text format, but prints with JSON", func(t *testing.T) {
		t.Parallel()
		pyCLICreate(t, srv, zipPath, "py-log-text", "app.handler")
		r := pyCLIInvoke(t, srv, "py-log-text", `{"action":"basicconfig"}`)
		if string(r.Payload) != `{"root_level": "WARNING"}` || strings.Contains(r.Log, "hello world") {
			t.Errorf("Text format: answer %s, tail:\n%s", r.Payload, r.Log)
		}
		pyCLICreate(t, srv, zipPath, "py-log-json", "app.handler", "--logging-config", "LogFormat=JSON")
		r = pyCLIInvoke(t, srv, "py-log-json", `{"action":"basicconfig"}`)
		rid := regexp.QuoteMeta(r.requestID(t))
		want := `(?m)^\{"timestamp": "[^"]+", "level": "INFO", "message": "hello world", "logger": "root", "requestId": "` + rid + `"`
		if string(r.Payload) != `{"root_level": "INFO"}` || !regexp.MustCompile(want).MatchString(r.Log) {
			t.Errorf("JSON format: answer %s, want root level INFO and a line matching %s in the tail:\n%s", r.Payload, want, r.Log)
		}
	})

	t.Run("logging.debug lines appear only with AWS_LAMBDA_LOG_LEVEL=DEBUG", func(t *testing.T) {
		t.Parallel()
		c := srv.Lambda()
		pyCreate(t, c, "py-debug", "app.handler", map[string]string{"AWS_LAMBDA_LOG_LEVEL": "DEBUG"})
		res, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("py-debug"), Payload: []byte(`{}`), LogType: types.LogTypeTail})
		if err != nil {
			t.Fatal(err)
		}
		tail := pyTail(t, res)
		want := `(?m)^\[DEBUG\]\t` + pyLogTimestamp + `\t[0-9a-f-]{36}\tdebug from handler$`
		if !regexp.MustCompile(want).MatchString(tail) {
			t.Errorf("no debug line in the tail:\n%s", tail)
		}
	})

	t.Run("results are encoded like Lambda's runtime encodes them", func(t *testing.T) {
		t.Parallel()
		c := srv.Lambda()
		pyCreate(t, c, "py-results", "app.handler", nil)
		for _, tc := range []struct {
			action, want, errorType string
		}{
			{action: "none", want: `null`},
			{action: "decimal", want: `{"price": 19.990, "qty": 3, "s": "été"}`},
			{action: "echo", want: `[1, "two"]`},
			{action: "datetime", errorType: "Runtime.MarshalError", want: "Unable to marshal response: Object of type datetime is not JSON serializable"},
		} {
			payload := `{"action":"` + tc.action + `"}`
			if tc.action == "echo" {
				payload = `[1,"two"]`
			}
			res, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("py-results"), Payload: []byte(payload)})
			if err != nil {
				t.Fatal(err)
			}
			if tc.errorType == "" {
				if res.FunctionError != nil || string(res.Payload) != tc.want {
					t.Errorf("%s: got %v %s, want %s", tc.action, aws.ToString(res.FunctionError), res.Payload, tc.want)
				}
				continue
			}
			e := pyDecodeError(t, res.Payload)
			if aws.ToString(res.FunctionError) != "Unhandled" || e.ErrorType != tc.errorType || e.ErrorMessage != tc.want {
				t.Errorf("%s: got %v %s, want %s %q", tc.action, aws.ToString(res.FunctionError), res.Payload, tc.errorType, tc.want)
			}
		}
	})

	t.Run("the client context reaches the handler and sys.exit ends the environment", func(t *testing.T) {
		t.Parallel()
		c := srv.Lambda()
		pyCreate(t, c, "py-exit", "app.handler", nil)
		cc := base64.StdEncoding.EncodeToString([]byte(`{"client":{"installation_id":"inst-1"},"custom":{"k":"v"},"env":{"platform":"test"}}`))
		res, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("py-exit"), Payload: []byte(`{}`), ClientContext: aws.String(cc)})
		if err != nil || res.FunctionError != nil {
			t.Fatalf("invoke: %v %s", err, res.Payload)
		}
		var got struct {
			PID           int `json:"pid"`
			ClientContext struct {
				Custom         map[string]string `json:"custom"`
				Env            map[string]string `json:"env"`
				InstallationID string            `json:"installation_id"`
			} `json:"client_context"`
		}
		if err := json.Unmarshal(res.Payload, &got); err != nil {
			t.Fatal(err)
		}
		if got.ClientContext.Custom["k"] != "v" || got.ClientContext.Env["platform"] != "test" || got.ClientContext.InstallationID != "inst-1" {
			t.Errorf("client_context = %+v", got.ClientContext)
		}
		res, err = c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("py-exit"), Payload: []byte(`{"action":"exit"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if e := pyDecodeError(t, res.Payload); aws.ToString(res.FunctionError) != "Unhandled" || e.ErrorType != "Runtime.ExitError" {
			t.Errorf("sys.exit(3): %v %s", aws.ToString(res.FunctionError), res.Payload)
		}
		var after struct {
			PID   int `json:"pid"`
			Count int `json:"count"`
		}
		invokeJSON(t, c, "py-exit", map[string]any{}, &after)
		if after.Count != 1 {
			t.Errorf("after sys.exit the module state survived: count %d", after.Count)
		}
	})

	t.Run("init failures carry Lambda's error types", func(t *testing.T) {
		t.Parallel()
		c := srv.Lambda()
		for _, tc := range []struct {
			name, handler, errorType, message, frame string
		}{
			{"py-syntax", "broken.handler", "Runtime.UserCodeSyntaxError", "Syntax error in module 'broken': ", `  File "/var/task/broken.py" Line 1`},
			{"py-nohandler", "app.nothere", "Runtime.HandlerNotFound", "Handler 'nothere' missing on module 'app'", ""},
			{"py-malformed", "app", "Runtime.MalformedHandlerName", "Bad handler 'app': ", ""},
			{"py-failinit", "failinit.handler", "ValueError", "configuration is missing", `  File "/var/task/failinit.py", line 1, in <module>`},
		} {
			pyCreate(t, c, tc.name, tc.handler, nil)
			res, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String(tc.name), Payload: []byte(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			e := pyDecodeError(t, res.Payload)
			if aws.ToString(res.FunctionError) != "Unhandled" || e.ErrorType != tc.errorType || !strings.HasPrefix(e.ErrorMessage, tc.message) {
				t.Errorf("%s: %v %s, want %s %q", tc.handler, aws.ToString(res.FunctionError), res.Payload, tc.errorType, tc.message)
			}
			if tc.frame != "" && !strings.Contains(strings.Join(e.StackTrace, ""), tc.frame) {
				t.Errorf("%s: stackTrace %q lacks %q", tc.handler, e.StackTrace, tc.frame)
			}
		}
	})
}

// pyCreate creates a python3.12 function from testdata/python with the
// SDK, which is quicker than the aws CLI.
func pyCreate(t *testing.T, c *lambda.Client, name, handler string, env map[string]string) {
	t.Helper()
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      types.RuntimePython312,
		Handler:      aws.String(handler),
		Role:         aws.String(testRole),
		Timeout:      aws.Int32(10),
		Code:         &types.FunctionCode{ZipFile: pyZip(t)},
	}
	if env != nil {
		in.Environment = &types.Environment{Variables: env}
	}
	if _, err := c.CreateFunction(ctx(t), in); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

// pyTail decodes the LogResult of an SDK invoke.
func pyTail(t *testing.T, res *lambda.InvokeOutput) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(aws.ToString(res.LogResult))
	if err != nil {
		t.Fatalf("LogResult: %v", err)
	}
	return string(b)
}
