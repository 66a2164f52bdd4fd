package e2e

// The conformance suite replays scenarios whose answers AWS has on record
// against a real server (the built binary, real HTTP, aws-sdk-go-v2) and
// compares status, error code, exact message and response fields. Every
// scenario names its source: a recorded AWS response (LocalStack's test
// snapshots, which are recorded against AWS), the botocore service model
// (shapes, constraints, enums) or AWS's documentation. No expected value
// comes from updraft's own output.
//
// Normalisation, applied to what the server answers before comparing:
// the partition, account and region of ARNs become "arn:<partition>:",
// "111111111111" and "<region>" (as in LocalStack's snapshots, so their
// strings can be pasted as they are) and generated UUIDs "<uuid>".
//
// Not compared for now: State, StateReason*, LastUpdateStatus* — function
// states (Pending → Active, waiters) are being built separately (issue 12
// item 3); scenarios name none of those fields.
//
// The scenario tables are in conformance_*_test.go, one file per area.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/updraft/updraft/internal/testutil"
)

// Sources a scenario cites.
const (
	// srcAPI is LocalStack's recording of AWS for test_lambda_api.py;
	// the test's key follows.
	srcAPI = "recorded: localstack tests/aws/services/lambda_/test_lambda_api.snapshot.json "
	// srcLambda is the recording for test_lambda.py.
	srcLambda = "recorded: localstack tests/aws/services/lambda_/test_lambda.snapshot.json "
	// srcKinesis is the recording for test_kinesis.py.
	srcKinesis = "recorded: localstack tests/aws/services/kinesis/test_kinesis.snapshot.json "
	// srcESMKinesis is the recording for the Kinesis mapping tests.
	srcESMKinesis = "recorded: localstack tests/aws/services/lambda_/event_source_mapping/test_lambda_integration_kinesis.snapshot.json "
	// srcModel is botocore's Lambda model; a shape or member follows.
	srcModel = "model: botocore data/lambda/2015-03-31/service-2.json "
	// srcKinesisModel is botocore's Kinesis model.
	srcKinesisModel = "model: botocore data/kinesis/2013-12-02/service-2.json "
	// srcDoc is AWS's documentation; the page follows.
	srcDoc = "doc: "
)

// scenario is one request and the answer AWS gives to it.
type scenario struct {
	name   string
	source string
	run    func(e *confEnv) outcome
	want   want
}

// want is the expected answer. Status is always compared; an error's Code
// and its message (Msg exactly, or Errors: the parts of a "N validation
// errors detected" message, in any order); Fields are dotted paths into
// the response's JSON (list elements by index), compared after the
// response's strings were normalised.
type want struct {
	Status int
	Code   string
	Msg    string
	Errors []string
	Fields map[string]any
}

// absent is a Fields value saying the member must not be in the answer.
type absent struct{}

// present is a Fields value saying the member must be in the answer,
// whatever its value (a log tail, a generated id).
type present struct{}

// outcome is what a scenario's request got.
type outcome struct {
	Status  int
	Code    string
	Message string
	Body    map[string]any
	// Header holds the raw answer's headers (raw requests only).
	Header http.Header
}

// confEnv is what scenarios run against: one server and its fixtures.
type confEnv struct {
	t   *testing.T
	ctx context.Context
	srv *testutil.Server
	l   *lambda.Client
	k   *kinesis.Client
	rec *statusRecorder
	// zip is the test function's deployment package; codeSHA its
	// CodeSha256 (base64 of the SHA-256 of the zip, per CreateFunction's
	// documentation).
	zip     []byte
	codeSHA string
}

// The fixtures every scenario may use, made before the first one runs.
const (
	confFn     = "conf-fn"      // provided.al2023 test function, version 1, alias "live" → 1
	confLayer  = "conf-layer"   // layer with version 1
	confStream = "conf-stream"  // Kinesis stream, one shard
	confRole   = testRole       // the execution role every function uses
	confQueue  = "conf-queue"   // built-in queue
	confDest   = "conf-dest-fn" // a second function, a destination target
)

