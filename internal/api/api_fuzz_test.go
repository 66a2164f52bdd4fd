package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/updraft/updraft/internal/api"
	"github.com/updraft/updraft/internal/esm"
	"github.com/updraft/updraft/internal/fnpolicy"
	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/metrics"
	"github.com/updraft/updraft/internal/queue"
	"github.com/updraft/updraft/internal/registry"
	"github.com/updraft/updraft/internal/stream"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

// fuzzOps are the operations FuzzAPI drives, as METHOD PATH: {name}
// becomes the fuzzed function (or layer, queue, mapping) name and {sub}
// the fuzzed qualifier, alias, version or statement id, both escaped as
// the SDKs escape path labels. Every JSON request type of the Lambda API,
// the queue API and the Kinesis API (on "POST /", by X-Amz-Target) is
// here, and the HTTP proxy.
var fuzzOps = []string{
	"POST /2015-03-31/functions",
	"GET /2015-03-31/functions/",
	"GET /2015-03-31/functions/{name}",
	"DELETE /2015-03-31/functions/{name}",
	"GET /2015-03-31/functions/{name}/configuration",
	"PUT /2015-03-31/functions/{name}/configuration",
	"PUT /2015-03-31/functions/{name}/code",
	"POST /2015-03-31/functions/{name}/versions",
	"GET /2015-03-31/functions/{name}/versions",
	"POST /2015-03-31/functions/{name}/aliases",
	"GET /2015-03-31/functions/{name}/aliases",
	"GET /2015-03-31/functions/{name}/aliases/{sub}",
	"PUT /2015-03-31/functions/{name}/aliases/{sub}",
	"DELETE /2015-03-31/functions/{name}/aliases/{sub}",
	"PUT /2017-10-31/functions/{name}/concurrency",
	"DELETE /2017-10-31/functions/{name}/concurrency",
	"GET /2019-09-30/functions/{name}/concurrency",
	"POST /2015-03-31/functions/{name}/invocations",
	"POST /2021-11-15/functions/{name}/response-streaming-invocations",
	"POST /2014-11-13/functions/{name}/invoke-async/",
	"PUT /2019-09-25/functions/{name}/event-invoke-config",
	"POST /2019-09-25/functions/{name}/event-invoke-config",
	"GET /2019-09-25/functions/{name}/event-invoke-config",
	"DELETE /2019-09-25/functions/{name}/event-invoke-config",
	"GET /2019-09-25/functions/{name}/event-invoke-config/list",
	"GET /2018-10-31/layers",
	"POST /2018-10-31/layers/{name}/versions",
	"GET /2018-10-31/layers/{name}/versions",
	"GET /2018-10-31/layers/{name}/versions/{sub}",
	"DELETE /2018-10-31/layers/{name}/versions/{sub}",
	"POST /2015-03-31/event-source-mappings/",
	"GET /2015-03-31/event-source-mappings/",
	"GET /2015-03-31/event-source-mappings/{name}",
	"PUT /2015-03-31/event-source-mappings/{name}",
	"DELETE /2015-03-31/event-source-mappings/{name}",
	"POST /2015-03-31/functions/{name}/policy",
	"GET /2015-03-31/functions/{name}/policy",
	"DELETE /2015-03-31/functions/{name}/policy/{sub}",
	"GET /updraft/v1/queues",
	"POST /updraft/v1/queues/{name}/messages",
	"POST /updraft/v1/queues/{name}/receive",
	"POST /",
	"POST /updraft/v1/http/{name}/{sub}",
	"GET /updraft/v1/http/{name}",
}

// apiFuzzer is one server over real services on an embedded JetStream,
// shared by a fuzz worker's inputs, with what the seeds refer to: function
// fn (version 1, alias live), layer lib, queue jobs, stream s.
type apiFuzzer struct {
	srv    *api.Server
	errors *errorLog
}

// errorLog is a slog handler that keeps every Error record: a request the
// server could not handle is logged as "internal error" at Error level.
type errorLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *errorLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }
func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	l.mu.Lock()
	l.msgs = append(l.msgs, b.String())
	l.mu.Unlock()
	return nil
}
func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errorLog) WithGroup(string) slog.Handler      { return l }

func (l *errorLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.msgs
	l.msgs = nil
	return m
}

