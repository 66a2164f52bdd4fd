package e2e

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

// boto3Require skips unless the host's /usr/bin/python3 (the interpreter
// Python functions run on) can import boto3, as .ci/run arranges
// (Debian's python3-boto3).
func boto3Require(t *testing.T) {
	t.Helper()
	pyRequire(t)
	if err := exec.Command("/usr/bin/python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("/usr/bin/python3 has no boto3: apt-get install python3-boto3 (.ci/run does)")
	}
}

// boto3Handler calls updraft through boto3 with nothing but what the
// environment gives it: no endpoint, region or credentials in the code.
const boto3Handler = `import json
import boto3
import botocore


def handler(event, context):
    if event.get("action") == "echo":
        return {"echo": event.get("value")}
    lam = boto3.client("lambda")
    r = lam.invoke(FunctionName=event["target"], InvocationType="Event",
                   Payload=json.dumps({"action": "echo", "value": event["value"]}))
    ident = boto3.client("sts").get_caller_identity()
    return {
        "status": r["StatusCode"],
        "requestId": r["ResponseMetadata"]["RequestId"],
        "arn": ident["Arn"],
        "account": ident["Account"],
        "boto3": boto3.__file__,
        "botocore": botocore.__version__,
        "endpoint": lam.meta.endpoint_url,
    }
`

// ownBoto3Handler reports which boto3 it imported.
const ownBoto3Handler = `import boto3


def handler(event, context):
    return {"version": boto3.__version__, "file": boto3.__file__}
`

// TestPythonBoto3: a Python function finds boto3 without shipping it,
// and its calls reach updraft signed with the function's role session
// although Debian's botocore predates AWS_ENDPOINT_URL; a function's own
// boto3, and a layer's, win over the runtime's.
func TestPythonBoto3(t *testing.T) {
	boto3Require(t)
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()
	createPy := func(t *testing.T, name string, files map[string]string, layers ...string) {
		t.Helper()
		entries := map[string]testutil.ZipEntry{}
		for p, s := range files {
			entries[p] = testutil.ZipEntry{Data: []byte(s)}
		}
		_, err := c.CreateFunction(ctx(t), &lambda.CreateFunctionInput{
			FunctionName: aws.String(name),
			Runtime:      types.RuntimePython312,
			Handler:      aws.String("app.handler"),
			Role:         aws.String(testRole),
			Timeout:      aws.Int32(20),
			MemorySize:   aws.Int32(256),
			Layers:       layers,
			Code:         &types.FunctionCode{ZipFile: testutil.ZipFiles(t, entries)},
		})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}

	t.Run("boto3 Lambda Event invoke and STS reach updraft from the environment alone", func(t *testing.T) {
		t.Parallel()
		createPy(t, "boto-caller", map[string]string{"app.py": boto3Handler})
		createPy(t, "boto-callee", map[string]string{"app.py": boto3Handler})
		var got struct {
			Status    int
			RequestID string `json:"requestId"`
			ARN       string `json:"arn"`
			Account   string
			Boto3     string
			Botocore  string
			Endpoint  string
		}
		invokeJSON(t, c, "boto-caller", map[string]any{"target": "boto-callee", "value": "queued by boto3"}, &got)
		if got.Status != 202 || got.RequestID == "" {
			t.Fatalf("boto3 Event invoke answered %+v", got)
		}
		if !strings.HasPrefix(got.Boto3, "/usr/lib/python3/dist-packages/boto3/") {
			t.Errorf("boto3 came from %s, want the host's (Debian's) package", got.Boto3)
		}
		if !strings.HasPrefix(got.Endpoint, "http://") {
			t.Errorf("the client's endpoint is %q, want updraft's", got.Endpoint)
		}
		// The caller is the function's role session, never the root key.
		if !regexp.MustCompile(`^arn:aws:sts::000000000000:assumed-role/updraft-test/.+`).MatchString(got.ARN) || got.Account != "000000000000" {
			t.Errorf("sts get_caller_identity = %s (account %s), want the role session of updraft-test", got.ARN, got.Account)
		}
		rec := waitRecord(t, srv, got.RequestID, 30*time.Second)
		if rec.Status != "SUCCEEDED" || !strings.Contains(string(rec.Result), `"echo":"queued by boto3"`) {
			t.Fatalf("record of the event boto3 queued: %+v %s", rec, rec.Result)
		}
		t.Logf("botocore %s at %s", got.Botocore, got.Endpoint)
	})

	t.Run("the function's own boto3 wins over a layer's, which wins over the runtime's", func(t *testing.T) {
		t.Parallel()
		layer, err := c.PublishLayerVersion(ctx(t), &lambda.PublishLayerVersionInput{
			LayerName: aws.String("boto-layer"),
			Content: &types.LayerVersionContentInput{ZipFile: testutil.ZipFiles(t, map[string]testutil.ZipEntry{
				"python/boto3/__init__.py": {Data: []byte("__version__ = 'layer'\n")},
			})},
		})
		if err != nil {
			t.Fatalf("publish layer: %v", err)
		}
		own := map[string]string{"app.py": ownBoto3Handler, "boto3/__init__.py": "__version__ = 'own'\n"}
		createPy(t, "boto-own", own)
		createPy(t, "boto-own-layer", own, *layer.LayerVersionArn)
		createPy(t, "boto-layer-only", map[string]string{"app.py": ownBoto3Handler}, *layer.LayerVersionArn)
		createPy(t, "boto-runtime", map[string]string{"app.py": ownBoto3Handler})
		for _, tc := range []struct{ fn, version, file string }{
			{"boto-own", "own", "/boto3/__init__.py"},
			{"boto-own-layer", "own", "/boto3/__init__.py"},
			{"boto-layer-only", "layer", "/python/boto3/__init__.py"},
			{"boto-runtime", "", "/usr/lib/python3/dist-packages/boto3/__init__.py"},
		} {
			var got struct{ Version, File string }
			invokeJSON(t, c, tc.fn, map[string]any{}, &got)
			if tc.version != "" && got.Version != tc.version {
				t.Errorf("%s imported boto3 %q from %s, want %q", tc.fn, got.Version, got.File, tc.version)
			}
			if tc.version == "" && (got.Version == "own" || got.Version == "layer") {
				t.Errorf("%s imported boto3 %q from %s, want the runtime's", tc.fn, got.Version, got.File)
			}
			if !strings.HasSuffix(got.File, tc.file) {
				t.Errorf("%s imported boto3 from %s, want a path ending in %s", tc.fn, got.File, tc.file)
			}
		}
	})
}