func allScenarios() []scenario {
	var all []scenario
	for _, group := range [][]scenario{
		nameScenarios(),
		functionScenarios(),
		versionAliasScenarios(),
		concurrencyScenarios(),
		invokeScenarios(),
		eventInvokeConfigScenarios(),
		layerScenarios(),
		esmScenarios(),
		kinesisScenarios(),
		queueScenarios(),
	} {
		all = append(all, group...)
	}
	return all
}

// TestConformance replays every scenario against one server.
func TestConformance(t *testing.T) {
	t.Parallel()
	e := newConfEnv(t)
	scenarios := allScenarios()
	start := time.Now()
	var matched, known int
	suiteCtx := e.ctx
	for _, sc := range scenarios {
		reason, isKnown := knownDifferences[sc.name]
		t.Run(sc.name, func(t *testing.T) {
			// Each scenario gets its own deadline: one for the whole
			// suite ran out on a loaded machine, failing every later
			// scenario without an answer.
			e.t, e.ctx = t, testutil.Context(t, 2*time.Minute)
			got := sc.run(e)
			// The test function's CodeSha256 (base64 of its zip's SHA-256,
			// computed here) as LocalStack's snapshots write it.
			got.Message = strings.ReplaceAll(got.Message, e.codeSHA, "<code-sha256:1>")
			d := sc.want.diff(got)
			switch {
			case isKnown && len(d) == 0:
				t.Errorf("now matches AWS: remove it from knownDifferences (%s)", reason)
			case isKnown:
				known++
				t.Logf("known difference (%s):\n%s", reason, strings.Join(d, "\n"))
			case len(d) > 0:
				t.Errorf("differs from AWS (source: %s):\n%s", sc.source, strings.Join(d, "\n"))
			default:
				matched++
			}
		})
	}
	e.t, e.ctx = t, suiteCtx
	// Printed to stdout so that it shows in `go test` output run in the
	// e2e directory; TestConformanceScenarioCount keeps the README true.
	fmt.Printf("conformance: %d scenarios, %d match AWS's answers, %d known differences (%s)\n",
		len(scenarios), matched, known, time.Since(start).Round(time.Millisecond))
}

// minScenarios is the floor issue 12 sets for the suite.
const minScenarios = 150

// TestConformanceScenarioCount fails when the suite shrinks below its
// floor, when two scenarios share a name or a scenario cites no source,
// and when the README's stated count is stale.
func TestConformanceScenarioCount(t *testing.T) {
	all := allScenarios()
	if len(all) < minScenarios {
		t.Fatalf("%d conformance scenarios, want at least %d", len(all), minScenarios)
	}
	seen := map[string]bool{}
	knownN := 0
	for _, sc := range all {
		if seen[sc.name] {
			t.Errorf("two scenarios named %q", sc.name)
		}
		seen[sc.name] = true
		if _, ok := knownDifferences[sc.name]; ok {
			knownN++
		}
		if !strings.HasPrefix(sc.source, "recorded: ") && !strings.HasPrefix(sc.source, "model: ") && !strings.HasPrefix(sc.source, "doc: ") {
			t.Errorf("scenario %q: source %q is not a recording, the model or the docs", sc.name, sc.source)
		}
	}
	readme, err := os.ReadFile(filepath.Join(testutil.ModuleRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf("%d conformance scenarios", len(all))
	if !bytes.Contains(readme, []byte(line)) {
		t.Errorf("README.md does not say %q", line)
	}
	for name := range knownDifferences {
		if !seen[name] {
			t.Errorf("knownDifferences names %q, which is no scenario", name)
		}
	}
	if len(all)-knownN < minScenarios {
		t.Errorf("%d scenarios match AWS, want at least %d", len(all)-knownN, minScenarios)
	}
	fmt.Printf("conformance: %d scenarios in the suite, %d known differences\n", len(all), knownN)
}

func newConfEnv(t *testing.T) *confEnv {
	srv := testutil.StartServer(t, testutil.Options{})
	rec := &statusRecorder{c: srv.HTTPClient()}
	creds := credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, "")
	e := &confEnv{
		t: t, ctx: testutil.Context(t, 2*time.Minute), srv: srv, rec: rec, zip: testFunctionZip(t),
		l: lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: creds,
			RetryMaxAttempts: 1, HTTPClient: rec}),
		k: kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: creds,
			RetryMaxAttempts: 1, HTTPClient: rec}),
	}
	zsum := sha256.Sum256(e.zip)
	e.codeSHA = base64.StdEncoding.EncodeToString(zsum[:])
	e.mkfn(confFn)
	e.mkfn(confDest)
	must(t, "publish", e.sdk(e.l.PublishVersion(e.ctx, &lambda.PublishVersionInput{FunctionName: aws.String(confFn)})))
	must(t, "alias", e.sdk(e.l.CreateAlias(e.ctx, &lambda.CreateAliasInput{FunctionName: aws.String(confFn), Name: aws.String("live"), FunctionVersion: aws.String("1")})))
	must(t, "layer", e.sdk(e.l.PublishLayerVersion(e.ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String(confLayer),
		Content: &types.LayerVersionContentInput{ZipFile: testutil.ZipFiles(t, map[string]testutil.ZipEntry{"lib/x.txt": {Data: []byte("x")}})}})))
	must(t, "stream", e.sdk(e.k.CreateStream(e.ctx, &kinesis.CreateStreamInput{StreamName: aws.String(confStream), ShardCount: aws.Int32(1)})))
	return e
}