func newAPIFuzzer(f *testing.F) *apiFuzzer {
	f.Helper()
	errs := &errorLog{}
	logger := slog.New(errs)
	st := storetest.Open(f, f.TempDir(), logger)
	ctx := context.Background()
	reg, err := registry.New(ctx, st, registry.Config{Region: testRegion, AccountID: testAccount, CodeCacheDir: f.TempDir()}, logger)
	if err != nil {
		f.Fatalf("registry.New: %v", err)
	}
	f.Cleanup(func() { _ = reg.Close() })
	reg.SetCodeBaseURL("http://127.0.0.1:9321")
	inv := invoke.New(reg, &fakeRunner{}, metrics.NewInvoke(prometheus.NewRegistry()), logger)
	q := queue.New(st.JetStream(), 1, logger, queue.WithAccount(testRegion, testAccount))
	s := stream.New(st.JetStream(), 1, logger, stream.WithAccount(testRegion, testAccount))
	mappings, err := esm.New(ctx, esm.Config{Region: testRegion, AccountID: testAccount},
		esm.Deps{JetStream: st.JetStream(), Invoker: inv, Resolver: reg, Queues: q, Streams: s, Logger: logger})
	if err != nil {
		f.Fatal(err)
	}
	pols, err := fnpolicy.New(ctx, fnpolicy.Config{Replicas: 1}, fnpolicy.Deps{JetStream: st.JetStream(), Functions: reg, Logger: logger})
	if err != nil {
		f.Fatal(err)
	}
	af := &apiFuzzer{errors: errs, srv: api.New(api.Deps{
		Logger: logger, Registry: reg, Invoker: inv, Queues: q, Streams: s, ESM: mappings, Policies: pols,
		AccountID: testAccount, Region: testRegion,
	})}
	zip := base64.StdEncoding.EncodeToString(codeZip(f))
	for _, setup := range []struct{ op, name, sub, header, body string }{
		{op: "POST /2015-03-31/functions", body: `{"FunctionName":"fn","Runtime":"provided.al2023","Role":"` + testRole + `","Handler":"bootstrap","Code":{"ZipFile":"` + zip + `"}}`},
		{op: "POST /2015-03-31/functions/{name}/versions", name: "fn"},
		{op: "POST /2015-03-31/functions/{name}/aliases", name: "fn", body: `{"Name":"live","FunctionVersion":"1"}`},
		{op: "POST /2018-10-31/layers/{name}/versions", name: "lib", body: `{"Content":{"ZipFile":"` + zip + `"}}`},
		{op: "POST /updraft/v1/queues/{name}/messages", name: "jobs", body: `{"MessageBody":"hello"}`},
		{op: "POST /", header: "X-Amz-Target: Kinesis_20131202.CreateStream", body: `{"StreamName":"s","ShardCount":1}`},
	} {
		if rec := af.do(setup.op, setup.name, setup.sub, "", setup.header, []byte(setup.body)); rec.Code >= 300 {
			f.Fatalf("setup %s %s: %d %s", setup.op, setup.name, rec.Code, rec.Body)
		}
	}
	if errs := errs.take(); len(errs) > 0 {
		f.Fatalf("setup logged errors: %q", errs)
	}
	return af
}

// do serves one request built from the fuzzer's pieces; header holds
// "Name: value" lines.
func (af *apiFuzzer) do(op, name, sub, query, header string, body []byte) *httptest.ResponseRecorder {
	method, path, _ := strings.Cut(op, " ")
	path = strings.ReplaceAll(path, "{name}", url.PathEscape(name))
	path = strings.ReplaceAll(path, "{sub}", url.PathEscape(sub))
	if query != "" {
		path += "?" + query
	}
	req, err := http.NewRequestWithContext(context.Background(), method, "http://127.0.0.1:9321"+path, bytes.NewReader(body))
	if err != nil || strings.ContainsAny(path, " #\x00") {
		return nil // not a request-target a client can send
	}
	req.RequestURI = path // as the server sees it
	for line := range strings.SplitSeq(header, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && validFuzzHeader(k, v) {
			req.Header.Add(k, strings.TrimSpace(v))
		}
	}
	rec := httptest.NewRecorder()
	af.srv.ServeHTTP(rec, req)
	return rec
}

// validFuzzHeader keeps what net/http would accept from a client.
func validFuzzHeader(k, v string) bool {
	if k == "" || strings.ContainsAny(k, " \t\r\n:") {
		return false
	}
	return !strings.ContainsAny(v, "\r\n\x00")
}

