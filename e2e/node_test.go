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

// nodeFunction is a nodejs20.x function whose files are given inline.
type nodeFunction struct {
	name, handler string
	files         map[string]string
	timeout       int32
	memory        int32
	env           map[string]string
	// viaCLI creates it with `aws lambda create-function`; otherwise with
	// the SDK, which saves a CLI start on a 2-CPU machine.
	viaCLI bool
}

// createNodeFunction zips fn's files and creates the function.
func createNodeFunction(t *testing.T, srv *testutil.Server, fn nodeFunction) {
	t.Helper()
	entries := map[string]testutil.ZipEntry{}
	for name, src := range fn.files {
		entries[name] = testutil.ZipEntry{Data: []byte(src)}
	}
	zip := testutil.ZipFiles(t, entries)
	if !fn.viaCLI {
		in := &lambda.CreateFunctionInput{
			FunctionName: aws.String(fn.name),
			Runtime:      types.RuntimeNodejs20x,
			Handler:      aws.String(fn.handler),
			Role:         aws.String(testRole),
			Code:         &types.FunctionCode{ZipFile: zip},
		}
		if fn.timeout != 0 {
			in.Timeout = aws.Int32(fn.timeout)
		}
		if fn.memory != 0 {
			in.MemorySize = aws.Int32(fn.memory)
		}
		if fn.env != nil {
			in.Environment = &types.Environment{Variables: fn.env}
		}
		if _, err := srv.Lambda().CreateFunction(ctx(t), in); err != nil {
			t.Fatalf("create %s: %v", fn.name, err)
		}
		return
	}
	zipPath := filepath.Join(t.TempDir(), "function.zip")
	if err := os.WriteFile(zipPath, zip, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := awsCLI(t, srv, false, "lambda", "create-function", "--function-name", fn.name,
		"--runtime", "nodejs20.x", "--handler", fn.handler, "--role", testRole,
		"--zip-file", "fileb://"+zipPath)
	if !strings.Contains(out, `"Runtime": "nodejs20.x"`) {
		t.Fatalf("create-function: %s", out)
	}
}

// nodeInvoke is what `aws lambda invoke --log-type Tail` reports.
type nodeInvoke struct {
	StatusCode    int
	FunctionError string
	LogResult     string
	Payload       []byte // the outfile
	Log           string // LogResult decoded
}

// requestID is the id of the invocation, from its START line.
func (r *nodeInvoke) requestID(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`START RequestId: (\S+)`).FindStringSubmatch(r.Log)
	if m == nil {
		t.Fatalf("no START line in the log:\n%s", r.Log)
	}
	return m[1]
}

// invokeNode invokes name with the aws CLI (v1: --payload is raw JSON).
func invokeNode(t *testing.T, srv *testutil.Server, name, payload string, extra ...string) *nodeInvoke {
	t.Helper()
	outFile := filepath.Join(t.TempDir(), "out.json")
	args := append([]string{"lambda", "invoke", "--function-name", name,
		"--payload", payload, "--log-type", "Tail"}, extra...)
	out, _ := awsCLI(t, srv, false, append(args, outFile)...)
	var r nodeInvoke
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.StatusCode != 200 {
		t.Fatalf("invoke %s: %s (%v)", name, out, err)
	}
	var err error
	if r.Payload, err = os.ReadFile(outFile); err != nil {
		t.Fatal(err)
	}
	logs, err := base64.StdEncoding.DecodeString(r.LogResult)
	if err != nil {
		t.Fatalf("LogResult: %v", err)
	}
	r.Log = string(logs)
	return &r
}

// nodeErrorDoc is Lambda Node's error document.
type nodeErrorDoc struct {
	ErrorType    string   `json:"errorType"`
	ErrorMessage string   `json:"errorMessage"`
	Trace        []string `json:"trace"`
}

func decodeNodeError(t *testing.T, r *nodeInvoke) nodeErrorDoc {
	t.Helper()
	if r.FunctionError != "Unhandled" {
		t.Fatalf("FunctionError = %q, want Unhandled; payload %s", r.FunctionError, r.Payload)
	}
	var d nodeErrorDoc
	if err := json.Unmarshal(r.Payload, &d); err != nil {
		t.Fatalf("error document %s: %v", r.Payload, err)
	}
	return d
}

