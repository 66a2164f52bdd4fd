package pool

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/registry"
	"github.com/updraft/updraft/internal/sandbox"
)

// envMap turns a KEY=value list into a map, failing on a malformed entry
// or a name given twice: with duplicates, which value a program sees
// depends on its libc or language runtime (os/exec keeps the last, glibc's
// getenv the first), so a name must appear once.
func envMap(t *testing.T, env []string) map[string]string {
	t.Helper()
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			t.Errorf("malformed environment entry %q", kv)
			continue
		}
		if old, dup := m[k]; dup {
			t.Errorf("%s is set twice: %q and %q", k, old, v)
		}
		m[k] = v
	}
	return m
}

func testVersion() *registry.Version {
	return &registry.Version{
		FunctionName:  "my-fn",
		FunctionARN:   "arn:aws:lambda:eu-west-1:123456789012:function:my-fn",
		Version:       "$LATEST",
		Runtime:       "provided.al2023",
		Handler:       "bootstrap",
		MemoryMB:      256,
		EphemeralMB:   512,
		CodeSha256Hex: "abc",
		RevisionID:    "rev-1",
	}
}

var fullLayout = sandbox.Layout{TaskRoot: "/var/task", OptRoot: "/opt", TmpDir: "/tmp"}

// fullModeEnv is the environment of testVersion in a full-mode sandbox
// with endpoint and credentials configured: Lambda's standard variables
// (reference/lambda.md §3).
func fullModeEnv() map[string]string {
	return map[string]string{
		"_HANDLER":                        "bootstrap",
		"AWS_REGION":                      "eu-west-1",
		"AWS_DEFAULT_REGION":              "eu-west-1",
		"AWS_LAMBDA_FUNCTION_NAME":        "my-fn",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/my-fn",
		"AWS_LAMBDA_LOG_STREAM_NAME":      "2026/01/02/[$LATEST]0123456789abcdef0123456789abcdef",
		"AWS_LAMBDA_RUNTIME_API":          "127.0.0.1:40123",
		"LAMBDA_TASK_ROOT":                "/var/task",
		"LAMBDA_RUNTIME_DIR":              "/var/runtime",
		"TZ":                              ":UTC",
		"LANG":                            "en_US.UTF-8",
		"PATH":                            "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"LD_LIBRARY_PATH":                 "/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
		"AWS_XRAY_CONTEXT_MISSING":        "LOG_ERROR",
		"AWS_ACCESS_KEY_ID":               "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":           "wJalrXUtnFEMI",
		"AWS_SESSION_TOKEN":               "",
		"AWS_ENDPOINT_URL":                "http://127.0.0.1:9321",
		"AWS_ENDPOINT_URL_LAMBDA":         "http://127.0.0.1:9321",
	}
}

