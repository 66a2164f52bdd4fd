package cli

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"

	"github.com/updraft/updraft/internal/lambdaapi"
)

// fakeLambda fakes the few Lambda REST endpoints the commands call, plus
// updraft's logs endpoint, and records what it was sent.
type fakeLambda struct {
	t *testing.T

	mu       sync.Mutex
	requests []string                                   // "METHOD /path?query", guarded by mu
	bodies   map[string][]byte                          // last body per "METHOD /path", guarded by mu
	fns      map[string]lambdaapi.FunctionConfiguration // guarded by mu
}

func newFakeLambda(t *testing.T) (*fakeLambda, *httptest.Server) {
	f := &fakeLambda{t: t, bodies: map[string][]byte{}, fns: map[string]lambdaapi.FunctionConfiguration{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions", f.create)
	mux.HandleFunc("GET /2015-03-31/functions", f.list)
	mux.HandleFunc("GET /2015-03-31/functions/{$}", f.list)
	mux.HandleFunc("GET /2015-03-31/functions/{name}", f.get)
	mux.HandleFunc("DELETE /2015-03-31/functions/{name}", f.delete)
	mux.HandleFunc("PUT /2015-03-31/functions/{name}/configuration", f.update)
	mux.HandleFunc("PUT /2015-03-31/functions/{name}/code", f.update)
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", f.invoke)
	mux.HandleFunc("GET /updraft/v1/functions/{name}/logs", f.logs)

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
		f.bodies[r.Method+" "+r.URL.Path] = body
		f.mu.Unlock()
		if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") {
			lambdaError(w, http.StatusForbidden, "InvalidSignatureException", "unsigned request: "+auth)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	// Listen on 127.0.0.1 explicitly: nothing here leaves the machine.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeLambda) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func (f *fakeLambda) body(key string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies[key]
}

func lambdaError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set(lambdaapi.HeaderErrorType, typ)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"Type": "User", "Message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeLambda) notFound(w http.ResponseWriter, name string) {
	lambdaError(w, http.StatusNotFound, "ResourceNotFoundException",
		"Function not found: arn:aws:lambda:us-east-1:000000000000:function:"+name)
}

func (f *fakeLambda) create(w http.ResponseWriter, r *http.Request) {
	var req lambdaapi.CreateFunctionRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", err.Error())
		return
	}
	cfg := lambdaapi.FunctionConfiguration{
		FunctionName: req.FunctionName,
		FunctionArn:  "arn:aws:lambda:us-east-1:000000000000:function:" + req.FunctionName,
		Runtime:      req.Runtime, Role: req.Role, Handler: req.Handler,
		CodeSize: int64(len(req.Code.ZipFile)), Timeout: *req.Timeout, MemorySize: *req.MemorySize,
		Version: lambdaapi.VersionLatest, State: "Active", LastUpdateStatus: "Successful",
		PackageType: "Zip", Architectures: []string{"x86_64"}, LastModified: "2025-03-10T12:00:00.000+0000",
	}
	if req.Environment != nil {
		cfg.Environment = &lambdaapi.EnvironmentResponse{Variables: req.Environment.Variables}
	}
	f.mu.Lock()
	f.fns[req.FunctionName] = cfg
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, cfg)
}

func (f *fakeLambda) lookup(name string) (lambdaapi.FunctionConfiguration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cfg, ok := f.fns[name]
	return cfg, ok
}

func (f *fakeLambda) get(w http.ResponseWriter, r *http.Request) {
	cfg, ok := f.lookup(r.PathValue("name"))
	if !ok {
		f.notFound(w, r.PathValue("name"))
		return
	}
	writeJSON(w, http.StatusOK, lambdaapi.GetFunctionResponse{Configuration: cfg,
		Code: lambdaapi.FunctionCodeLocation{RepositoryType: "S3", Location: "http://127.0.0.1/code"}})
}