func must(t *testing.T, what string, o outcome) {
	t.Helper()
	if o.Status/100 != 2 {
		t.Fatalf("fixture %s: %d %s %s", what, o.Status, o.Code, o.Message)
	}
}

// mkfn creates a provided.al2023 function running the test function.
func (e *confEnv) mkfn(name string) {
	e.t.Helper()
	must(e.t, "create "+name, e.sdk(e.l.CreateFunction(e.ctx, e.createInput(name))))
}

// createInput is a valid CreateFunction request for name.
func (e *confEnv) createInput(name string) *lambda.CreateFunctionInput {
	return &lambda.CreateFunctionInput{FunctionName: aws.String(name), Runtime: types.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Role: aws.String(confRole), Code: &types.FunctionCode{ZipFile: e.zip}}
}

// fnARN is the ARN of a function of this server's account and region.
func (e *confEnv) fnARN(name string) string {
	return "arn:aws:lambda:us-east-1:000000000000:function:" + name
}

// statusRecorder is the SDK clients' HTTP client; it remembers the status
// of the last answer (scenarios run one at a time).
type statusRecorder struct {
	c    *http.Client
	mu   sync.Mutex
	last int
}

func (r *statusRecorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.c.Do(req)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = 0
	if err == nil {
		r.last = resp.StatusCode
	}
	return resp, err
}

// sdk turns an SDK call's result into an outcome.
func (e *confEnv) sdk(out any, err error) outcome {
	e.rec.mu.Lock()
	o := outcome{Status: e.rec.last}
	e.rec.mu.Unlock()
	if err != nil {
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			e.t.Fatalf("request failed without an answer: %v", err)
		}
		o.Code, o.Message = ae.ErrorCode(), ae.ErrorMessage()
		return o
	}
	b, jerr := json.Marshal(out)
	if jerr != nil {
		e.t.Fatalf("encode %T: %v", out, jerr)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if inv, ok := out.(*lambda.InvokeOutput); ok {
		// The payload as text, not base64, and decoded.
		m["Payload"] = string(inv.Payload)
		var doc any
		if json.Unmarshal(inv.Payload, &doc) == nil {
			m["PayloadJSON"] = doc
		}
	}
	delete(m, "ResultMetadata")
	o.Body, _ = prune(m).(map[string]any)
	return o
}

