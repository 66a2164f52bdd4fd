package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

// streamEvent is internal/testutil/streamfn's event.
type streamEvent struct {
	First    int  `json:"first,omitempty"`
	PauseMs  int  `json:"pauseMs,omitempty"`
	Size     int  `json:"size,omitempty"`
	Chunk    int  `json:"chunk,omitempty"`
	Error    bool `json:"error,omitempty"`
	Exit     bool `json:"exit,omitempty"`
	Buffered bool `json:"buffered,omitempty"`
}

// streamPattern is the n bytes streamfn writes: byte i is 'a'+i%26.
func streamPattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// streamed is what InvokeWithResponseStream delivered, with arrival times.
type streamed struct {
	out        *lambda.InvokeWithResponseStreamOutput
	chunks     [][]byte
	arrived    []time.Time // of each chunk
	complete   *types.InvokeWithResponseStreamCompleteEvent
	completeAt time.Time
	completes  int
}

func (s *streamed) body() []byte { return bytes.Join(s.chunks, nil) }

// invokeStream calls InvokeWithResponseStream and reads the whole stream.
func invokeStream(t *testing.T, c *lambda.Client, name string, ev streamEvent, logType types.LogType) *streamed {
	t.Helper()
	payload, _ := json.Marshal(ev)
	out, err := c.InvokeWithResponseStream(ctx(t), &lambda.InvokeWithResponseStreamInput{
		FunctionName: aws.String(name),
		Payload:      payload,
		LogType:      logType,
	})
	if err != nil {
		t.Fatalf("InvokeWithResponseStream %s: %v", name, err)
	}
	res := &streamed{out: out}
	stream := out.GetStream()
	defer stream.Close()
	for e := range stream.Events() {
		switch v := e.(type) {
		case *types.InvokeWithResponseStreamResponseEventMemberPayloadChunk:
			res.chunks = append(res.chunks, v.Value.Payload)
			res.arrived = append(res.arrived, time.Now())
		case *types.InvokeWithResponseStreamResponseEventMemberInvokeComplete:
			res.complete = &v.Value
			res.completeAt = time.Now()
			res.completes++
		default:
			t.Errorf("unexpected event %T", e)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v (after %d chunks, %d completes, %d bytes)", err, len(res.chunks), res.completes, len(res.body()))
	}
	if res.completes != 1 {
		t.Fatalf("got %d InvokeComplete events, want exactly 1", res.completes)
	}
	return res
}

// ownedBodyTransport sends each request with a body of its own. The SDK
// closes the request body it built as soon as the response headers arrive
// (smithy-go transport/http/client.go), and its closed body's WriteTo then
// returns io.EOF as an error; when a server answers while net/http's
// writeLoop is still doing its final read of the body (the body itself went
// out by persistConnWriter.ReadFrom), the transport closes the connection
// under the event stream ("use of closed network connection"). Lambda's
// latency hides that race; updraft on loopback, answering a warm
// invocation in well under a millisecond, hits it about once in a few
// hundred streams. The SDK's event-stream reading, which is what this
// test checks, is untouched.
type ownedBodyTransport struct{ next http.RoundTripper }

func (t ownedBodyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.ContentLength = int64(len(b))
	}
	return t.next.RoundTrip(req)
}

