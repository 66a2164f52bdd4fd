package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

// pyTemplate is the runtime template python3.12 functions use.
const pyTemplate = "python:python3.12"

// templatesZip zips the named files of e2e/testdata/templates.
func templatesZip(t *testing.T, names ...string) []byte {
	t.Helper()
	files := map[string]testutil.ZipEntry{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", "templates", n))
		if err != nil {
			t.Fatal(err)
		}
		files[n] = testutil.ZipEntry{Data: b}
	}
	return testutil.ZipFiles(t, files)
}

// templateServer is a server with or without runtime templates.
type templateServer struct {
	srv *testutil.Server
	c   *lambda.Client
	on  bool
}

// readyTemplates returns how many pre-started runtimes of name /healthz
// reports ready.
func (s *templateServer) readyTemplates(t *testing.T, name string) (int, bool) {
	t.Helper()
	resp, err := http.Get(s.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Pool struct {
			RuntimeTemplates map[string]int `json:"runtimeTemplates"`
		} `json:"pool"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	n, ok := h.Pool.RuntimeTemplates[name]
	return n, ok
}

// awaitTemplate waits until a pre-started python3.12 runtime is ready
// (the next cold start takes it); a no-op without templates.
func (s *templateServer) awaitTemplate(t *testing.T) {
	t.Helper()
	s.awaitTemplateOf(t, pyTemplate)
}

// awaitTemplateOf waits until a pre-started runtime of template name is
// ready; a no-op without templates.
func (s *templateServer) awaitTemplateOf(t *testing.T, name string) {
	t.Helper()
	if !s.on {
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if n, _ := s.readyTemplates(t, name); n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no runtime of template %s became ready in 30 s:\n%s", name, s.srv.Output.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// create creates a python3.12 function.
func (s *templateServer) create(t *testing.T, name, handler string, zip []byte, memory int32, env map[string]string) {
	t.Helper()
	s.createRuntime(t, types.RuntimePython312, name, handler, zip, memory, env)
}

// createRuntime creates a function of runtime.
func (s *templateServer) createRuntime(t *testing.T, runtime types.Runtime, name, handler string, zip []byte, memory int32, env map[string]string) {
	t.Helper()
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: runtime, Handler: aws.String(handler),
		Role: aws.String(testRole), Timeout: aws.Int32(10), MemorySize: aws.Int32(memory),
		Code: &types.FunctionCode{ZipFile: zip},
	}
	if env != nil {
		in.Environment = &types.Environment{Variables: env}
	}
	if _, err := s.c.CreateFunction(ctx(t), in); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

// fromTemplate reports whether the environment of function name started
// from a runtime template, from the server's debug log; it fails the
// test when the log has no or several starts of it.
func (s *templateServer) fromTemplate(t *testing.T, name string) bool {
	t.Helper()
	var found []bool
	// The server may log the start a moment after the invoke answered.
	testutil.WaitFor(t, 5*time.Second, func() error {
		found = found[:0]
		for _, line := range strings.Split(s.srv.Output.String(), "\n") {
			if strings.Contains(line, `msg="environment started"`) && strings.Contains(line, " function="+name+" ") {
				found = append(found, strings.Contains(line, "runtime_template=true"))
			}
		}
		if len(found) == 0 {
			return fmt.Errorf("no environment start of %s in the log yet", name)
		}
		return nil
	})
	if len(found) != 1 {
		t.Fatalf("%d environment starts of %s in the log, want 1", len(found), name)
	}
	return found[0]
}

// coldInvoke invokes the new function name for its first time, on a
// pre-started runtime where the server has templates, and checks that
// the environment came from a template exactly when want says so.
func (s *templateServer) coldInvoke(t *testing.T, name, payload string, want bool) *lambda.InvokeOutput {
	t.Helper()
	return s.coldInvokeOf(t, pyTemplate, name, payload, want)
}

// coldInvokeOf is coldInvoke for a function of the runtime template tmpl.
func (s *templateServer) coldInvokeOf(t *testing.T, tmpl, name, payload string, want bool) *lambda.InvokeOutput {
	t.Helper()
	if want {
		s.awaitTemplateOf(t, tmpl)
	}
	res, err := s.c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(payload), LogType: types.LogTypeTail})
	if err != nil {
		t.Fatalf("invoke %s: %v", name, err)
	}
	if got := s.fromTemplate(t, name); got != want {
		t.Fatalf("%s: started from a runtime template: %v, want %v", name, got, want)
	}
	return res
}

// TestRuntimeTemplates runs Python functions on a server with runtime
// templates and on one without (--runtime-templates=false) and checks
// that a function cannot tell them apart: its process, environment,
// /tmp, restrictions, init errors and memory limit are the same. A
// handler that leaks a global into everything it can reach leaves
// nothing for another function's environment, and a function whose
// code shadows a module the template imported ahead, or that sets a
// start-up variable, still gets what a fresh start gives.
func TestRuntimeTemplates(t *testing.T) {
	pyRequire(t)
	t.Parallel()
	onSrv := testutil.StartServer(t, testutil.Options{Args: []string{"--log-level", "debug"}})
	if !strings.Contains(onSrv.Output.String(), "isolation: full") {
		t.Skip("runtime templates need full isolation")
	}
	offSrv := testutil.StartServer(t, testutil.Options{Args: []string{"--log-level", "debug", "--runtime-templates=false"}})
	on := &templateServer{srv: onSrv, c: onSrv.Lambda(), on: true}
	off := &templateServer{srv: offSrv, c: offSrv.Lambda()}
	if !strings.Contains(offSrv.Output.String(), "runtime templates off by configuration") {
		t.Errorf("the server without templates does not say so at start:\n%s", offSrv.Output.String())
	}
	if !strings.Contains(onSrv.Output.String(), "runtime templates on") {
		t.Errorf("the server with templates does not say so at start:\n%s", onSrv.Output.String())
	}
	probeZip := templatesZip(t, "probe.py", "broken.py")

	// The template of python3.12 starts with the first function that
	// needs it, which itself starts anew.
	on.create(t, "warm-up", "probe.handler", probeZip, 256, nil)
	on.coldInvoke(t, "warm-up", `{}`, false)
	if _, ok := off.readyTemplates(t, pyTemplate); ok {
		t.Error("/healthz of the server without templates lists a template")
	}

	t.Run("process, environment, /tmp and restrictions are the same", func(t *testing.T) {
		probe := func(s *templateServer) map[string]any {
			s.create(t, "probe", "probe.handler", probeZip, 256, map[string]string{"GREETING": "hello"})
			res := s.coldInvoke(t, "probe", `{}`, s.on)
			if res.FunctionError != nil {
				t.Fatalf("probe: %s", res.Payload)
			}
			var got map[string]any
			if err := json.Unmarshal(res.Payload, &got); err != nil {
				t.Fatal(err)
			}
			// The warm invoke: the same process, module state kept.
			var again map[string]any
			invokeJSON(t, s.c, "probe", map[string]any{}, &again)
			if again["count"] != 2.0 || again["pid"] != got["pid"] {
				t.Errorf("warm invoke: count %v pid %v, want 2 in pid %v", again["count"], again["pid"], got["pid"])
			}
			return got
		}
		withT, withoutT := probe(on), probe(off)
		// The pid is the process's own in the sandbox's pid namespace;
		// its number depends on how many threads the init made before
		// it, with or without a template.
		for _, m := range []map[string]any{withT, withoutT} {
			if pid, _ := m["pid"].(float64); pid < 2 || pid > 64 {
				t.Errorf("os.getpid() = %v, want a pid of the sandbox's namespace", m["pid"])
			}
		}
		for _, k := range []string{"count", "ppid", "cwd", "argv", "orig_argv", "path", "flags", "executable", "tmp", "tmp_writable",
			"hostname", "fds", "tzname", "encodings", "nofile", "handler_module", "remaining_ok", "function_name", "memory"} {
			if !reflect.DeepEqual(withT[k], withoutT[k]) {
				t.Errorf("%s: %v with a template, %v without", k, withT[k], withoutT[k])
			}
		}
		// The function really ran in the template's interpreter, not in
		// one it re-executed.
		if withT["preloaded"] != true || withoutT["preloaded"] != false {
			t.Errorf("uuid in sys.modules: %v with a template (want true: imported ahead), %v without (want false)", withT["preloaded"], withoutT["preloaded"])
		}
		if withT["count"] != 1.0 {
			t.Errorf("module state: count %v on the first invoke, want 1", withT["count"])
		}
		st, _ := withT["status"].(map[string]any)
		stN, _ := withoutT["status"].(map[string]any)
		if cpus := func(m map[string]any) int { s, _ := m["Cpus_allowed_list"].(string); return len(strings.Split(s, ",")) }; cpus(st) != cpus(stN) {
			t.Errorf("CPUs allowed: %v with a template, %v without", st["Cpus_allowed_list"], stN["Cpus_allowed_list"])
		}
		delete(st, "Cpus_allowed_list") // which CPUs is the placer's choice
		delete(stN, "Cpus_allowed_list")
		if !reflect.DeepEqual(st, stN) {
			t.Errorf("/proc/self/status: %v with a template, %v without", st, stN)
		}
		for k, want := range map[string]string{"NoNewPrivs": "1", "Seccomp": "2", "CapEff": "0000000000000000", "CapBnd": "0000000000000000"} {
			if st[k] != want {
				t.Errorf("/proc/self/status %s = %v with a template, want %s", k, st[k], want)
			}
		}
		// os.environ is the function's: the same names, and the same
		// values but for those of the environment (its log stream and
		// credentials) and of the invocation.
		envT, _ := withT["environ"].(map[string]any)
		envN, _ := withoutT["environ"].(map[string]any)
		perEnv := map[string]bool{"AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true, "_X_AMZN_TRACE_ID": true}
		for k, v := range envT {
			w, ok := envN[k]
			switch {
			case !ok:
				t.Errorf("os.environ has %s=%v with a template only", k, v)
			case !perEnv[k] && v != w:
				t.Errorf("os.environ[%s] = %v with a template, %v without", k, v, w)
			}
		}
		for k := range envN {
			if _, ok := envT[k]; !ok {
				t.Errorf("os.environ has %s without a template only", k)
			}
		}
		if envT["GREETING"] != "hello" || envT["AWS_LAMBDA_FUNCTION_NAME"] != "probe" {
			t.Errorf("os.environ lacks the function's variables: %v", envT)
		}
		if _, ok := envT["UPDRAFT_TEMPLATE_FD"]; ok {
			t.Error("the template's own variable is in os.environ")
		}
	})

	t.Run("init errors are the same", func(t *testing.T) {
		for _, c := range []struct{ name, handler, wantType string }{
			{"no-module", "missing.handler", "Runtime.ImportModuleError"},
			{"raises", "broken.handler", "ValueError"},
			{"no-handler", "probe.nothing", "Runtime.HandlerNotFound"},
		} {
			var docs [2]map[string]any
			for i, s := range []*templateServer{on, off} {
				s.create(t, c.name, c.handler, probeZip, 128, nil)
				res := s.coldInvoke(t, c.name, `{}`, s.on)
				if res.FunctionError == nil || *res.FunctionError != "Unhandled" {
					t.Fatalf("%s: function error %v, payload %s", c.name, res.FunctionError, res.Payload)
				}
				if err := json.Unmarshal(res.Payload, &docs[i]); err != nil {
					t.Fatal(err)
				}
			}
			if docs[0]["errorType"] != c.wantType || !reflect.DeepEqual(docs[0], docs[1]) {
				t.Errorf("%s: %v with a template, %v without; want errorType %s", c.name, docs[0], docs[1], c.wantType)
			}
		}
	})

	t.Run("a global leaked by one function reaches no other", func(t *testing.T) {
		on.create(t, "leaker", "probe.handler", probeZip, 128, nil)
		on.create(t, "peeker", "probe.handler", probeZip, 128, nil)
		if res := on.coldInvoke(t, "leaker", `{"action":"leak","value":"secret-of-leaker"}`, true); res.FunctionError != nil {
			t.Fatalf("leak: %s", res.Payload)
		}
		// The leak works: the leaker's own environment sees it.
		var own map[string]any
		invokeJSON(t, on.c, "leaker", map[string]string{"action": "peek"}, &own)
		for _, k := range []string{"builtins", "module", "environ", "tmp", "shm"} {
			if own[k] != "secret-of-leaker" {
				t.Errorf("the leaker does not see its own %s leak: %v", k, own)
			}
		}
		res := on.coldInvoke(t, "peeker", `{"action":"peek"}`, true)
		var seen map[string]any
		if err := json.Unmarshal(res.Payload, &seen); err != nil {
			t.Fatalf("peek %s: %v", res.Payload, err)
		}
		for k, v := range seen {
			if v != nil {
				t.Errorf("another function's environment sees the leaked %s: %v", k, v)
			}
		}
	})

	t.Run("a module of the function's that shadows one imported ahead wins", func(t *testing.T) {
		zip := templatesZip(t, "shadow.py", "uuid.py")
		for _, s := range []*templateServer{on, off} {
			s.create(t, "shadow", "shadow.handler", zip, 128, nil)
			res := s.coldInvoke(t, "shadow", `{}`, s.on)
			if string(res.Payload) != `"the function's own uuid module"` {
				t.Errorf("templates %v: import uuid gave %s", s.on, res.Payload)
			}
		}
	})

	t.Run("a function that sets a start-up variable starts anew", func(t *testing.T) {
		var names [2]any
		for i, s := range []*templateServer{on, off} {
			s.create(t, "tokyo", "probe.handler", probeZip, 128, map[string]string{"TZ": "Asia/Tokyo"})
			res := s.coldInvoke(t, "tokyo", `{}`, false)
			var got map[string]any
			if err := json.Unmarshal(res.Payload, &got); err != nil {
				t.Fatalf("%s: %v", res.Payload, err)
			}
			names[i] = got["tzname"]
		}
		if !reflect.DeepEqual(names[0], names[1]) || !reflect.DeepEqual(names[0], []any{"JST", "JST"}) {
			t.Errorf("time.tzname %v with templates on, %v off; want [JST JST]", names[0], names[1])
		}
	})

	t.Run("a 128 MB function is killed for memory at the same point either way", func(t *testing.T) {
		// Python's own charged memory here is a few MB, so 120 MiB
		// fits in 128 MiB either way; the test fills memory MiB by MiB
		// until the kill instead, and compares how far each got.
		var reached [2]int
		for i, s := range []*templateServer{on, off} {
			name := "hungry"
			s.create(t, name, "probe.handler", probeZip, 128, nil)
			if s.on {
				s.awaitTemplate(t)
			}
			res, err := s.c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{"action":"fill","mb":256}`), LogType: types.LogTypeTail})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.fromTemplate(t, name); got != s.on {
				t.Fatalf("started from a template: %v, want %v", got, s.on)
			}
			if typ := functionErrorType(t, res); typ != "Runtime.OutOfMemory" {
				t.Fatalf("templates %v: error type %q, want Runtime.OutOfMemory (payload %s)", s.on, typ, res.Payload)
			}
			m := regexp.MustCompile(`filled (\d+) MiB`).FindAllStringSubmatch(pyTail(t, res), -1)
			if len(m) == 0 {
				t.Fatalf("templates %v: no progress in the log tail", s.on)
			}
			reached[i], _ = strconv.Atoi(m[len(m)-1][1])
		}
		t.Logf("held before the kill: %d MiB with a template, %d MiB without", reached[0], reached[1])
		if reached[0] >= 128 || reached[0] < reached[1]-2 || reached[0] > reached[1]+2 {
			t.Errorf("held %d MiB with a template, %d MiB without: want the same within 2 MiB, below 128", reached[0], reached[1])
		}
	})

	t.Run("each environment reseeds random", func(t *testing.T) {
		var values []float64
		for _, name := range []string{"dice-1", "dice-2"} {
			on.create(t, name, "probe.handler", probeZip, 128, nil)
			var got map[string]any
			res := on.coldInvoke(t, name, `{}`, true)
			if err := json.Unmarshal(res.Payload, &got); err != nil {
				t.Fatal(err)
			}
			values = append(values, got["random"].(float64))
		}
		if values[0] == values[1] {
			t.Errorf("two environments drew the same random number %v", values[0])
		}
	})

	t.Run("Node.js: process, environment, output, init errors and leaks", func(t *testing.T) {
		nodeTemplate := "node:nodejs20.x:256"
		zip := templatesZip(t, "probe.mjs")
		// The template of nodejs20.x at 256 MB starts with the first
		// function that needs it.
		on.createRuntime(t, types.RuntimeNodejs20x, "node-warm-up", "probe.handler", zip, 256, nil)
		on.coldInvokeOf(t, nodeTemplate, "node-warm-up", `{}`, false)
		var got [2]map[string]any
		for i, s := range []*templateServer{on, off} {
			s.createRuntime(t, types.RuntimeNodejs20x, "node-probe", "probe.handler", zip, 256, map[string]string{"GREETING": "hello"})
			res := s.coldInvokeOf(t, nodeTemplate, "node-probe", `{}`, s.on)
			if res.FunctionError != nil {
				t.Fatalf("node probe: %s", res.Payload)
			}
			if err := json.Unmarshal(res.Payload, &got[i]); err != nil {
				t.Fatal(err)
			}
			tail := pyTail(t, res)
			for _, line := range []string{"probe log line", "probe fd 1 line"} {
				if !strings.Contains(tail, line) {
					t.Errorf("templates %v: %q is not in the log tail:\n%s", s.on, line, tail)
				}
			}
		}
		for _, k := range []string{"count", "ppid", "cwd", "argv", "execArgv", "status", "tmp", "fds", "functionName", "memory", "tz"} {
			if !reflect.DeepEqual(got[0][k], got[1][k]) {
				t.Errorf("%s: %v with a template, %v without", k, got[0][k], got[1][k])
			}
		}
		envT, _ := got[0]["env"].(map[string]any)
		envN, _ := got[1]["env"].(map[string]any)
		perEnv := map[string]bool{"AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true, "_X_AMZN_TRACE_ID": true}
		if len(envT) != len(envN) {
			t.Errorf("process.env has %d variables with a template, %d without", len(envT), len(envN))
		}
		for k, v := range envT {
			if w, ok := envN[k]; !ok || (!perEnv[k] && v != w) {
				t.Errorf("process.env[%s] = %v with a template, %v without", k, v, w)
			}
		}

		for _, s := range []*templateServer{on, off} {
			s.createRuntime(t, types.RuntimeNodejs20x, "node-missing", "missing.handler", zip, 256, nil)
			res := s.coldInvokeOf(t, nodeTemplate, "node-missing", `{}`, s.on)
			if typ := functionErrorType(t, res); typ != "Runtime.ImportModuleError" {
				t.Errorf("templates %v: error type %q, want Runtime.ImportModuleError", s.on, typ)
			}
		}

		on.createRuntime(t, types.RuntimeNodejs20x, "node-leaker", "probe.handler", zip, 256, nil)
		on.createRuntime(t, types.RuntimeNodejs20x, "node-peeker", "probe.handler", zip, 256, nil)
		on.coldInvokeOf(t, nodeTemplate, "node-leaker", `{"action":"leak","value":"secret-of-leaker"}`, true)
		var own map[string]any
		invokeJSON(t, on.c, "node-leaker", map[string]string{"action": "peek"}, &own)
		if own["global"] != "secret-of-leaker" || own["tmp"] != "secret-of-leaker" {
			t.Errorf("the leaker does not see its own leak: %v", own)
		}
		res := on.coldInvokeOf(t, nodeTemplate, "node-peeker", `{"action":"peek"}`, true)
		var seen map[string]any
		if err := json.Unmarshal(res.Payload, &seen); err != nil {
			t.Fatalf("peek %s: %v", res.Payload, err)
		}
		for k, v := range seen {
			if v != nil {
				t.Errorf("another function's environment sees the leaked %s: %v", k, v)
			}
		}
	})
}
