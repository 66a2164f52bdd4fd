package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/testutil"
)

// shellRuntime is a custom runtime in sh (with curl, which the host has
// and the sandbox sees) that answers every event with the content of
// data/x.txt next to itself: /opt/data/x.txt when it runs from a layer.
const shellRuntime = `#!/bin/sh
set -eu
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation"
dir=$(dirname "$0")
while true; do
	id=$(curl -sS -D - -o /dev/null "$api/next" | tr -d '\r' | sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: *//p')
	body=$(cat "$dir/data/x.txt")
	curl -sS -o /dev/null -X POST -d "\"$body\"" "$api/$id/response"
done
`

// layerVersionOut is the CLI's JSON output of publish-layer-version and
// get-layer-version.
type layerVersionOut struct {
	LayerArn, LayerVersionArn, CreatedDate string
	Version                                int64
	Content                                struct {
		Location, CodeSha256 string
		CodeSize             int64
	}
}

func decodeJSONOut[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	return v
}

// TestLayersWithTheAWSCLI publishes layers with the aws CLI and runs
// functions that use them: a provided.al2023 function whose bootstrap
// comes from a layer, two layers with the same file (the later wins), a
// missing layer refused at create, and a deleted layer version that keeps
// working for the function that uses it.
func TestLayersWithTheAWSCLI(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	srv := testutil.StartServer(t, testutil.Options{})
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return "fileb://" + p
	}
	runtimeZip := write("runtime.zip", testFunctionZip(t))
	noBootstrap := write("code.zip", testutil.ZipFiles(t, map[string]testutil.ZipEntry{"README.txt": {Data: []byte("the bootstrap is in a layer\n")}}))
	shellZip := write("shell.zip", testutil.ZipFiles(t, map[string]testutil.ZipEntry{
		"bootstrap":  {Data: []byte(shellRuntime), Mode: 0o755},
		"data/x.txt": {Data: []byte("first")},
	}))
	dataZip := write("data.zip", testutil.ZipFiles(t, map[string]testutil.ZipEntry{"data/x.txt": {Data: []byte("second")}}))
	const layerARN = "arn:aws:lambda:us-east-1:000000000000:layer:"

	// Publish, read and list.
	out, _ := awsCLI(t, srv, false, "lambda", "publish-layer-version", "--layer-name", "go-runtime",
		"--zip-file", runtimeZip, "--compatible-runtimes", "provided.al2023", "--description", "testfn as a layer")
	pub := decodeJSONOut[layerVersionOut](t, out)
	if pub.Version != 1 || pub.LayerArn != layerARN+"go-runtime" || pub.LayerVersionArn != layerARN+"go-runtime:1" ||
		pub.Content.CodeSize == 0 || pub.Content.CodeSha256 == "" || pub.Content.Location == "" || pub.CreatedDate == "" {
		t.Fatalf("publish-layer-version: %s", out)
	}
	out, _ = awsCLI(t, srv, false, "lambda", "get-layer-version", "--layer-name", "go-runtime", "--version-number", "1")
	if got := decodeJSONOut[layerVersionOut](t, out); got.LayerVersionArn != pub.LayerVersionArn || got.Content.CodeSha256 != pub.Content.CodeSha256 {
		t.Fatalf("get-layer-version: %s", out)
	}
	out, _ = awsCLI(t, srv, false, "lambda", "get-layer-version-by-arn", "--arn", pub.LayerVersionArn)
	if got := decodeJSONOut[layerVersionOut](t, out); got.Version != 1 {
		t.Fatalf("get-layer-version-by-arn: %s", out)
	}
	shell := decodeJSONOut[layerVersionOut](t, cliStdout(awsCLI(t, srv, false, "lambda", "publish-layer-version", "--layer-name", "shell", "--zip-file", shellZip)))
	data := decodeJSONOut[layerVersionOut](t, cliStdout(awsCLI(t, srv, false, "lambda", "publish-layer-version", "--layer-name", "data", "--zip-file", dataZip)))

	out, _ = awsCLI(t, srv, false, "lambda", "list-layers")
	layers := decodeJSONOut[struct {
		Layers []struct {
			LayerName             string
			LatestMatchingVersion struct{ Version int64 }
		}
	}](t, out)
	if len(layers.Layers) != 3 || layers.Layers[0].LayerName != "data" || layers.Layers[1].LayerName != "go-runtime" || layers.Layers[2].LayerName != "shell" {
		t.Fatalf("list-layers: %s", out)
	}
	out, _ = awsCLI(t, srv, false, "lambda", "list-layers", "--compatible-runtime", "provided.al2023")
	if !strings.Contains(out, `"LayerName": "go-runtime"`) || strings.Contains(out, `"LayerName": "shell"`) {
		t.Fatalf("list-layers --compatible-runtime: %s", out)
	}

	// A provided.al2023 function whose bootstrap is in a layer.
	out, _ = awsCLI(t, srv, false, "lambda", "create-function", "--function-name", "layered",
		"--runtime", "provided.al2023", "--handler", "bootstrap", "--role", testRole,
		"--zip-file", noBootstrap, "--layers", pub.LayerVersionArn)
	created := decodeJSONOut[struct {
		Layers []struct {
			Arn      string
			CodeSize int64
		}
	}](t, out)
	if len(created.Layers) != 1 || created.Layers[0].Arn != pub.LayerVersionArn || created.Layers[0].CodeSize != pub.Content.CodeSize {
		t.Fatalf("create-function --layers: %s", out)
	}
	invokeCLI := func(name, payload string) string {
		t.Helper()
		outFile := filepath.Join(dir, "out.json")
		meta, _ := awsCLI(t, srv, false, "lambda", "invoke", "--function-name", name, "--payload", payload, outFile)
		if strings.Contains(meta, "FunctionError") {
			b, _ := os.ReadFile(outFile)
			t.Fatalf("invoke %s: %s %s", name, meta, b)
		}
		b, err := os.ReadFile(outFile)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := invokeCLI("layered", `{"action":"echo","echo":"from /opt/bootstrap"}`); !strings.Contains(got, `"echo":"from /opt/bootstrap"`) {
		t.Fatalf("the layer's bootstrap answered %s", got)
	}
	out, _ = awsCLI(t, srv, false, "lambda", "get-function", "--function-name", "layered")
	if !strings.Contains(out, `"Arn": "`+pub.LayerVersionArn+`"`) {
		t.Fatalf("get-function lacks the layer: %s", out)
	}

	// Two layers with the same path: the later one wins, whatever the order.
	awsCLI(t, srv, false, "lambda", "create-function", "--function-name", "merged",
		"--runtime", "provided.al2023", "--handler", "bootstrap", "--role", testRole,
		"--zip-file", noBootstrap, "--layers", shell.LayerVersionArn, data.LayerVersionArn)
	if got := invokeCLI("merged", `{}`); got != `"second"` {
		t.Fatalf("with layers [shell, data] /opt/data/x.txt reads %s, want \"second\"", got)
	}
	awsCLI(t, srv, false, "lambda", "update-function-configuration", "--function-name", "merged", "--layers", data.LayerVersionArn, shell.LayerVersionArn)
	if got := invokeCLI("merged", `{}`); got != `"first"` {
		t.Fatalf("with layers [data, shell] /opt/data/x.txt reads %s, want \"first\"", got)
	}

	// A missing layer version is refused and creates nothing.
	_, stderr := awsCLI(t, srv, true, "lambda", "create-function", "--function-name", "ghost",
		"--runtime", "provided.al2023", "--handler", "bootstrap", "--role", testRole,
		"--zip-file", noBootstrap, "--layers", layerARN+"go-runtime:9")
	if !strings.Contains(stderr, "InvalidParameterValueException") || !strings.Contains(stderr, "Layer version "+layerARN+"go-runtime:9 does not exist.") {
		t.Fatalf("create-function with a missing layer: %s", stderr)
	}
	if _, stderr := awsCLI(t, srv, true, "lambda", "get-function", "--function-name", "ghost"); !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Fatalf("get-function after the refused create: %s", stderr)
	}

	// A deleted layer version keeps working for the function that uses
	// it, even in a new environment; it cannot be newly referenced, and its
	// number is not reused.
	awsCLI(t, srv, false, "lambda", "delete-layer-version", "--layer-name", "go-runtime", "--version-number", "1")
	if _, stderr := awsCLI(t, srv, true, "lambda", "get-layer-version", "--layer-name", "go-runtime", "--version-number", "1"); !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Fatalf("get-layer-version after delete: %s", stderr)
	}
	out, _ = awsCLI(t, srv, false, "lambda", "list-layer-versions", "--layer-name", "go-runtime")
	if !strings.Contains(out, `"LayerVersions": []`) {
		t.Fatalf("list-layer-versions after delete: %s", out)
	}
	awsCLI(t, srv, false, "lambda", "update-function-configuration", "--function-name", "layered", "--description", "new environment please")
	if got := invokeCLI("layered", `{"action":"version"}`); got != `"v1"` {
		t.Fatalf("after the layer's delete the function answered %s", got)
	}
	_, stderr = awsCLI(t, srv, true, "lambda", "update-function-configuration", "--function-name", "layered", "--layers", pub.LayerVersionArn)
	if !strings.Contains(stderr, "does not exist") {
		t.Fatalf("referencing a deleted layer version: %s", stderr)
	}
	out, _ = awsCLI(t, srv, false, "lambda", "publish-layer-version", "--layer-name", "go-runtime", "--zip-file", runtimeZip)
	if got := decodeJSONOut[layerVersionOut](t, out); got.Version != 2 {
		t.Fatalf("publish after delete: %s", out)
	}
	out, _ = awsCLI(t, srv, false, "lambda", "list-layer-versions", "--layer-name", "go-runtime")
	if !strings.Contains(out, `"LayerVersionArn": "`+layerARN+`go-runtime:2"`) || strings.Contains(out, "go-runtime:1") {
		t.Fatalf("list-layer-versions: %s", out)
	}
}

// cliStdout keeps the stdout of awsCLI.
func cliStdout(stdout, _ string) string { return stdout }