// TestNodeRuntime runs nodejs20.x functions in updraft's own Node.js
// runtime client, created and invoked with the aws CLI, on a server with
// runtime templates (where full isolation allows them) and on one
// without.
func TestNodeRuntime(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
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
			testNodeRuntime(t, srv)
		})
	}
}

func testNodeRuntime(t *testing.T, srv *testutil.Server) {

	t.Run("the tutorial's callback handler answers its greeting", func(t *testing.T) {
		t.Parallel()
		createNodeFunction(t, srv, nodeFunction{name: "node-seed", handler: "index.handler", viaCLI: true, files: map[string]string{
			"index.js": "exports.handler = (event, context, callback) => callback(null, 'Hello ' + event.name + ' and address is ' + event.addr)\n",
		}})
		r := invokeNode(t, srv, "node-seed", `{"name":"Roy Singh","addr":"Mumbai"}`)
		if r.FunctionError != "" || string(r.Payload) != `"Hello Roy Singh and address is Mumbai"` {
			t.Fatalf("answer %s (function error %q)\n%s", r.Payload, r.FunctionError, r.Log)
		}
	})

	t.Run("an async handler in an .mjs file under a directory answers its promise", func(t *testing.T) {
		t.Parallel()
		createNodeFunction(t, srv, nodeFunction{name: "node-mjs", handler: "src/app.handler", files: map[string]string{
			"src/app.mjs": "import { setTimeout as sleep } from 'node:timers/promises';\n" +
				"export const handler = async (event) => { await sleep(5); return { doubled: event.n * 2, esm: typeof require === 'undefined' }; };\n",
		}})
		r := invokeNode(t, srv, "node-mjs", `{"n":21}`)
		if r.FunctionError != "" || string(r.Payload) != `{"doubled":42,"esm":true}` {
			t.Fatalf("answer %s (function error %q)\n%s", r.Payload, r.FunctionError, r.Log)
		}
	})

	t.Run("a .js file is ESM when package.json says type module", func(t *testing.T) {
		t.Parallel()
		createNodeFunction(t, srv, nodeFunction{name: "node-esm-js", handler: "index.handler", files: map[string]string{
			"package.json": `{"type":"module"}`,
			"index.js":     "export async function handler() { return { esm: typeof module === 'undefined' }; }\n",
		}})
		r := invokeNode(t, srv, "node-esm-js", `{}`)
		if string(r.Payload) != `{"esm":true}` {
			t.Fatalf("answer %s (function error %q)\n%s", r.Payload, r.FunctionError, r.Log)
		}
	})

	t.Run("a .cjs handler with a nested export and a dependency in node_modules", func(t *testing.T) {
		t.Parallel()
		createNodeFunction(t, srv, nodeFunction{name: "node-cjs", handler: "legacy.api.run", files: map[string]string{
			"legacy.cjs":                      "const greet = require('greet');\nmodule.exports.api = { run: async (e) => greet(e.who) };\n",
			"node_modules/greet/index.js":     "module.exports = (who) => 'hi ' + who;\n",
			"node_modules/greet/package.json": `{"name":"greet","main":"index.js"}`,
		}})
		r := invokeNode(t, srv, "node-cjs", `{"who":"cjs"}`)
		if r.FunctionError != "" || string(r.Payload) != `"hi cjs"` {
			t.Fatalf("answer %s (function error %q)\n%s", r.Payload, r.FunctionError, r.Log)
		}
	})

	t.Run("context fields, remaining time and a reused environment", func(t *testing.T) {
		t.Parallel()
		createNodeFunction(t, srv, nodeFunction{name: "node-context", handler: "index.handler",
			timeout: 7, memory: 256,
			files: map[string]string{
				"index.js": "let calls = 0;\n" +
					"exports.handler = async (event, context) => ({\n" +
					"  calls: ++calls, pid: process.pid,\n" +
					"  functionName: context.functionName, functionVersion: context.functionVersion,\n" +
					"  invokedFunctionArn: context.invokedFunctionArn, memoryLimitInMB: context.memoryLimitInMB,\n" +
					"  awsRequestId: context.awsRequestId, logGroupName: context.logGroupName,\n" +
					"  logStreamName: context.logStreamName, envLogStream: process.env.AWS_LAMBDA_LOG_STREAM_NAME,\n" +
					"  remaining: context.getRemainingTimeInMillis(), waits: context.callbackWaitsForEmptyEventLoop,\n" +
					"  traceId: process.env._X_AMZN_TRACE_ID, cwd: process.cwd(), taskRoot: process.env.LAMBDA_TASK_ROOT,\n" +
					"  nodePath: process.env.NODE_PATH, handlerEnv: process.env._HANDLER,\n" +
					"  clientContext: context.clientContext, identity: context.identity ?? null,\n" +
					"});\n",
			}})
		type answer struct {
			Calls                         int
			PID                           int
			FunctionName, FunctionVersion string
			InvokedFunctionArn            string
			MemoryLimitInMB               any
			AWSRequestID                  string `json:"awsRequestId"`
			LogGroupName, LogStreamName   string
			EnvLogStream                  string
			Remaining                     float64
			Waits                         bool
			TraceID                       string
			Cwd, TaskRoot                 string
			NodePath, HandlerEnv          string
			ClientContext                 struct{ Custom map[string]string }
			Identity                      any
		}
		clientContext := base64.StdEncoding.EncodeToString([]byte(`{"custom":{"tenant":"t1"}}`))
		var first answer
		for i := 1; i <= 2; i++ {
			r := invokeNode(t, srv, "node-context", `{}`, "--client-context", clientContext)
			var a answer
			if err := json.Unmarshal(r.Payload, &a); err != nil || r.FunctionError != "" {
				t.Fatalf("answer %s (%v)\n%s", r.Payload, err, r.Log)
			}
			if a.Calls != i {
				t.Errorf("call %d: module counter is %d; the environment was not reused", i, a.Calls)
			}
			if i == 1 {
				first = a
			} else if a.PID != first.PID {
				t.Errorf("the second call ran in pid %d, the first in %d", a.PID, first.PID)
			}
			if a.AWSRequestID != r.requestID(t) {
				t.Errorf("awsRequestId %q, START line says %q", a.AWSRequestID, r.requestID(t))
			}
			if a.FunctionName != "node-context" || a.FunctionVersion != "$LATEST" || a.MemoryLimitInMB != "256" ||
				!strings.HasSuffix(a.InvokedFunctionArn, ":function:node-context") ||
				a.LogGroupName != "/aws/lambda/node-context" || a.LogStreamName == "" || a.LogStreamName != a.EnvLogStream ||
				!a.Waits || a.HandlerEnv != "index.handler" || a.Cwd != a.TaskRoot {
				t.Errorf("context: %s", r.Payload)
			}
			if a.Remaining <= 5000 || a.Remaining > 7000 {
				t.Errorf("getRemainingTimeInMillis() = %v with a 7 s timeout", a.Remaining)
			}
			if a.ClientContext.Custom["tenant"] != "t1" || a.Identity != nil {
				t.Errorf("clientContext/identity: %s", r.Payload)
			}
			if !strings.HasPrefix(a.TraceID, "Root=1-") {
				t.Errorf("_X_AMZN_TRACE_ID = %q", a.TraceID)
			}
			if !strings.Contains(a.NodePath, a.TaskRoot+"/node_modules") {
				t.Errorf("NODE_PATH = %q", a.NodePath)
			}
		}
	})

	t.Run("a thrown custom error is an Unhandled function error of its type", func(t *testing.T) {
		t.Parallel()
		createNodeFunction(t, srv, nodeFunction{name: "node-error", handler: "index.handler", files: map[string]string{
			"index.js": "class OrderError extends Error { constructor(m){super(m); this.name='OrderError'} }\n" +
				"exports.handler = async (event) => { throw new OrderError('order ' + event.id + ' is invalid'); };\n" +
				"exports.str = (event, context, callback) => callback('plain string');\n",
		}})
		r := invokeNode(t, srv, "node-error", `{"id":7}`)
		d := decodeNodeError(t, r)
		if d.ErrorType != "OrderError" || d.ErrorMessage != "order 7 is invalid" || len(d.Trace) < 2 || d.Trace[0] != "OrderError: order 7 is invalid" {
			t.Fatalf("error document %s", r.Payload)
		}
		if !strings.Contains(r.Log, "\tERROR\tInvoke Error \t{\"errorType\":\"OrderError\"") {
			t.Errorf("log lacks the Invoke Error record:\n%s", r.Log)
		}
	})

	t.Run("a callback error that is not an Error is typed by typeof", func(t *testing.T) {
		t.Parallel()
		createNodeFunction(t, srv, nodeFunction{name: "node-error-str", handler: "index.str", files: map[string]string{
			"index.js": "exports.str = (event, context, callback) => callback('plain string');\n",
		}})
		r := invokeNode(t, srv, "node-error-str", `{}`)
		if d := decodeNodeError(t, r); d.ErrorType != "string" || d.ErrorMessage != "plain string" {
			t.Fatalf("error document %s", r.Payload)
		}
	})

	t.Run("console lines carry time, request id and level in the tail", func(t *testing.T) {
		t.Parallel()
		createNodeFunction(t, srv, nodeFunction{name: "node-console", handler: "index.handler", files: map[string]string{
			"index.js": "exports.handler = async (event) => {\n" +
				"  console.log('log %s', event.x); console.info('info'); console.warn('warn'); console.error('error');\n" +
				"  console.debug('debug'); console.trace('trace'); console.log('first\\nsecond');\n" +
				"  return 'ok';\n};\n",
		}})
		r := invokeNode(t, srv, "node-console", `{"x":"y"}`)
		id := r.requestID(t)
		for _, want := range []string{"INFO\tlog y", "INFO\tinfo", "WARN\twarn", "ERROR\terror", "DEBUG\tdebug", "TRACE\ttrace", "INFO\tfirst\rsecond\n"} {
			re := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t` + regexp.QuoteMeta(id+"\t"+want))
			if !re.MatchString(r.Log) {
				t.Errorf("log lacks %q for %s:\n%q", want, id, r.Log)
			}
		}
	})

	t.Run("AWS_LAMBDA_LOG_LEVEL filters console records", func(t *testing.T) {
		t.Parallel()
		createNodeFunction(t, srv, nodeFunction{name: "node-loglevel", handler: "index.handler",
			env: map[string]string{"AWS_LAMBDA_LOG_LEVEL": "WARN"},
			files: map[string]string{
				"index.js": "exports.handler = async () => { console.debug('quiet'); console.log('quiet'); console.warn('loud'); return 1; };\n",
			}})
		r := invokeNode(t, srv, "node-loglevel", `{}`)
		if strings.Contains(r.Log, "quiet") || !strings.Contains(r.Log, "\tWARN\tloud") {
			t.Fatalf("log:\n%s", r.Log)
		}
	})

	t.Run("callbackWaitsForEmptyEventLoop holds the answer until timers ran", func(t *testing.T) {
		t.Parallel()
		createNodeFunction(t, srv, nodeFunction{name: "node-eventloop", handler: "index.handler", files: map[string]string{
			"index.js": "exports.handler = (event, context, callback) => {\n" +
				"  if (event.nowait) context.callbackWaitsForEmptyEventLoop = false;\n" +
				"  setTimeout(() => console.log('timer fired'), event.nowait ? 1500 : 50);\n" +
				"  callback(null, 'answered');\n};\n",
		}})
		r := invokeNode(t, srv, "node-eventloop", `{}`)
		if string(r.Payload) != `"answered"` || !strings.Contains(r.Log, "timer fired") {
			t.Errorf("waiting: answer %s, log:\n%s", r.Payload, r.Log)
		}
		r = invokeNode(t, srv, "node-eventloop", `{"nowait":true}`)
		if string(r.Payload) != `"answered"` || strings.Contains(r.Log, "timer fired") {
			t.Errorf("not waiting: answer %s, log:\n%s", r.Payload, r.Log)
		}
	})

	t.Run("a streaming handler's whole body is the buffered invoke's answer", func(t *testing.T) {
		t.Parallel()
		createNodeFunction(t, srv, nodeFunction{name: "node-stream", handler: "index.handler", files: map[string]string{
			"index.mjs": "import { setTimeout as sleep } from 'node:timers/promises';\n" +
				"export const handler = awslambda.streamifyResponse(async (event, responseStream) => {\n" +
				"  responseStream.setContentType('text/plain');\n" +
				"  for (let i = 0; i < 3; i++) { responseStream.write('part' + i + ';'); await sleep(5); }\n" +
				"  responseStream.end('end');\n});\n",
		}})
		r := invokeNode(t, srv, "node-stream", `{}`)
		if r.FunctionError != "" || string(r.Payload) != "part0;part1;part2;end" {
			t.Fatalf("answer %q (function error %q)\n%s", r.Payload, r.FunctionError, r.Log)
		}
	})

	t.Run("an error after the stream started fails the invoke with its type", func(t *testing.T) {
		t.Parallel()
		createNodeFunction(t, srv, nodeFunction{name: "node-stream-error", handler: "index.handler", files: map[string]string{
			"index.mjs": "class StreamError extends Error { constructor(m){super(m); this.name='StreamError'} }\n" +
				"export const handler = awslambda.streamifyResponse(async (event, responseStream) => {\n" +
				"  responseStream.write('partial');\n" +
				"  await new Promise((r) => setTimeout(r, 5));\n" +
				"  throw new StreamError('broke mid-stream');\n});\n",
		}})
		r := invokeNode(t, srv, "node-stream-error", `{}`)
		if d := decodeNodeError(t, r); d.ErrorType != "StreamError" || d.ErrorMessage != "broke mid-stream" {
			t.Fatalf("error document %s", r.Payload)
		}
	})

	t.Run("an uncaught exception fails the invoke and the next one starts afresh", func(t *testing.T) {
		t.Parallel()
		createNodeFunction(t, srv, nodeFunction{name: "node-uncaught", handler: "index.handler", files: map[string]string{
			"index.js": "exports.handler = (event, context, callback) => {\n" +
				"  if (event.crash) setTimeout(() => { throw new TypeError('late failure'); }, 5);\n" +
				"  else callback(null, process.pid);\n};\n",
		}})
		r := invokeNode(t, srv, "node-uncaught", `{"crash":true}`)
		if d := decodeNodeError(t, r); d.ErrorType != "TypeError" || d.ErrorMessage != "late failure" {
			t.Fatalf("error document %s\n%s", r.Payload, r.Log)
		}
		if !strings.Contains(r.Log, "\tERROR\tUncaught Exception \t{\"errorType\":\"TypeError\"") {
			t.Errorf("log lacks the Uncaught Exception record:\n%s", r.Log)
		}
		r = invokeNode(t, srv, "node-uncaught", `{}`)
		if r.FunctionError != "" || !strings.Contains(r.Log, "Init Duration") {
			t.Fatalf("after the crash: answer %s (function error %q), log:\n%s", r.Payload, r.FunctionError, r.Log)
		}
	})

	t.Run("init failures have Lambda's error types", func(t *testing.T) {
		t.Parallel()
		files := map[string]string{
			"index.js":  "exports.handler = async () => 'ok';\n",
			"broken.js": "exports.handler = async () => { return 'unclosed';\n",
		}
		tests := []struct {
			handler, wantType, wantMessage string
		}{
			{"missing.handler", "Runtime.ImportModuleError", "Error: Cannot find module 'missing'"},
			{"index.nothere", "Runtime.HandlerNotFound", "index.nothere is undefined or not exported"},
			{"index", "Runtime.MalformedHandlerName", "Bad handler"},
			{"broken.handler", "Runtime.UserCodeSyntaxError", "SyntaxError: "},
		}
		for i, tc := range tests {
			t.Run(tc.wantType, func(t *testing.T) {
				t.Parallel()
				name := "node-init-" + string(rune('a'+i))
				createNodeFunction(t, srv, nodeFunction{name: name, handler: tc.handler, files: files})
				r := invokeNode(t, srv, name, `{}`)
				d := decodeNodeError(t, r)
				if d.ErrorType != tc.wantType || !strings.HasPrefix(d.ErrorMessage, tc.wantMessage) {
					t.Errorf("handler %s: error document %s, want %s %q", tc.handler, r.Payload, tc.wantType, tc.wantMessage)
				}
			})
		}
	})
}
