package runtimeapi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
)

// rawRuntime speaks HTTP/1.1 by hand on one connection, so a test controls
// every byte and every pause, as a runtime in another process could.
type rawRuntime struct {
	t  testing.TB
	s  *Server
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t testing.TB, s *Server) *rawRuntime {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return &rawRuntime{t: t, s: s, nc: nc, br: bufio.NewReader(nc)}
}

func (r *rawRuntime) send(raw string) {
	r.t.Helper()
	if _, err := io.WriteString(r.nc, raw); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

const rawNext = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: rt\r\nUser-Agent: raw\r\n\r\n"

// park sends GET /next and waits until the server holds this connection
// parked on the fast path.
func (r *rawRuntime) park() {
	r.t.Helper()
	before := parkedWaiter(r.s)
	r.send(rawNext)
	testutil.WaitFor(r.t, 5*time.Second, func() error {
		if w, ok := parkedWaiter(r.s).(*rconn); !ok || w == before {
			return errors.New("the connection is not parked on the fast path")
		}
		return nil
	})
}

// parkAny is park for a connection net/http may have taken over.
func (r *rawRuntime) parkAny() {
	r.t.Helper()
	before := parkedWaiter(r.s)
	r.send(rawNext)
	waitParkedWaiter(r.t.(*testing.T), r.s, before)
}

// rawResponse is one response as it came off the wire.
type rawResponse struct {
	head string // status line and headers, with the blank line
	body []byte
}

func (r rawResponse) status() int {
	code, _ := strconv.Atoi(strings.Fields(r.head)[1])
	return code
}

func (r rawResponse) header(name string) string {
	for _, line := range strings.Split(r.head, "\r\n") {
		if k, v, ok := strings.Cut(line, ": "); ok && strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// masked is the response with the Date value blanked, for comparisons.
func (r rawResponse) masked() string {
	return regexp.MustCompile(`(?m)^Date: [^\r]*\r$`).ReplaceAllString(r.head, "Date: *\r") + string(r.body)
}

// response reads one response with a Content-Length body.
func (r *rawRuntime) response() rawResponse {
	r.t.Helper()
	_ = r.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer r.nc.SetReadDeadline(time.Time{})
	var head strings.Builder
	for {
		line, err := r.br.ReadString('\n')
		if err != nil {
			r.t.Fatalf("read response head after %q: %v", head.String(), err)
		}
		head.WriteString(line)
		if line == "\r\n" {
			break
		}
	}
	resp := rawResponse{head: head.String()}
	n, err := strconv.Atoi(resp.header("Content-Length"))
	if err != nil {
		r.t.Fatalf("response without Content-Length: %q", resp.head)
	}
	resp.body = make([]byte, n)
	if _, err := io.ReadFull(r.br, resp.body); err != nil {
		r.t.Fatalf("read response body: %v", err)
	}
	return resp
}

// closed reports whether the server closed the connection (EOF or reset
// within a second).
func (r *rawRuntime) closed() bool {
	_ = r.nc.SetReadDeadline(time.Now().Add(time.Second))
	defer r.nc.SetReadDeadline(time.Time{})
	_, err := r.br.ReadByte()
	return err != nil && !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// answer builds a POST /response the way aws-lambda-go sends it: chunked,
// with the error trailers declared and left empty.
func answer(id, body string) string {
	return "POST /2018-06-01/runtime/invocation/" + id + "/response HTTP/1.1\r\nHost: rt\r\n" +
		"Content-Type: application/json\r\nTrailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n" +
		"Transfer-Encoding: chunked\r\n\r\n" +
		fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
}

// answerCL builds a POST with a Content-Length body.
func answerCL(path, extraHeaders, body string) string {
	return "POST /2018-06-01/runtime/" + path + " HTTP/1.1\r\nHost: rt\r\n" + extraHeaders +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

func TestFastPathWarmInvoke(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := dialRaw(t, s)
	rt.park()
	if err := s.WaitInit(t.Context()); err != nil {
		t.Fatal(err)
	}
	inv := &Invocation{
		RequestID:          "req-1",
		Payload:            []byte(`{"k":"v"}`),
		Deadline:           time.UnixMilli(1_900_000_000_123),
		InvokedFunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:f",
		TraceID:            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
		ClientContext:      `{"custom":{"a":"b"}}`,
	}
	for i := range 3 {
		res := invokeAsync(t.Context(), s, inv)
		ev := rt.response()
		want := "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nContent-Type: application/json\r\n" +
			"Lambda-Runtime-Aws-Request-Id: req-1\r\nLambda-Runtime-Client-Context: {\"custom\":{\"a\":\"b\"}}\r\n" +
			"Lambda-Runtime-Deadline-Ms: 1900000000123\r\n" +
			"Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:function:f\r\n" +
			"Lambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1\r\n\r\n" +
			`{"k":"v"}`
		if got := ev.head + string(ev.body); got != want {
			t.Fatalf("invoke %d: event\n%q\nwant\n%q", i, got, want)
		}
		rt.send(answer("req-1", fmt.Sprintf(`{"n":%d}`, i)))
		r := receive(t, res)
		if r.err != nil || string(r.resp.Payload) != fmt.Sprintf(`{"n":%d}`, i) || r.resp.ContentType != "application/json" {
			t.Fatalf("invoke %d: Invoke = %+v, %v", i, r.resp, r.err)
		}
		ack := rt.response()
		if want := "HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\nContent-Type: application/json\r\nDate: *\r\n\r\n" + acceptedBody; ack.masked() != want {
			t.Fatalf("invoke %d: ack %q, want %q", i, ack.masked(), want)
		}
		select {
		case <-s.Parked():
			t.Fatal("parked before the runtime came back to /next")
		default:
		}
		rt.park()
		receive(t, s.Parked())
	}
}

// fallbackNext is GET /next with a query string: net/http serves it
// (routing on the path, so the same handler runs) and keeps the connection.
const fallbackNext = "GET /2018-06-01/runtime/invocation/next?fallback HTTP/1.1\r\nHost: rt\r\n\r\n"

// TestFastPathRepliesMatchNetHTTP runs each exchange once on the fast path
// and once on a connection net/http serves, and requires the same bytes
// (Date values aside).
func TestFastPathRepliesMatchNetHTTP(t *testing.T) {
	inv := &Invocation{
		RequestID: "cmp",
		Payload:   []byte(`{"cmp":true}`),
		Deadline:  time.UnixMilli(1_900_000_000_000),
		// Values net/http cleans: CR/LF inside, whitespace around.
		ClientContext:   " {\"a\":\r\n\"b\"}\t",
		CognitoIdentity: "{\"cognitoIdentityId\":\"i\"}\n",
		TraceID:         "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
	}
	chunked := func(body string) string {
		return "POST /2018-06-01/runtime/invocation/cmp/response HTTP/1.1\r\nHost: rt\r\nTransfer-Encoding: chunked\r\n\r\n" + body
	}
	tests := []struct {
		name   string
		cfg    Config
		answer string // sent after the event; "" sends none
		closes bool   // the server closes the connection after the reply
	}{
		{name: "an accepted answer", answer: answer("cmp", `{"ok":1}`)},
		{name: "an accepted error", answer: answerCL("invocation/cmp/error", "Lambda-Runtime-Function-Error-Type: Runtime.X\r\n", `{"errorType":"E"}`)},
		{name: "a chunked answer a little over the limit", cfg: Config{MaxResponseBytes: 8}, answer: answer("cmp", strings.Repeat("x", 100))},
		{name: "a chunked answer far over the limit", cfg: Config{MaxResponseBytes: 8}, answer: chunked("40000\r\n" + strings.Repeat("y", 0x40000) + "\r\n40000\r\n" + strings.Repeat("y", 0x40000) + "\r\n0\r\n\r\n"), closes: true},
		{name: "a broken chunked answer", answer: chunked("zz\r\n"), closes: true},
		{name: "a repeated /next", answer: rawNext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got [2][]string
			for i, fast := range []bool{true, false} {
				s := newTestServer(t, tc.cfg)
				rt := dialRaw(t, s)
				if fast {
					rt.park()
				} else {
					rt.send(fallbackNext)
					testutil.WaitFor(t, 5*time.Second, func() error {
						if _, ok := parkedWaiter(s).(chan *call); !ok {
							return errors.New("not parked in net/http")
						}
						return nil
					})
				}
				res := invokeAsync(t.Context(), s, inv)
				got[i] = append(got[i], rt.response().masked())
				rt.send(tc.answer)
				if tc.answer == rawNext {
					got[i] = append(got[i], rt.response().masked())
					rt.send(answer("cmp", "{}"))
				}
				got[i] = append(got[i], rt.response().masked())
				if r := receive(t, res); r.err != nil {
					t.Fatalf("Invoke: %v", r.err)
				}
				if c := rt.closed(); c != tc.closes {
					t.Errorf("fast path %v: connection closed = %v, want %v", fast, c, tc.closes)
				}
			}
			if strings.Join(got[0], "|") != strings.Join(got[1], "|") {
				t.Errorf("fast path wrote\n%q\nnet/http wrote\n%q", got[0], got[1])
			}
		})
	}
}

func TestFastPathStateRepliesMatchNetHTTP(t *testing.T) {
	t.Run("a newer /next supersedes a parked one", func(t *testing.T) {
		var got []string
		for _, first := range []string{rawNext, fallbackNext} {
			s := newTestServer(t, Config{})
			older := dialRaw(t, s)
			older.send(first)
			waitParkedWaiter(t, s, nil)
			dialRaw(t, s).park()
			got = append(got, older.response().masked())
		}
		if got[0] != got[1] {
			t.Errorf("fast path wrote %q, net/http wrote %q", got[0], got[1])
		}
	})
	t.Run("/next after an init error", func(t *testing.T) {
		var got []string
		for _, next := range []string{rawNext, fallbackNext} {
			s := newTestServer(t, Config{})
			rt := dialRaw(t, s)
			rt.send(answerCL("init/error", "", `{"errorMessage":"x"}`))
			if ack := rt.response(); ack.status() != http.StatusAccepted {
				t.Fatalf("init/error = %q", ack.head)
			}
			rt = dialRaw(t, s)
			rt.send(next)
			got = append(got, rt.response().masked())
		}
		if got[0] != got[1] || !strings.HasPrefix(got[0], "HTTP/1.1 403 Forbidden\r\n") {
			t.Errorf("fast path wrote %q, net/http wrote %q", got[0], got[1])
		}
	})
}

// TestFastPathFallbacks sends answers the fast path leaves to net/http on
// the connection Invoke is reading: the invocation still completes the way
// net/http's handler completes it, and the runtime gets net/http's reply.
func TestFastPathFallbacks(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		send       func(rt *rawRuntime)
		wantStatus int
		wantResp   string // Invoke's payload
		wantType   string // Invoke's ErrorType
		thenRetry  bool   // the runtime then answers correctly on the same connection
	}{
		{
			name: "HTTP/1.0",
			send: func(rt *rawRuntime) {
				rt.send(strings.Replace(answerCL("invocation/f/response", "", "10"), "HTTP/1.1", "HTTP/1.0", 1))
			},
			wantStatus: 202, wantResp: "10",
		},
		{
			name: "Expect: 100-continue",
			send: func(rt *rawRuntime) {
				rt.send("POST /2018-06-01/runtime/invocation/f/response HTTP/1.1\r\nHost: rt\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
				line, err := rt.br.ReadString('\n')
				if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
					rt.t.Fatalf("interim response %q, %v", line, err)
				}
				if blank, _ := rt.br.ReadString('\n'); blank != "\r\n" {
					rt.t.Fatalf("interim response not ended: %q", blank)
				}
				rt.send("cont")
			},
			wantStatus: 202, wantResp: "cont",
		},
		{
			name:       "Connection: close",
			send:       func(rt *rawRuntime) { rt.send(answerCL("invocation/f/response", "Connection: close\r\n", "cc")) },
			wantStatus: 202, wantResp: "cc",
		},
		{
			name:       "a declared length over the limit",
			cfg:        Config{MaxResponseBytes: 4},
			send:       func(rt *rawRuntime) { rt.send(answerCL("invocation/f/response", "", "12345")) },
			wantStatus: 413, wantType: "Function.ResponseSizeTooLarge",
		},
		{
			name: "an unknown response mode",
			send: func(rt *rawRuntime) {
				rt.send(answerCL("invocation/f/response", "Lambda-Runtime-Function-Response-Mode: buffered\r\n", "{}"))
			},
			wantStatus: 400, wantType: "Runtime.InvalidResponseModeHeader",
		},
		{
			name:       "an answer for another id",
			send:       func(rt *rawRuntime) { rt.send(answerCL("invocation/other/response", "", "{}")) },
			wantStatus: 400, thenRetry: true,
		},
		{
			name:       "an escaped path",
			send:       func(rt *rawRuntime) { rt.send(answerCL("invocation/%66/response", "", "esc")) },
			wantStatus: 202, wantResp: "esc",
		},
		{
			name:       "an unknown route",
			send:       func(rt *rawRuntime) { rt.send("GET /2018-06-01/runtime/restore/next HTTP/1.1\r\nHost: rt\r\n\r\n") },
			wantStatus: 404, thenRetry: true,
		},
		{
			name: "a head net/http refuses",
			send: func(rt *rawRuntime) {
				rt.send("POST /2018-06-01/runtime/invocation/f/response HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")
			},
			wantStatus: 400, thenRetry: true, // missing Host; the connection is closed after
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, tc.cfg)
			rt := dialRaw(t, s)
			rt.park()
			res := invokeAsync(t.Context(), s, &Invocation{RequestID: "f", Payload: []byte(`{}`)})
			if ev := rt.response(); ev.header("Lambda-Runtime-Aws-Request-Id") != "f" {
				t.Fatalf("event %q", ev.head)
			}
			tc.send(rt)
			reply := readAnyResponse(t, rt)
			if reply.StatusCode != tc.wantStatus {
				t.Fatalf("reply %d, want %d", reply.StatusCode, tc.wantStatus)
			}
			if tc.thenRetry {
				if reply.Close {
					rt = dialRaw(t, s)
					rt.send(rawNext) // the event is re-delivered
					if ev := rt.response(); ev.header("Lambda-Runtime-Aws-Request-Id") != "f" {
						t.Fatalf("re-delivery %q", ev.head)
					}
				}
				rt.send(answer("f", "retried"))
				if ack := readAnyResponse(t, rt); ack.StatusCode != http.StatusAccepted {
					t.Fatalf("retry reply %d", ack.StatusCode)
				}
				tc.wantResp = "retried"
			}
			r := receive(t, res)
			if r.err != nil {
				t.Fatalf("Invoke: %v", r.err)
			}
			if tc.wantType != "" {
				if !r.resp.FunctionError || r.resp.ErrorType != tc.wantType {
					t.Fatalf("Invoke = %+v, want function error %s", r.resp, tc.wantType)
				}
			} else if r.resp.FunctionError || string(r.resp.Payload) != tc.wantResp {
				t.Fatalf("Invoke = %+v (payload %q), want %q", r.resp, r.resp.Payload, tc.wantResp)
			}
		})
	}
}

// readAnyResponse reads one response of any framing with net/http's parser.
func readAnyResponse(t *testing.T, rt *rawRuntime) *http.Response {
	t.Helper()
	_ = rt.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer rt.nc.SetReadDeadline(time.Time{})
	resp, err := http.ReadResponse(rt.br, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatalf("read response body: %v", err)
	}
	resp.Body.Close()
	return resp
}

func TestFastPathHeadTooLargeIsNetHTTPs(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := dialRaw(t, s)
	go func() {
		// The server stops reading at its limit; ignore the write error.
		_, _ = io.WriteString(rt.nc, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: rt\r\nX-Big: "+
			strings.Repeat("b", http.DefaultMaxHeaderBytes+8192)+"\r\n\r\n")
	}()
	if reply := readAnyResponse(t, rt); reply.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("reply %d, want 431", reply.StatusCode)
	}
}