func (f *fakeLambda) list(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	resp := lambdaapi.ListFunctionsResponse{Functions: []lambdaapi.FunctionConfiguration{}}
	for _, cfg := range f.fns {
		resp.Functions = append(resp.Functions, cfg)
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

func (f *fakeLambda) delete(w http.ResponseWriter, r *http.Request) {
	if _, ok := f.lookup(r.PathValue("name")); !ok {
		f.notFound(w, r.PathValue("name"))
		return
	}
	f.mu.Lock()
	delete(f.fns, r.PathValue("name"))
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeLambda) update(w http.ResponseWriter, r *http.Request) {
	cfg, ok := f.lookup(r.PathValue("name"))
	if !ok {
		f.notFound(w, r.PathValue("name"))
		return
	}
	var req lambdaapi.UpdateFunctionConfigurationRequest
	if strings.HasSuffix(r.URL.Path, "/configuration") {
		json.NewDecoder(r.Body).Decode(&req)
		if req.MemorySize != nil {
			cfg.MemorySize = *req.MemorySize
		}
	}
	f.mu.Lock()
	f.fns[cfg.FunctionName] = cfg
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, cfg)
}

// invoke echoes the payload for "hello", fails like a Python handler for
// "boom", and answers 404 for anything else.
func (f *fakeLambda) invoke(w http.ResponseWriter, r *http.Request) {
	payload, _ := io.ReadAll(r.Body)
	switch r.PathValue("name") {
	case "hello":
		if r.Header.Get(lambdaapi.HeaderLogType) == "Tail" {
			w.Header().Set(lambdaapi.HeaderLogResult, base64.StdEncoding.EncodeToString(
				[]byte("START RequestId: r-1 Version: $LATEST\nhi from hello\nEND RequestId: r-1\n")))
		}
		w.Header().Set(lambdaapi.HeaderExecutedVersion, "$LATEST")
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, `{"echo":%s}`, payload)
	case "boom":
		w.Header().Set(lambdaapi.HeaderFunctionError, "Unhandled")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"errorMessage":"division by zero","errorType":"ZeroDivisionError","stackTrace":[]}`)
	default:
		f.notFound(w, r.PathValue("name"))
	}
}

func (f *fakeLambda) logs(w http.ResponseWriter, r *http.Request) {
	if _, ok := f.lookup(r.PathValue("name")); !ok {
		f.notFound(w, r.PathValue("name"))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	io.WriteString(w, `{"time":"2025-03-10T12:00:00Z","function":"hello","version":"$LATEST","stream":"stdout","requestId":"","message":"init done\n"}`+"\n")
	io.WriteString(w, `{"time":"2025-03-10T12:00:01.25Z","function":"hello","version":"$LATEST","stream":"stdout","requestId":"r-1","message":"hi from hello\n"}`+"\n")
}

// result is what one run of the CLI produced.
type result struct {
	stdout, stderr string
	code           int
}

// runCLI runs the commands as cmd/updraft would, against endpoint, with
// test credentials in the environment.
func runCLI(t *testing.T, endpoint string, args ...string) result {
	t.Helper()
	for _, k := range []string{"UPDRAFT_ACCESS_KEY_ID", "UPDRAFT_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"UPDRAFT_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL", "UPDRAFT_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("UPDRAFT_DATA_DIR", t.TempDir())
	var stdout, stderr bytes.Buffer
	root := &cobra.Command{Use: "updraft"}
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.AddCommand(Commands(&stdout, &stderr)...)
	if endpoint != "" {
		args = append(args, "--endpoint-url", endpoint)
	}
	root.SetArgs(args)
	code := Execute(t.Context(), root, &stderr)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

func TestCommandsAgainstAFakeServer(t *testing.T) {
	fake, srv := newFakeLambda(t)
	code := t.TempDir()
	writeTree(t, code, map[string]os.FileMode{"bootstrap": 0o755, "static/index.html": 0o644})

	t.Run("function create zips the directory and prints the configuration", func(t *testing.T) {
		res := runCLI(t, srv.URL, "function", "create", "hello", "--code", code, "--env", "A=1", "--env", "B=x=y", "--memory", "256")
		if res.code != 0 {
			t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
		}
		var req lambdaapi.CreateFunctionRequest
		if err := json.Unmarshal(fake.body("POST /2015-03-31/functions"), &req); err != nil {
			t.Fatal(err)
		}
		if req.Runtime != "provided.al2023" || req.Handler != "bootstrap" || req.Role != DefaultRole ||
			*req.MemorySize != 256 || *req.Timeout != 3 || req.Environment.Variables["B"] != "x=y" {
			t.Errorf("unexpected request %+v", req)
		}
		zr, err := zip.NewReader(bytes.NewReader(req.Code.ZipFile), int64(len(req.Code.ZipFile)))
		if err != nil {
			t.Fatal(err)
		}
		if zr.File[0].Name != "bootstrap" || zr.File[0].Mode()&0o111 == 0 || zr.File[1].Name != "static/index.html" {
			t.Errorf("zip entries %s %v, %s", zr.File[0].Name, zr.File[0].Mode(), zr.File[1].Name)
		}
		var out map[string]any
		if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, res.stdout)
		}
		if out["FunctionName"] != "hello" || out["MemorySize"] != 256.0 || !strings.Contains(res.stdout, "\n    \"FunctionArn\"") {
			t.Errorf("unexpected output:\n%s", res.stdout)
		}
		if strings.Contains(res.stdout, "null") || strings.Contains(res.stdout, "ResultMetadata") {
			t.Errorf("output carries SDK noise:\n%s", res.stdout)
		}
	})

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // substring; "" means stdout must be empty
		wantStderr string // substring; "" means stderr must be empty
	}{
		{name: "invoke prints the response payload",
			args: []string{"invoke", "hello", "--payload", `{"n":1}`}, wantStdout: "{\"echo\":{\"n\":1}}\n"},
		{name: "invoke --log prints the log tail to stderr",
			args: []string{"invoke", "hello", "--log"}, wantStdout: `{"echo":}`, wantStderr: "START RequestId: r-1 Version: $LATEST\nhi from hello\nEND RequestId: r-1\n"},
		{name: "a function error prints the payload and fails naming the error type",
			args: []string{"invoke", "boom"}, wantCode: 1, wantStdout: `"errorType":"ZeroDivisionError"`,
			wantStderr: "updraft: function boom failed (Unhandled): ZeroDivisionError: division by zero\n"},
		{name: "a service error prints its type and message",
			args: []string{"invoke", "nope"}, wantCode: 1,
			wantStderr: "updraft: ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope\n"},
		{name: "invalid JSON is refused before anything is sent",
			args: []string{"invoke", "hello", "--payload", "{oops"}, wantCode: 1, wantStderr: "updraft: --payload: payload is not valid JSON"},
		{name: "function get prints the function in get-function shape",
			args: []string{"function", "get", "hello"}, wantStdout: `"Configuration": {`},
		{name: "function get of a missing function fails with the service error",
			args: []string{"function", "get", "ghost"}, wantCode: 1, wantStderr: "updraft: ResourceNotFoundException: Function not found"},
		{name: "function list prints a table",
			args: []string{"function", "list"}, wantStdout: "NAME   RUNTIME          MEMORY  TIMEOUT  LAST MODIFIED\nhello  provided.al2023  256     3        2025-03-10T12:00:00.000+0000\n"},
		{name: "function list --json prints list-functions shape",
			args: []string{"function", "list", "--json"}, wantStdout: "{\n    \"Functions\": [\n        {\n            \"FunctionName\": \"hello\""},
		{name: "function update with memory and code updates both",
			args: []string{"function", "update", "hello", "--memory", "512", "--code", code}, wantStdout: `"MemorySize": 512`},
		{name: "function update with nothing to change fails",
			args: []string{"function", "update", "hello"}, wantCode: 1, wantStderr: "updraft: nothing to update"},
		{name: "logs prints time, request id and message",
			args:       []string{"logs", "hello", "--since", "2025-03-10T11:00:00Z"},
			wantStdout: "2025-03-10T12:00:00.000Z  -  init done\n2025-03-10T12:00:01.250Z  r-1  hi from hello\n"},
		{name: "logs of a missing function fails with the service error",
			args: []string{"logs", "ghost"}, wantCode: 1, wantStderr: "updraft: ResourceNotFoundException: Function not found"},
		{name: "a missing argument points to --help and fails",
			args: []string{"invoke"}, wantCode: 1, wantStderr: "updraft: missing the function NAME (see 'updraft invoke --help')\n"},
		{name: "an unknown flag points to --help and fails",
			args: []string{"function", "list", "--bogus"}, wantCode: 1, wantStderr: "updraft: unknown flag: --bogus (see 'updraft function list --help')\n"},
		{name: "function delete confirms on stderr",
			args: []string{"function", "delete", "hello"}, wantStderr: "deleted function hello\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, srv.URL, tc.args...)
			if res.code != tc.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", res.code, tc.wantCode, res.stderr)
			}
			check := func(stream, got, want string) {
				if want == "" && got != "" || !strings.Contains(got, want) {
					t.Errorf("%s = %q, want it to contain %q", stream, got, want)
				}
			}
			check("stdout", res.stdout, tc.wantStdout)
			check("stderr", res.stderr, tc.wantStderr)
			if n := strings.Count(res.stderr, "updraft:"); tc.wantCode != 0 && n != 1 {
				t.Errorf("the error was printed %d times, want once:\n%s", n, res.stderr)
			}
		})
	}

	seen := strings.Join(fake.seen(), "\n")
	for _, want := range []string{
		"PUT /2015-03-31/functions/hello/configuration\nPUT /2015-03-31/functions/hello/code",
		"GET /updraft/v1/functions/hello/logs?limit=100&since=2025-03-10T11%3A00%3A00Z",
	} {
		if !strings.Contains(seen, want) {
			t.Errorf("server did not see %q in:\n%s", want, seen)
		}
	}
	if strings.Contains(seen, "{oops") || strings.Count(seen, "/2015-03-31/functions/hello/invocations") != 2 {
		t.Errorf("unexpected invocations:\n%s", seen)
	}
}

func TestErrorsPrintOnceUnderAPlainCobraRoot(t *testing.T) {
	_, srv := newFakeLambda(t)
	runCLI(t, srv.URL) // sets the test environment
	var stdout, stderr bytes.Buffer
	// As cmd/updraft builds it: cobra prints errors, main only exits 1.
	root := &cobra.Command{Use: "updraft", SilenceUsage: true}
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.AddCommand(Commands(&stdout, &stderr)...)
	root.SetArgs([]string{"invoke", "ghost", "--endpoint-url", srv.URL})
	err := root.Execute()
	if err == nil || !Reported(err) {
		t.Fatalf("err = %v, want a reported error", err)
	}
	want := "updraft: ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:000000000000:function:ghost\n"
	if stderr.String() != want {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
}

func TestUnreachableServerNamesTheEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + ln.Addr().String()
	ln.Close()
	res := runCLI(t, endpoint, "invoke", "hello")
	want := "updraft: cannot reach updraft at " + endpoint + ": connection refused"
	if res.code != 1 || !strings.HasPrefix(res.stderr, want) {
		t.Errorf("exit %d, stderr %q; want 1 and %q", res.code, res.stderr, want)
	}
}

func TestMissingCredentialsSayWhatToExport(t *testing.T) {
	_, srv := newFakeLambda(t)
	var stdout, stderr bytes.Buffer
	for _, k := range []string{"UPDRAFT_ACCESS_KEY_ID", "UPDRAFT_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		t.Setenv(k, "")
	}
	dataDir := t.TempDir()
	root := &cobra.Command{Use: "updraft"}
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.AddCommand(Commands(&stdout, &stderr)...)
	root.SetArgs([]string{"function", "list", "--endpoint-url", srv.URL, "--data-dir", dataDir})
	if code := Execute(t.Context(), root, &stderr); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"updraft: no credentials for updraft", "export AWS_ACCESS_KEY_ID", filepath.Join(dataDir, "credentials.json")} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q does not contain %q", stderr.String(), want)
		}
	}
}

func TestEveryCommandHasHelpWithAnExample(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Short == "" || c.Long == "" || c.Example == "" {
			t.Errorf("%q lacks Short, Long or Example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			if sub.Name() != "help" && sub.Name() != "completion" {
				walk(sub)
			}
		}
	}
	for _, c := range Commands(io.Discard, io.Discard) {
		walk(c)
	}
}