// FuzzAPI sends fuzzed requests to every operation of the Lambda, queue
// and Kinesis APIs and the HTTP proxy, over real services: whatever the
// path labels, query, headers and body, the answer is a client error or a
// success in the service's shape, never an internal error (a 500, or an
// Error line in the server's log). The seeds are requests as the SDKs
// send them.
func FuzzAPI(f *testing.F) {
	type seed struct {
		op                       int
		name, sub, query, header string
		body                     string
	}
	opIndex := func(op string) int {
		for i, o := range fuzzOps {
			if o == op {
				return i
			}
		}
		f.Fatalf("no op %q", op)
		return 0
	}
	add := func(op, name, sub, query, header, body string) {
		f.Add(uint8(opIndex(op)), name, sub, query, header, []byte(body))
	}
	zip := base64.StdEncoding.EncodeToString(codeZip(f))
	add("POST /2015-03-31/functions", "", "", "", "", `{"FunctionName":"g","Runtime":"python3.12","Role":"`+testRole+`","Handler":"index.handler","Code":{"ZipFile":"`+zip+`"},"MemorySize":256,"Timeout":30,"Environment":{"Variables":{"AB":"1"}},"Layers":["arn:aws:lambda:us-east-1:000000000000:layer:lib:1"],"EphemeralStorage":{"Size":1024},"LoggingConfig":{"LogFormat":"JSON"},"Publish":true}`)
	add("POST /2015-03-31/functions", "", "", "", "", `{"FunctionName":"arn:aws:lambda:us-east-1:000000000000:function:h","Runtime":"nodejs20.x","Role":"r","Handler":"h","Code":{"S3Bucket":"b","S3Key":"k"},"DeadLetterConfig":{"TargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq"}}`)
	add("GET /2015-03-31/functions/", "", "", "MaxItems=5&Marker=x&FunctionVersion=ALL", "", "")
	add("GET /2015-03-31/functions/{name}", "fn", "", "Qualifier=live", "", "")
	add("GET /2015-03-31/functions/{name}", "arn:aws:lambda:us-east-1:000000000000:function:fn:1", "", "", "", "")
	add("DELETE /2015-03-31/functions/{name}", "nope", "", "Qualifier=1", "", "")
	add("GET /2015-03-31/functions/{name}/configuration", "fn:$LATEST", "", "", "", "")
	add("PUT /2015-03-31/functions/{name}/configuration", "fn", "", "", "", `{"MemorySize":512,"Timeout":900,"Environment":{"Variables":{"K":"v"}},"Layers":[],"Description":"d","RevisionId":"x"}`)
	add("PUT /2015-03-31/functions/{name}/code", "fn", "", "", "", `{"ZipFile":"`+zip+`","Publish":true,"Architectures":["arm64"]}`)
	add("POST /2015-03-31/functions/{name}/versions", "fn", "", "", "", `{"Description":"v","CodeSha256":"abc","RevisionId":"r"}`)
	add("GET /2015-03-31/functions/{name}/versions", "fn", "", "MaxItems=1", "", "")
	add("POST /2015-03-31/functions/{name}/aliases", "fn", "", "", "", `{"Name":"canary","FunctionVersion":"2","RoutingConfig":{"AdditionalVersionWeights":{"1":0.5}}}`)
	add("GET /2015-03-31/functions/{name}/aliases", "fn", "", "FunctionVersion=1", "", "")
	add("GET /2015-03-31/functions/{name}/aliases/{sub}", "fn", "live", "", "", "")
	add("PUT /2015-03-31/functions/{name}/aliases/{sub}", "fn", "live", "", "", `{"FunctionVersion":"$LATEST","RoutingConfig":{"AdditionalVersionWeights":{"1":1.5}}}`)
	add("DELETE /2015-03-31/functions/{name}/aliases/{sub}", "fn", "gone", "", "", "")
	add("PUT /2017-10-31/functions/{name}/concurrency", "fn", "", "", "", `{"ReservedConcurrentExecutions":5}`)
	add("PUT /2017-10-31/functions/{name}/concurrency", "fn", "", "", "", `{"ReservedConcurrentExecutions":-1}`)
	add("DELETE /2017-10-31/functions/{name}/concurrency", "fn", "", "", "", "")
	add("GET /2019-09-30/functions/{name}/concurrency", "fn", "", "", "", "")
	add("POST /2015-03-31/functions/{name}/invocations", "fn", "", "Qualifier=live", "X-Amz-Invocation-Type: RequestResponse\nX-Amz-Log-Type: Tail\nX-Amz-Client-Context: eyJjdXN0b20iOnsiYSI6MX19", `{"a":1}`)
	add("POST /2015-03-31/functions/{name}/invocations", "fn:1", "", "", "X-Amz-Invocation-Type: DryRun\nContent-Type: application/json", `{}`)
	add("POST /2015-03-31/functions/{name}/invocations", "fn", "", "", "X-Amz-Invocation-Type: Event", `{}`)
	add("POST /2021-11-15/functions/{name}/response-streaming-invocations", "fn", "", "", "X-Amz-Log-Type: Tail", `"x"`)
	add("POST /2014-11-13/functions/{name}/invoke-async/", "fn", "", "", "", `{}`)
	add("PUT /2019-09-25/functions/{name}/event-invoke-config", "fn", "", "Qualifier=live", "", `{"MaximumRetryAttempts":1,"MaximumEventAgeInSeconds":60,"DestinationConfig":{"OnFailure":{"Destination":"arn:aws:sqs:us-east-1:000000000000:jobs"}}}`)
	add("POST /2019-09-25/functions/{name}/event-invoke-config", "fn", "", "", "", `{"MaximumRetryAttempts":2}`)
	add("GET /2019-09-25/functions/{name}/event-invoke-config", "fn", "", "Qualifier=live", "", "")
	add("DELETE /2019-09-25/functions/{name}/event-invoke-config", "fn", "", "", "", "")
	add("GET /2019-09-25/functions/{name}/event-invoke-config/list", "fn", "", "MaxItems=1", "", "")
	add("GET /2018-10-31/layers", "", "", "CompatibleRuntime=python3.12&MaxItems=2", "", "")
	add("GET /2018-10-31/layers", "", "", "find=LayerVersion&Arn=arn:aws:lambda:us-east-1:000000000000:layer:lib:1", "", "")
	add("POST /2018-10-31/layers/{name}/versions", "lib", "", "", "", `{"Content":{"ZipFile":"`+zip+`"},"CompatibleRuntimes":["python3.12"],"Description":"d","LicenseInfo":"MIT"}`)
	add("GET /2018-10-31/layers/{name}/versions", "lib", "", "", "", "")
	add("GET /2018-10-31/layers/{name}/versions/{sub}", "lib", "1", "", "", "")
	add("DELETE /2018-10-31/layers/{name}/versions/{sub}", "lib", "9", "", "", "")
	add("POST /2015-03-31/event-source-mappings/", "", "", "", "", `{"FunctionName":"fn","EventSourceArn":"arn:aws:sqs:us-east-1:000000000000:jobs","BatchSize":5,"MaximumBatchingWindowInSeconds":1,"FunctionResponseTypes":["ReportBatchItemFailures"]}`)
	add("POST /2015-03-31/event-source-mappings/", "", "", "", "", `{"FunctionName":"fn","EventSourceArn":"arn:aws:kinesis:us-east-1:000000000000:stream/s","StartingPosition":"AT_TIMESTAMP","StartingPositionTimestamp":1700000000,"BisectBatchOnFunctionError":true,"MaximumRetryAttempts":3}`)
	add("GET /2015-03-31/event-source-mappings/", "", "", "FunctionName=fn&EventSourceArn=arn:aws:sqs:us-east-1:000000000000:jobs&MaxItems=5", "", "")
	add("GET /2015-03-31/event-source-mappings/{name}", "6f0e2d1c-0000-4000-8000-000000000000", "", "", "", "")
	add("PUT /2015-03-31/event-source-mappings/{name}", "6f0e2d1c-0000-4000-8000-000000000000", "", "", "", `{"Enabled":false,"BatchSize":10}`)
	add("DELETE /2015-03-31/event-source-mappings/{name}", "6f0e2d1c-0000-4000-8000-000000000000", "", "", "", "")
	add("POST /2015-03-31/functions/{name}/policy", "fn", "", "Qualifier=live", "", `{"StatementId":"s1","Action":"lambda:InvokeFunction","Principal":"s3.amazonaws.com","SourceArn":"arn:aws:s3:::b","SourceAccount":"000000000000"}`)
	add("POST /2015-03-31/functions/{name}/policy", "fn", "", "", "", `{"StatementId":"s2","Action":"lambda:*","Principal":"123456789012","FunctionUrlAuthType":"NONE","RevisionId":"x"}`)
	add("GET /2015-03-31/functions/{name}/policy", "fn", "", "Qualifier=1", "", "")
	add("DELETE /2015-03-31/functions/{name}/policy/{sub}", "fn", "s1", "RevisionId=x", "", "")
	add("GET /updraft/v1/queues", "", "", "", "", "")
	add("POST /updraft/v1/queues/{name}/messages", "jobs", "", "", "", `{"MessageBody":"hi","MessageAttributes":{"a":{"DataType":"String","StringValue":"x"}},"MessageGroupId":"g","MessageDeduplicationId":"d","DelaySeconds":0}`)
	add("POST /updraft/v1/queues/{name}/messages", "q.fifo", "", "", "", `{"MessageBody":"hi","MessageGroupId":"g"}`)
	add("POST /updraft/v1/queues/{name}/receive", "jobs", "", "", "", `{"MaxNumberOfMessages":10,"WaitTimeSeconds":0}`)
	add("POST /", "", "", "", "X-Amz-Target: Kinesis_20131202.PutRecord\nContent-Type: application/x-amz-json-1.1", `{"StreamName":"s","PartitionKey":"k","Data":"aGVsbG8=","ExplicitHashKey":"1"}`)
	add("POST /", "", "", "", "X-Amz-Target: Kinesis_20131202.PutRecords", `{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","Records":[{"PartitionKey":"k","Data":""}]}`)
	add("POST /", "", "", "", "X-Amz-Target: Kinesis_20131202.GetShardIterator", `{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":"1"}`)
	add("POST /", "", "", "", "X-Amz-Target: Kinesis_20131202.GetRecords", `{"ShardIterator":"AAAA","Limit":10}`)
	add("POST /", "", "", "", "X-Amz-Target: Kinesis_20131202.DescribeStreamSummary", `{"StreamName":"s"}`)
	add("POST /", "", "", "", "X-Amz-Target: Kinesis_20131202.ListShards", `{"StreamName":"s","MaxResults":1}`)
	add("POST /", "", "", "", "X-Amz-Target: Kinesis_20131202.ListStreams", `{"Limit":1,"ExclusiveStartStreamName":"a"}`)
	add("POST /", "", "", "", "X-Amz-Target: Kinesis_20131202.DeleteStream", `{"StreamName":"gone","EnforceConsumerDeletion":true}`)
	add("POST /updraft/v1/http/{name}/{sub}", "fn", "a/b", "x=1&x=2&y", "Content-Type: text/plain\nCookie: a=b", "body")
	add("GET /updraft/v1/http/{name}", "fn:live", "", "", "Accept: */*", "")
	af := newAPIFuzzer(f)
	f.Fuzz(func(t *testing.T, op uint8, name, sub, query, header string, body []byte) {
		o := fuzzOps[int(op)%len(fuzzOps)]
		rec := af.do(o, name, sub, query, header, body)
		if rec == nil {
			t.Skip("not a request-target")
		}
		errs := af.errors.take()
		if len(errs) > 0 {
			t.Fatalf("%s name %q sub %q query %q header %q body %q: server logged %q", o, name, sub, query, header, body, errs)
		}
		proxy := strings.Contains(o, "/updraft/v1/http/")
		switch {
		case proxy && rec.Code == http.StatusBadGateway:
			// API Gateway's answer to a malformed function result.
		case rec.Code >= 500:
			t.Fatalf("%s name %q sub %q query %q header %q body %q: %d %s", o, name, sub, query, header, body, rec.Code, rec.Body)
		case rec.Code >= 400 && !proxy:
			if rec.Header().Get("X-Amzn-ErrorType") == "" && !strings.Contains(rec.Body.String(), "__type") {
				t.Fatalf("%s: %d without an error type: %s", o, rec.Code, rec.Body)
			}
		}
		if ct := rec.Header().Get("Content-Type"); strings.Contains(ct, "json") && rec.Body.Len() > 0 && !json.Valid(rec.Body.Bytes()) && !strings.Contains(o, "invocations") {
			t.Fatalf("%s: %s body is not JSON: %q", o, ct, rec.Body)
		}
	})
}