func TestFunctionEnv(t *testing.T) {
	const stream = "2026/01/02/[$LATEST]0123456789abcdef0123456789abcdef"
	fullCfg := Config{
		Region:      "eu-west-1",
		EndpointURL: "http://127.0.0.1:9321",
		AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI",
	}
	tests := []struct {
		name    string
		cfg     Config
		version func(v *registry.Version)
		layout  sandbox.Layout
		// The expected environment is fullModeEnv with set applied and
		// the absent names removed.
		set    map[string]string
		absent []string
	}{
		{
			name:   "full mode sets Lambda's standard variables and no TMPDIR",
			cfg:    fullCfg,
			layout: fullLayout,
		},
		{
			name:    "a published version reports its number",
			cfg:     fullCfg,
			version: func(v *registry.Version) { v.Version = "7"; v.MemoryMB = 10240 },
			layout:  fullLayout,
			set:     map[string]string{"AWS_LAMBDA_FUNCTION_VERSION": "7", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "10240"},
		},
		{
			name: "basic mode points the paths at the host directories and sets TMPDIR",
			cfg:  fullCfg,
			layout: sandbox.Layout{
				TaskRoot: "/data/code/abc", OptRoot: "/data/layers/abc", TmpDir: "/data/tmp/0011",
			},
			set: map[string]string{
				"LAMBDA_TASK_ROOT": "/data/code/abc",
				"PATH":             "/usr/local/bin:/usr/bin/:/bin:/data/layers/abc/bin",
				"LD_LIBRARY_PATH":  "/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/data/code/abc:/data/code/abc/lib:/data/layers/abc/lib",
				"TMPDIR":           "/data/tmp/0011",
			},
		},
		{
			name:   "without credentials no AWS key variables are set",
			cfg:    Config{Region: "eu-west-1", EndpointURL: "http://127.0.0.1:9321"},
			layout: fullLayout,
			absent: []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"},
		},
		{
			name:   "without an endpoint no AWS_ENDPOINT_URL is set",
			cfg:    Config{Region: "eu-west-1", AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI"},
			layout: fullLayout,
			absent: []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA"},
		},
		{
			name:    "a managed runtime gets AWS_EXECUTION_ENV",
			cfg:     fullCfg,
			version: func(v *registry.Version) { v.Runtime = "python3.12"; v.Handler = "app.handler" },
			layout:  fullLayout,
			set:     map[string]string{"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12", "_HANDLER": "app.handler"},
		},
		{
			name: "the function's own variables are kept",
			cfg:  fullCfg,
			version: func(v *registry.Version) {
				v.Env = map[string]string{"TABLE": "orders", "EMPTY": "", "WITH_EQUALS": "a=b"}
			},
			layout: fullLayout,
			set:    map[string]string{"TABLE": "orders", "EMPTY": "", "WITH_EQUALS": "a=b"},
		},
		{
			name: "the function's own values replace the unreserved defaults, once each",
			cfg:  fullCfg,
			version: func(v *registry.Version) {
				v.Env = map[string]string{
					"TZ":                       "Europe/Paris",
					"LANG":                     "de_DE.UTF-8",
					"PATH":                     "/var/task/bin:/usr/bin",
					"LD_LIBRARY_PATH":          "/var/task/lib",
					"AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
					"AWS_ENDPOINT_URL":         "http://localstack:4566",
				}
			},
			layout: fullLayout,
			set: map[string]string{
				"TZ":                       "Europe/Paris",
				"LANG":                     "de_DE.UTF-8",
				"PATH":                     "/var/task/bin:/usr/bin",
				"LD_LIBRARY_PATH":          "/var/task/lib",
				"AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
				"AWS_ENDPOINT_URL":         "http://localstack:4566",
			},
		},
		{
			name:    "the JSON log format sets the format and the application log level, INFO by default",
			cfg:     fullCfg,
			version: func(v *registry.Version) { v.LogFormat = "JSON"; v.LogGroup = "/custom/group" },
			layout:  fullLayout,
			set:     map[string]string{"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO", "AWS_LAMBDA_LOG_GROUP_NAME": "/custom/group"},
		},
		{
			name: "a configured application log level wins over the function's own variable",
			cfg:  fullCfg,
			version: func(v *registry.Version) {
				v.LogFormat, v.ApplicationLogLevel = "JSON", "DEBUG"
				v.Env = map[string]string{"AWS_LAMBDA_LOG_LEVEL": "ERROR"}
			},
			layout: fullLayout,
			set:    map[string]string{"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "DEBUG"},
		},
		{
			name: "the Text log format sets no level: the function's own variable passes through",
			cfg:  fullCfg,
			version: func(v *registry.Version) {
				v.LogFormat = "Text"
				v.Env = map[string]string{"AWS_LAMBDA_LOG_LEVEL": "DEBUG"}
			},
			layout: fullLayout,
			set:    map[string]string{"AWS_LAMBDA_LOG_LEVEL": "DEBUG"},
		},
		{
			name: "a reserved name in the function's variables cannot replace the platform's value",
			cfg:  fullCfg,
			version: func(v *registry.Version) {
				// The registry refuses these; the pool must not trust that.
				v.Env = map[string]string{
					"AWS_LAMBDA_RUNTIME_API":   "evil:1",
					"_HANDLER":                 "evil",
					"AWS_LAMBDA_FUNCTION_NAME": "other",
					"AWS_ACCESS_KEY_ID":        "stolen",
				}
			},
			layout: fullLayout,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &Pool{cfg: tc.cfg}
			v := testVersion()
			if tc.version != nil {
				tc.version(v)
			}
			got := envMap(t, p.functionEnv(v, tc.layout, "127.0.0.1:40123", stream, nil, nil))
			want := fullModeEnv()
			maps.Copy(want, tc.set)
			for _, k := range tc.absent {
				delete(want, k)
			}
			for _, k := range slices.Sorted(maps.Keys(want)) {
				if g, ok := got[k]; !ok {
					t.Errorf("%s is not set, want %q", k, want[k])
				} else if g != want[k] {
					t.Errorf("%s = %q, want %q", k, g, want[k])
				}
			}
			for _, k := range slices.Sorted(maps.Keys(got)) {
				if _, ok := want[k]; !ok {
					t.Errorf("unexpected %s=%q", k, got[k])
				}
			}
		})
	}
}

func TestErrorDocument(t *testing.T) {
	tests := []struct {
		name, typ, msg string
		want           string
	}{
		{
			name: "a timeout",
			typ:  "Sandbox.Timedout", msg: "RequestId: 1 Error: Task timed out after 3.00 seconds",
			want: `{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: 1 Error: Task timed out after 3.00 seconds"}`,
		},
		{
			name: "a crash",
			typ:  "Runtime.ExitError", msg: "RequestId: 2 Error: Runtime exited with error: signal: killed",
			want: `{"errorType":"Runtime.ExitError","errorMessage":"RequestId: 2 Error: Runtime exited with error: signal: killed"}`,
		},
		{
			name: "quotes, newlines and non-ASCII are escaped as JSON",
			typ:  "Runtime.InvalidEntrypoint", msg: "bad \"bootstrap\"\nnext line: é",
			want: `{"errorType":"Runtime.InvalidEntrypoint","errorMessage":"bad \"bootstrap\"\nnext line: é"}`,
		},
		{
			name: "empty fields are kept",
			want: `{"errorType":"","errorMessage":""}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := errorDocument(tc.typ, tc.msg)
			if string(got) != tc.want {
				t.Errorf("errorDocument = %s\n want %s", got, tc.want)
			}
			var doc map[string]string
			if err := json.Unmarshal(got, &doc); err != nil || doc["errorType"] != tc.typ || doc["errorMessage"] != tc.msg {
				t.Errorf("errorDocument does not round-trip: %v %v", doc, err)
			}
		})
	}
}

func TestFunctionErrorResult(t *testing.T) {
	v := testVersion()
	v.Version = "3"
	res := functionErrorResult(v, "Sandbox.Failure", "thaw: no such process")
	if res.FunctionError != "Unhandled" || res.ErrorType != "Sandbox.Failure" || res.ExecutedVersion != "3" {
		t.Errorf("result = %+v, want Unhandled Sandbox.Failure on version 3", res)
	}
	if want := `{"errorType":"Sandbox.Failure","errorMessage":"thaw: no such process"}`; string(res.Payload) != want {
		t.Errorf("payload = %s, want %s", res.Payload, want)
	}
	if res.InitDuration != 0 || res.Duration != 0 || res.LogTail != nil {
		t.Errorf("result carries timings or a tail: %+v", res)
	}
}

func TestRuntimeRefused(t *testing.T) {
	tests := []struct {
		errorType string
		want      bool
	}{
		{"Function.ResponseSizeTooLarge", true},
		{"Runtime.TruncatedResponse", true},
		{"Runtime.InvalidResponseModeHeader", true},
		{"", false},
		{"Runtime.ExitError", false},
		{"Sandbox.Timedout", false},
		{"Handled", false},
		{"errorString", false},
		{"function.responsesizetoolarge", false},
	}
	for _, tc := range tests {
		t.Run(tc.errorType, func(t *testing.T) {
			if got := runtimeRefused(tc.errorType); got != tc.want {
				t.Errorf("runtimeRefused(%q) = %v, want %v", tc.errorType, got, tc.want)
			}
		})
	}
}

func TestBootstrapPath(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "exe")
	if err := os.MkdirAll(exe, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(exe, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.MkdirAll(plain, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(plain, "bootstrap"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	const missing = "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"
	tests := []struct {
		name, runtime, codeDir string
		want, wantErr          string
	}{
		{name: "an executable bootstrap runs from the task root", runtime: "provided.al2023", codeDir: exe, want: "/var/task/bootstrap"},
		{name: "provided.al2 is a custom runtime too", runtime: "provided.al2", codeDir: exe, want: "/var/task/bootstrap"},
		{name: "a bootstrap without the execute bit is refused", runtime: "provided.al2023", codeDir: plain, wantErr: missing},
		{name: "a package without a bootstrap is refused", runtime: "provided", codeDir: empty, wantErr: missing},
		{name: "a managed runtime is not available", runtime: "python3.12", codeDir: exe, wantErr: "runtime python3.12 is not available on this server yet"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := testVersion()
			v.Runtime = tc.runtime
			got, err := findBootstrap(v, tc.codeDir, "", fullLayout)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("findBootstrap = %q, %v; want error %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("findBootstrap = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestVCPUsForMemory(t *testing.T) {
	for _, tc := range []struct{ memoryMB, want int }{
		{0, 0},
		{128, 1},
		{1769, 1},
		{1770, 2},
		{3538, 2},
		{3539, 3},
		{10240, 6},
	} {
		if got := vcpusForMemory(tc.memoryMB); got != tc.want {
			t.Errorf("vcpusForMemory(%d) = %d, want %d", tc.memoryMB, got, tc.want)
		}
	}
}
