package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/config"
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
		if !strings.HasPrefix(got.Boto3, "/usr/") {
			t.Errorf("boto3 came from %s, want the host's (Debian's /usr/lib/python3/dist-packages)", got.Boto3)
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

	t.Run("per-service endpoints, an explicit endpoint_url and AWS_IGNORE_CONFIGURED_ENDPOINT_URLS as botocore 1.31+ has them", func(t *testing.T) {
		t.Parallel()
		code := `import boto3


def handler(event, context):
    s = boto3.session.Session()
    return {
        "sts": s.client("sts").meta.endpoint_url,
        "ddb": boto3.resource("dynamodb").meta.client.meta.endpoint_url,
        "sfn": s.client("stepfunctions").meta.endpoint_url,
        "explicit": s.client("sts", endpoint_url="http://explicit.invalid:3").meta.endpoint_url,
    }
`
		env := map[string]string{"AWS_ENDPOINT_URL_STS": "http://sts.invalid:1", "AWS_ENDPOINT_URL_SFN": "http://sfn.invalid:2"}
		for _, ignore := range []bool{false, true} {
			name := "boto-endpoints"
			if ignore {
				name, env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "boto-endpoints-ignored", "true"
			}
			_, err := c.CreateFunction(ctx(t), &lambda.CreateFunctionInput{
				FunctionName: aws.String(name), Runtime: types.RuntimePython312, Handler: aws.String("app.handler"),
				Role: aws.String(testRole), Timeout: aws.Int32(20), MemorySize: aws.Int32(256),
				Environment: &types.Environment{Variables: env},
				Code:        &types.FunctionCode{ZipFile: testutil.ZipFiles(t, map[string]testutil.ZipEntry{"app.py": {Data: []byte(code)}})},
			})
			if err != nil {
				t.Fatalf("create %s: %v", name, err)
			}
			var got struct{ STS, DDB, SFN, Explicit string }
			invokeJSON(t, c, name, map[string]any{}, &got)
			if ignore {
				// AWS's own endpoints (STS's global or regional one,
				// depending on the botocore).
				for _, u := range []string{got.STS, got.DDB, got.SFN} {
					if !strings.HasPrefix(u, "https://") || !strings.HasSuffix(u, ".amazonaws.com") {
						t.Errorf("%s: endpoint %s, want AWS's own with the configured ones ignored (%+v)", name, u, got)
					}
				}
				if got.Explicit != "http://explicit.invalid:3" {
					t.Errorf("%s: explicit endpoint_url became %s", name, got.Explicit)
				}
				continue
			}
			want := struct{ STS, DDB, SFN, Explicit string }{"http://sts.invalid:1", got.DDB, "http://sfn.invalid:2", "http://explicit.invalid:3"}
			if !strings.HasPrefix(got.DDB, "http://") || strings.Contains(got.DDB, "amazonaws") {
				t.Errorf("dynamodb endpoint %s, want AWS_ENDPOINT_URL (updraft)", got.DDB)
			}
			if got != want {
				t.Errorf("%s: endpoints %+v, want %+v", name, got, want)
			}
		}
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
			{"boto-runtime", "", "/dist-packages/boto3/__init__.py"},
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

// nodeSDKRequire skips unless `make node-sdk` installed the AWS SDK for
// JavaScript v3 where the server looks by default.
func nodeSDKRequire(t *testing.T) {
	t.Helper()
	for _, pkg := range []string{"client-lambda", "client-sts"} {
		if _, err := os.Stat(filepath.Join(config.DefaultNodeSDKDir, "node_modules", "@aws-sdk", pkg, "package.json")); err != nil {
			t.Skipf("no @aws-sdk/%s under %s: run make node-sdk (.ci/run does)", pkg, config.DefaultNodeSDKDir)
		}
	}
}

// nodeSDKCJS calls updraft through the SDK it does not ship, configured
// by the environment alone (SDK v3 reads AWS_ENDPOINT_URL itself).
const nodeSDKCJS = `const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');
const { STSClient, GetCallerIdentityCommand } = require('@aws-sdk/client-sts');
exports.handler = async (event) => {
  if (event.action === 'echo') return { echo: event.value };
  const r = await new LambdaClient({}).send(new InvokeCommand({
    FunctionName: event.target, InvocationType: 'Event',
    Payload: JSON.stringify({ action: 'echo', value: event.value }),
  }));
  const id = await new STSClient({}).send(new GetCallerIdentityCommand({}));
  return { status: r.StatusCode, requestId: r.$metadata.requestId, arn: id.Arn, from: require.resolve('@aws-sdk/client-lambda') };
};
`

// nodeSDKESM imports the SDK from an ES module.
const nodeSDKESM = `import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
export const handler = async () => {
  const id = await new STSClient({}).send(new GetCallerIdentityCommand({}));
  return { arn: id.Arn, own: STSClient.own === true };
};
`

// TestNodeAWSSDK: nodejs functions import the AWS SDK for JavaScript v3
// without shipping it, with require and with import, and reach updraft;
// a function's own copy wins.
func TestNodeAWSSDK(t *testing.T) {
	nodeSDKRequire(t)
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()
	sessionARN := regexp.MustCompile(`^arn:aws:sts::000000000000:assumed-role/updraft-test/.+`)

	t.Run("require: Event invoke and STS", func(t *testing.T) {
		t.Parallel()
		createNodeFunction(t, srv, nodeFunction{name: "sdk-caller", handler: "index.handler", timeout: 20, files: map[string]string{"index.js": nodeSDKCJS}})
		createNodeFunction(t, srv, nodeFunction{name: "sdk-callee", handler: "index.handler", files: map[string]string{"index.js": nodeSDKCJS}})
		var got struct {
			Status    int
			RequestID string `json:"requestId"`
			ARN       string `json:"arn"`
			From      string
		}
		invokeJSON(t, c, "sdk-caller", map[string]any{"target": "sdk-callee", "value": "queued by SDK v3"}, &got)
		if got.Status != 202 || got.RequestID == "" || !sessionARN.MatchString(got.ARN) {
			t.Fatalf("SDK calls answered %+v", got)
		}
		if !strings.HasPrefix(got.From, config.DefaultNodeSDKDir+"/node_modules/@aws-sdk/client-lambda/") {
			t.Errorf("@aws-sdk/client-lambda resolved to %s, want the provided SDK", got.From)
		}
		rec := waitRecord(t, srv, got.RequestID, 30*time.Second)
		if rec.Status != "SUCCEEDED" || !strings.Contains(string(rec.Result), `"echo":"queued by SDK v3"`) {
			t.Fatalf("record of the event the SDK queued: %+v %s", rec, rec.Result)
		}
	})

	t.Run("import from an ES module handler", func(t *testing.T) {
		t.Parallel()
		createNodeFunction(t, srv, nodeFunction{name: "sdk-esm", handler: "index.handler", timeout: 20, files: map[string]string{"index.mjs": nodeSDKESM}})
		var got struct {
			ARN string `json:"arn"`
			Own bool
		}
		invokeJSON(t, c, "sdk-esm", map[string]any{}, &got)
		if !sessionARN.MatchString(got.ARN) || got.Own {
			t.Fatalf("ES module SDK call answered %+v", got)
		}
	})

	t.Run("the function's own copy wins, for require and import", func(t *testing.T) {
		t.Parallel()
		own := map[string]string{
			"node_modules/@aws-sdk/client-sts/package.json": `{"name":"@aws-sdk/client-sts","version":"0.0.0-own","main":"index.js"}`,
			"node_modules/@aws-sdk/client-sts/index.js": `class STSClient { async send() { return { Arn: 'own' }; } }
STSClient.own = true;
exports.STSClient = STSClient;
exports.GetCallerIdentityCommand = class {};
`,
		}
		cjs := map[string]string{"index.js": `const { STSClient } = require('@aws-sdk/client-sts');
exports.handler = async () => ({ own: STSClient.own === true });
`}
		esm := map[string]string{"index.mjs": nodeSDKESM}
		for k, v := range own {
			cjs[k], esm[k] = v, v
		}
		createNodeFunction(t, srv, nodeFunction{name: "sdk-own-cjs", handler: "index.handler", files: cjs})
		createNodeFunction(t, srv, nodeFunction{name: "sdk-own-esm", handler: "index.handler", files: esm})
		for _, fn := range []string{"sdk-own-cjs", "sdk-own-esm"} {
			var got struct{ Own bool }
			invokeJSON(t, c, fn, map[string]any{}, &got)
			if !got.Own {
				t.Errorf("%s used the provided SDK, not its own copy", fn)
			}
		}
	})
}