// raw sends a request signed for service, for what the SDK would refuse
// to send, and reads an error in Lambda's or Kinesis's shape.
func (e *confEnv) raw(service, method, path string, body []byte, header http.Header) outcome {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: e.srv.AccessKeyID, SecretAccessKey: e.srv.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(e.ctx, creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
		e.t.Fatal(err)
	}
	resp, err := e.srv.HTTPClient().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	o := outcome{Status: resp.StatusCode, Header: resp.Header}
	var m map[string]any
	if json.Unmarshal(b, &m) == nil {
		o.Body, _ = prune(m).(map[string]any)
	}
	if resp.StatusCode >= 400 {
		o.Code, _ = m["Type"].(string)
		if t, ok := m["__type"].(string); ok {
			o.Code = t
		}
		if h := resp.Header.Get("X-Amzn-ErrorType"); h != "" {
			o.Code, _, _ = strings.Cut(h, ":")
		}
		if msg, ok := m["Message"].(string); ok {
			o.Message = msg
		} else {
			o.Message, _ = m["message"].(string)
		}
	}
	return o
}

// jsonBody marshals v for raw.
func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// prune drops nulls and empty results of the SDK's pointers, so that an
// absent member and a nil pointer read the same.
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if val == nil {
				delete(x, k)
				continue
			}
			x[k] = prune(val)
		}
		return x
	case []any:
		for i := range x {
			x[i] = prune(x[i])
		}
	}
	return v
}

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	// A shard id is no account: "shardId-000000000000" is kept as it is
	// (the Replacer tries its pairs in order at each position).
	normalise = strings.NewReplacer("shardId-000000000000", "shardId-000000000000", "arn:aws:", "arn:<partition>:", "000000000000", "111111111111", "us-east-1", "<region>")
)

func norm(s string) string { return uuidRE.ReplaceAllString(normalise.Replace(s), "<uuid>") }

func normAll(v any) any {
	switch x := v.(type) {
	case string:
		return norm(x)
	case map[string]any:
		for k, val := range x {
			x[k] = normAll(val)
		}
	case []any:
		for i := range x {
			x[i] = normAll(x[i])
		}
	}
	return v
}

// diff compares got with w and returns every difference.
func (w want) diff(got outcome) []string {
	var d []string
	if got.Status != w.Status {
		d = append(d, fmt.Sprintf("status %d, want %d (%s %s)", got.Status, w.Status, got.Code, got.Message))
	}
	if got.Code != w.Code {
		d = append(d, fmt.Sprintf("error code %q, want %q", got.Code, w.Code))
	}
	msg := norm(got.Message)
	switch {
	case w.Errors != nil:
		parts := validationParts(msg)
		wantParts := append([]string(nil), w.Errors...)
		sort.Strings(wantParts)
		if !reflect.DeepEqual(parts, wantParts) {
			d = append(d, fmt.Sprintf("validation errors\n got %q\nwant %q", parts, wantParts))
		}
	case msg != w.Msg:
		d = append(d, fmt.Sprintf("message\n got %q\nwant %q", msg, w.Msg))
	}
	body := normAll(got.Body)
	for path, wantV := range w.Fields {
		gotV, ok := lookup(body, path)
		switch wantV.(type) {
		case absent:
			if ok {
				d = append(d, fmt.Sprintf("%s = %v, want it absent", path, gotV))
			}
			continue
		case present:
			if !ok {
				d = append(d, fmt.Sprintf("%s is absent, want it present", path))
			}
			continue
		}
		var wv any
		b, _ := json.Marshal(wantV)
		_ = json.Unmarshal(b, &wv)
		if !ok || !reflect.DeepEqual(gotV, wv) {
			gb, _ := json.Marshal(gotV)
			d = append(d, fmt.Sprintf("%s = %s (present %v), want %s", path, gb, ok, b))
		}
	}
	sort.Strings(d)
	return d
}

// validationParts splits "N validation error(s) detected: A; B" into its
// sorted parts, checking N.
func validationParts(msg string) []string {
	head, rest, ok := strings.Cut(msg, " detected: ")
	if !ok {
		return []string{msg}
	}
	parts := strings.Split(rest, "; ")
	n, _, _ := strings.Cut(head, " ")
	if c, err := strconv.Atoi(n); err != nil || c != len(parts) {
		return []string{"count mismatch: " + msg}
	}
	sort.Strings(parts)
	return parts
}

// lookup follows a dotted path ("Configuration.Layers.0.Arn").
func lookup(v any, path string) (any, bool) {
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[p]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}