func TestFastPathContextEndsBeforeTheAnswer(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := dialRaw(t, s)
	rt.park()
	timedOut := errors.New("Task timed out after 0.10 seconds")
	ctx, cancel := context.WithTimeoutCause(t.Context(), 100*time.Millisecond, timedOut)
	defer cancel()
	start := time.Now()
	res := invokeAsync(ctx, s, &Invocation{RequestID: "slow", Payload: []byte(`{}`)})
	rt.response()
	r := receive(t, res)
	if !errors.Is(r.err, timedOut) {
		t.Fatalf("Invoke = %+v, %v; want the context's cause", r.resp, r.err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Invoke took %v to notice its context", d)
	}
	// Nothing was read: the connection is intact, and the late answer gets
	// the 403 it gets today.
	rt.send(answer("slow", "late"))
	if ack := rt.response(); ack.status() != http.StatusForbidden ||
		!strings.Contains(string(ack.body), "RuntimeResponseSentState to InvocationResponse") {
		t.Fatalf("late answer = %q %s", ack.head, ack.body)
	}
	rt.parkAny() // refusals are net/http's, and it keeps the connection
	resp, err := invokeAfterPark(t, s, rt, "after", "fine")
	if err != nil || string(resp.Payload) != "fine" {
		t.Fatalf("next Invoke = %+v, %v", resp, err)
	}
}

// invokeAfterPark runs one more invocation through rt, which is parked.
func invokeAfterPark(t *testing.T, s *Server, rt *rawRuntime, id, result string) (*Response, error) {
	t.Helper()
	res := invokeAsync(t.Context(), s, &Invocation{RequestID: id, Payload: []byte(`{}`)})
	if ev := rt.response(); ev.header("Lambda-Runtime-Aws-Request-Id") != id {
		t.Fatalf("event %q", ev.head)
	}
	rt.send(answer(id, result))
	rt.response()
	r := receive(t, res)
	return r.resp, r.err
}

func TestFastPathContextEndsMidAnswer(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := dialRaw(t, s)
	rt.park()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	res := invokeAsync(ctx, s, &Invocation{RequestID: "mid", Payload: []byte(`{}`)})
	rt.response()
	rt.send("POST /2018-06-01/runtime/invocation/mid/response HTTP/1.1\r\nHost: rt\r\nContent-Length: 100\r\n\r\nonly ten..")
	r := receive(t, res)
	if !errors.Is(r.err, context.DeadlineExceeded) {
		t.Fatalf("Invoke = %+v, %v; want deadline exceeded", r.resp, r.err)
	}
	if !rt.closed() {
		t.Fatal("the connection mid-answer was kept")
	}
	// The runtime reconnects; nothing is outstanding.
	rt = dialRaw(t, s)
	rt.park()
	if resp, err := invokeAfterPark(t, s, rt, "next", "ok"); err != nil || string(resp.Payload) != "ok" {
		t.Fatalf("next Invoke = %+v, %v", resp, err)
	}
}

func TestFastPathRuntimeClosesMidAnswer(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := dialRaw(t, s)
	rt.park()
	res := invokeAsync(t.Context(), s, &Invocation{RequestID: "cut", Payload: []byte(`{}`)})
	rt.response()
	rt.send("POST /2018-06-01/runtime/invocation/cut/response HTTP/1.1\r\nHost: rt\r\nContent-Length: 100\r\n\r\nonly ten..")
	_ = rt.nc.Close()
	r := receive(t, res)
	if r.err != nil || !r.resp.FunctionError || r.resp.ErrorType != "Runtime.TruncatedResponse" {
		t.Fatalf("Invoke = %+v, %v; want Runtime.TruncatedResponse", r.resp, r.err)
	}
}

func TestFastPathRuntimeClosesAfterTheEvent(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := dialRaw(t, s)
	rt.park()
	res := invokeAsync(t.Context(), s, &Invocation{RequestID: "lost", Payload: []byte(`{}`)})
	rt.response()
	_ = rt.nc.Close() // the runtime crashed or reconnects
	// Delivered events are delivered again to the next /next.
	rt = dialRaw(t, s)
	rt.send(rawNext)
	if ev := rt.response(); ev.header("Lambda-Runtime-Aws-Request-Id") != "lost" {
		t.Fatalf("re-delivery %q", ev.head)
	}
	rt.send(answer("lost", "found"))
	rt.response()
	if r := receive(t, res); r.err != nil || string(r.resp.Payload) != "found" {
		t.Fatalf("Invoke = %+v, %v", r.resp, r.err)
	}
}

// TestFastPathFreshConnectionPerRequest is a runtime like a shell script
// with curl: every request on a new connection.
func TestFastPathFreshConnectionPerRequest(t *testing.T) {
	for _, keepOpen := range []bool{false, true} {
		t.Run(fmt.Sprintf("the /next connection stays open: %v", keepOpen), func(t *testing.T) {
			s := newTestServer(t, Config{})
			next := dialRaw(t, s)
			next.park()
			for i := range 3 {
				id := fmt.Sprintf("curl-%d", i)
				res := invokeAsync(t.Context(), s, &Invocation{RequestID: id, Payload: []byte(`{}`)})
				if ev := next.response(); ev.header("Lambda-Runtime-Aws-Request-Id") != id {
					t.Fatalf("event %q", ev.head)
				}
				if !keepOpen {
					_ = next.nc.Close()
				}
				post := dialRaw(t, s)
				post.send(answerCL("invocation/"+id+"/response", "", id))
				if ack := post.response(); ack.status() != http.StatusAccepted {
					t.Fatalf("ack %q", ack.head)
				}
				_ = post.nc.Close()
				if r := receive(t, res); r.err != nil || string(r.resp.Payload) != id {
					t.Fatalf("Invoke = %+v, %v", r.resp, r.err)
				}
				next = dialRaw(t, s)
				next.park()
			}
		})
	}
}

// TestFastPathSeveralConnections has the runtime ask /next again on a
// second connection while Invoke waits on the first.
func TestFastPathSeveralConnections(t *testing.T) {
	s := newTestServer(t, Config{})
	a := dialRaw(t, s)
	a.park()
	res := invokeAsync(t.Context(), s, &Invocation{RequestID: "two", Payload: []byte(`{}`)})
	a.response()
	b := dialRaw(t, s)
	b.send(rawNext)
	if ev := b.response(); ev.header("Lambda-Runtime-Aws-Request-Id") != "two" {
		t.Fatalf("re-delivery %q", ev.head)
	}
	b.send(answer("two", "via b"))
	if ack := b.response(); ack.status() != http.StatusAccepted {
		t.Fatalf("ack %q", ack.head)
	}
	if r := receive(t, res); r.err != nil || string(r.resp.Payload) != "via b" {
		t.Fatalf("Invoke = %+v, %v", r.resp, r.err)
	}
	// Invoke gave connection a back untouched: it still serves.
	a.send(answer("two", "again"))
	if ack := a.response(); ack.status() != http.StatusForbidden {
		t.Fatalf("second answer %q", ack.head)
	}
	a.parkAny()
	if resp, err := invokeAfterPark(t, s, a, "three", "on a"); err != nil || string(resp.Payload) != "on a" {
		t.Fatalf("Invoke = %+v, %v", resp, err)
	}
}

func TestFastPathCloseDuringTheRead(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := dialRaw(t, s)
	rt.park()
	res := invokeAsync(t.Context(), s, &Invocation{Payload: []byte(`{}`)})
	rt.response()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if r := receive(t, res); !errors.Is(r.err, ErrClosed) {
		t.Fatalf("Invoke = %+v, %v; want ErrClosed", r.resp, r.err)
	}
}

func TestFastPathCloseAnswersAParkedNext(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := dialRaw(t, s)
	rt.park()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	reply := rt.response()
	if reply.status() != http.StatusInternalServerError || string(reply.body) != internalErrorBody {
		t.Fatalf("reply %q %s", reply.head, reply.body)
	}
}

func TestFastPathLargePayloads(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := dialRaw(t, s)
	rt.park()
	event := bytes.Repeat([]byte("e"), 3*maxInlinePayload)
	res := invokeAsync(t.Context(), s, &Invocation{RequestID: "big", Payload: event})
	if ev := rt.response(); !bytes.Equal(ev.body, event) {
		t.Fatalf("event of %d bytes, want %d", len(ev.body), len(event))
	}
	result := strings.Repeat("r", 1<<20)
	rt.send(answer("big", result))
	rt.response()
	if r := receive(t, res); r.err != nil || string(r.resp.Payload) != result {
		t.Fatalf("Invoke: %d bytes, %v", len(r.resp.Payload), r.err)
	}
}

func TestFastPathPipelinedNext(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := dialRaw(t, s)
	rt.park()
	res := invokeAsync(t.Context(), s, &Invocation{RequestID: "pipe", Payload: []byte(`{}`)})
	rt.response()
	parked := s.Parked()
	rt.send(answer("pipe", "p") + rawNext) // no wait for the 202
	if r := receive(t, res); r.err != nil || string(r.resp.Payload) != "p" {
		t.Fatalf("Invoke = %+v, %v", r.resp, r.err)
	}
	if ack := rt.response(); ack.status() != http.StatusAccepted {
		t.Fatalf("ack %q", ack.head)
	}
	receive(t, parked)
}

func TestFastPathStrayCRLFAfterPOST(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := dialRaw(t, s)
	rt.park()
	res := invokeAsync(t.Context(), s, &Invocation{RequestID: "crlf", Payload: []byte(`{}`)})
	rt.response()
	rt.send(answerCL("invocation/crlf/response", "", "c") + "\r\n") // RFC 7230 §3.5 tolerates it
	rt.response()
	receive(t, res)
	rt.park()
}

func TestFastPathContextEndsMidHead(t *testing.T) {
	s := newTestServer(t, Config{})
	rt := dialRaw(t, s)
	rt.park()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	res := invokeAsync(ctx, s, &Invocation{RequestID: "head", Payload: []byte(`{}`)})
	rt.response()
	rt.send("POST /2018-06-01/runtime/invocation/head/response HTTP/1.1\r\nHost: rt\r\n")
	if r := receive(t, res); !errors.Is(r.err, context.DeadlineExceeded) {
		t.Fatalf("Invoke = %+v, %v; want deadline exceeded", r.resp, r.err)
	}
	// The head read so far was recorded: net/http takes the connection over
	// and reads the rest of the request as if nothing happened.
	rt.send("Content-Length: 2\r\n\r\n{}")
	if ack := rt.response(); ack.status() != http.StatusForbidden {
		t.Fatalf("late answer %q %s", ack.head, ack.body)
	}
}

// FuzzFastPathAnswer sends arbitrary bytes as the runtime's answer on the
// connection Invoke reads. Invoke must return (with the answer, a function
// error, or its context's end), the server must keep its invariants and
// close cleanly.
func FuzzFastPathAnswer(f *testing.F) {
	seeds := []string{
		answer("fz", `{"ok":true}`),
		answerCL("invocation/fz/response", "", "{}"),
		answerCL("invocation/fz/error", "Lambda-Runtime-Function-Error-Type: Runtime.X\r\n", "boom"),
		answerCL("invocation/fz/response", "", strings.Repeat("x", 65)),
		answer("fz", strings.Repeat("y", 65)),
		"POST /2018-06-01/runtime/invocation/fz/response HTTP/1.1\r\nHost: rt\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"POST /2018-06-01/runtime/invocation/fz/response HTTP/1.1\r\nHost: rt\r\nContent-Length: 9\r\n\r\nabc",
		rawNext,
		"POST /2018-06-01/runtime/invocation/fz/response HTTP/1.0\r\nContent-Length: 1\r\n\r\n1",
		"POST /2018-06-01/runtime/invocation/fz/response HTTP/1.1\r\nHost: rt\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n1",
		"\r\n\r\nGARBAGE\r\n\r\n",
		answer("fz", "a") + rawNext + answer("fz", "b"),
	}
	for _, sd := range seeds {
		f.Add([]byte(sd))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := New(Config{MaxResponseBytes: 64}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		rt := dialRaw(t, s)
		rt.park()
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		res := invokeAsync(ctx, s, &Invocation{RequestID: "fz", Payload: []byte(`{}`)})
		if ev := rt.response(); ev.status() != http.StatusOK {
			t.Fatalf("event %q", ev.head)
		}
		_, _ = rt.nc.Write(data)
		_ = rt.nc.(*net.TCPConn).CloseWrite()
		go func() { _, _ = io.Copy(io.Discard, rt.nc) }()
		r := receive(t, res)
		switch {
		case r.err == nil:
			if r.resp == nil || (r.resp.FunctionError && r.resp.ErrorType == "") {
				t.Fatalf("Invoke = %+v", r.resp)
			}
		case !errors.Is(r.err, context.DeadlineExceeded):
			t.Fatalf("Invoke error %v", r.err)
		}
		s.mu.Lock()
		if cur := s.current; cur != nil && cur.state != callQueued && cur.state != callDelivered {
			t.Errorf("current invocation left in state %d", cur.state)
		}
		s.mu.Unlock()
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
}