// TestStreamingResponses drives InvokeWithResponseStream with
// aws-sdk-go-v2 (whose event-stream reader is what boto3 and the other
// SDKs implement; the AWS CLI v1 has no invoke-with-response-stream) against
// a function that streams through the Runtime API.
func TestStreamingResponses(t *testing.T) {
	srv := testutil.StartServer(t, testutil.Options{})
	c := lambda.New(srv.Lambda().Options(), func(o *lambda.Options) {
		o.HTTPClient = &http.Client{Transport: ownedBodyTransport{http.DefaultTransport}}
	})
	zip := testutil.FunctionZip(t, "./internal/testutil/streamfn", "")
	createTestFunction(t, c, "streamer", fnOpts{zip: zip, timeout: 30, memory: 256})
	createTestFunction(t, c, "streamer-short", fnOpts{zip: zip, timeout: 2})

	t.Run("a 10 MB stream arrives in chunks, the first long before the end", func(t *testing.T) {
		const total = 10 << 20
		const first = 64 << 10
		const pause = 1500 * time.Millisecond
		start := time.Now()
		res := invokeStream(t, c, "streamer", streamEvent{First: first, PauseMs: int(pause / time.Millisecond), Size: total - first}, "")
		if res.out.StatusCode != 200 || aws.ToString(res.out.ExecutedVersion) != "$LATEST" ||
			aws.ToString(res.out.ResponseStreamContentType) != "application/vnd.amazon.eventstream" {
			t.Errorf("status %d, version %q, content type %q", res.out.StatusCode,
				aws.ToString(res.out.ExecutedVersion), aws.ToString(res.out.ResponseStreamContentType))
		}
		if !bytes.Equal(res.body(), streamPattern(total)) {
			t.Fatalf("body: %d bytes, not the %d the function wrote", len(res.body()), total)
		}
		if len(res.chunks) < 10 {
			t.Errorf("%d chunks; want the stream in many", len(res.chunks))
		}
		t.Logf("%d chunks; first after %v, end after %v", len(res.chunks), res.arrived[0].Sub(start), res.completeAt.Sub(start))
		if lead := res.completeAt.Sub(res.arrived[0]); lead < pause*2/3 {
			t.Errorf("first chunk arrived %v before the end; want about %v (the function's pause)", lead, pause)
		}
		if cp := res.complete; aws.ToString(cp.ErrorCode) != "" || aws.ToString(cp.ErrorDetails) != "" || aws.ToString(cp.LogResult) != "" {
			t.Errorf("InvokeComplete = %+v, want empty", cp)
		}
	})

	t.Run("an error mid-stream ends it in InvokeComplete", func(t *testing.T) {
		res := invokeStream(t, c, "streamer", streamEvent{First: 10, Size: 1000, Error: true}, "")
		if !bytes.Equal(res.body(), streamPattern(1010)) {
			t.Errorf("body = %d bytes, want the 1010 written before the error", len(res.body()))
		}
		cp := res.complete
		if aws.ToString(cp.ErrorCode) != "Function.StreamError" || !strings.Contains(aws.ToString(cp.ErrorDetails), "streamfn failed mid-stream") {
			t.Errorf("InvokeComplete = %q %q", aws.ToString(cp.ErrorCode), aws.ToString(cp.ErrorDetails))
		}
	})

	t.Run("a timeout mid-stream ends it in InvokeComplete", func(t *testing.T) {
		res := invokeStream(t, c, "streamer-short", streamEvent{First: 10, PauseMs: 5000, Size: 10}, "")
		if !bytes.Equal(res.body(), streamPattern(10)) {
			t.Errorf("body = %q", res.body())
		}
		if cp := res.complete; aws.ToString(cp.ErrorCode) != "Sandbox.Timedout" || !strings.Contains(aws.ToString(cp.ErrorDetails), "Task timed out after 2.00 seconds") {
			t.Errorf("InvokeComplete = %q %q", aws.ToString(cp.ErrorCode), aws.ToString(cp.ErrorDetails))
		}
	})

	t.Run("a crash mid-stream ends it in InvokeComplete", func(t *testing.T) {
		res := invokeStream(t, c, "streamer", streamEvent{First: 10, PauseMs: 100, Exit: true}, "")
		if !bytes.Equal(res.body(), streamPattern(10)) {
			t.Errorf("body = %q", res.body())
		}
		if cp := res.complete; aws.ToString(cp.ErrorCode) != "Runtime.ExitError" || !strings.Contains(aws.ToString(cp.ErrorDetails), "Runtime exited with error: exit status 2") {
			t.Errorf("InvokeComplete = %+v, want an error", cp)
		}
	})

	t.Run("a function answering in one piece gives one chunk", func(t *testing.T) {
		res := invokeStream(t, c, "streamer", streamEvent{Size: 100 << 10, Buffered: true}, "")
		if len(res.chunks) != 1 || !bytes.Equal(res.chunks[0], streamPattern(100<<10)) {
			t.Errorf("%d chunks, %d bytes", len(res.chunks), len(res.body()))
		}
		if aws.ToString(res.complete.ErrorCode) != "" {
			t.Errorf("InvokeComplete = %+v", res.complete)
		}
	})

	t.Run("Tail puts the log tail in InvokeComplete", func(t *testing.T) {
		res := invokeStream(t, c, "streamer", streamEvent{First: 5}, types.LogTypeTail)
		logs, err := base64.StdEncoding.DecodeString(aws.ToString(res.complete.LogResult))
		if err != nil {
			t.Fatalf("LogResult: %v", err)
		}
		for _, want := range []string{"START RequestId:", "streamfn request=", "END RequestId:", "REPORT RequestId:"} {
			if !strings.Contains(string(logs), want) {
				t.Errorf("log tail lacks %q:\n%s", want, logs)
			}
		}
	})

	t.Run("DryRun is 204", func(t *testing.T) {
		out, err := c.InvokeWithResponseStream(ctx(t), &lambda.InvokeWithResponseStreamInput{
			FunctionName:   aws.String("streamer"),
			InvocationType: types.ResponseStreamingInvocationTypeDryRun,
		})
		if err != nil || out.StatusCode != 204 {
			t.Fatalf("DryRun: %v, status %+v", err, out)
		}
		if s := out.GetStream(); s != nil {
			s.Close()
		}
	})

	t.Run("Event is refused", func(t *testing.T) {
		_, err := c.InvokeWithResponseStream(ctx(t), &lambda.InvokeWithResponseStreamInput{
			FunctionName:   aws.String("streamer"),
			InvocationType: types.ResponseStreamingInvocationType("Event"),
		})
		if code := apiErrorCode(err); code != "InvalidParameterValueException" {
			t.Fatalf("Event: %v (%s)", err, code)
		}
	})

	t.Run("an unknown function is a plain 404", func(t *testing.T) {
		_, err := c.InvokeWithResponseStream(ctx(t), &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("nope")})
		if code := apiErrorCode(err); code != "ResourceNotFoundException" {
			t.Fatalf("unknown function: %v (%s)", err, code)
		}
	})

	t.Run("Invoke of a streaming function gets the whole body", func(t *testing.T) {
		payload, _ := json.Marshal(streamEvent{First: 10, PauseMs: 50, Size: 1 << 20, Chunk: 4096})
		out, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("streamer"), Payload: payload})
		if err != nil || out.FunctionError != nil || !bytes.Equal(out.Payload, streamPattern(10+1<<20)) {
			t.Fatalf("Invoke: %v, function error %v, %d bytes", err, aws.ToString(out.FunctionError), len(out.Payload))
		}
	})

	t.Run("Invoke of a stream over the sync limit fails as Lambda's does", func(t *testing.T) {
		payload, _ := json.Marshal(streamEvent{First: 10, Size: 7 << 20})
		out, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("streamer"), Payload: payload})
		if err != nil || aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "Function.ResponseSizeTooLarge") {
			t.Fatalf("Invoke: %v, function error %v, %.200s", err, aws.ToString(out.FunctionError), out.Payload)
		}
	})
}
