package runtimeapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// streamRecorder is an [Invocation.Stream] that records every Write and
// fails the test if one comes after Invoke returned.
type streamRecorder struct {
	t      testing.TB
	writes chan []byte // every Write's bytes, in order
	ended  atomic.Bool // Invoke returned
	fail   bool        // Writes fail, like a client that went away

	mu  sync.Mutex
	all bytes.Buffer
}

func newStreamRecorder(t testing.TB) *streamRecorder {
	return &streamRecorder{t: t, writes: make(chan []byte, 1024)}
}

func (r *streamRecorder) Write(p []byte) (int, error) {
	if r.ended.Load() {
		r.t.Errorf("Write of %d bytes after Invoke returned", len(p))
	}
	r.mu.Lock()
	r.all.Write(p)
	r.mu.Unlock()
	select {
	case r.writes <- bytes.Clone(p):
	default:
	}
	if r.fail {
		return 0, errors.New("client went away")
	}
	return len(p), nil
}

func (r *streamRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.all.String()
}

// invokeStreaming runs Invoke with rec as the stream in a goroutine and
// marks rec ended when Invoke returns.
func invokeStreaming(ctx context.Context, s *Server, id string, rec *streamRecorder) <-chan invokeResult {
	ch := make(chan invokeResult, 1)
	go func() {
		resp, err := s.Invoke(ctx, &Invocation{RequestID: id, Payload: []byte(`{}`), Stream: rec})
		rec.ended.Store(true)
		ch <- invokeResult{resp, err}
	}()
	return ch
}

// streamPost is a runtime's streaming /response in progress: the test
// writes the body through w and reads the reply from done.
type streamPost struct {
	w       *io.PipeWriter
	trailer http.Header
	done    chan reply
}

// postStreaming starts a chunked POST /response in streaming mode (or the
// given mode). viaNetHTTP sends Connection: close, which the fast path
// leaves to the net/http fallback, so both readers are covered.
func postStreaming(t *testing.T, rt *fakeRuntime, id, mode string, viaNetHTTP bool) *streamPost {
	t.Helper()
	pr, pw := io.Pipe()
	sp := &streamPost{w: pw, done: make(chan reply, 1), trailer: http.Header{
		"Lambda-Runtime-Function-Error-Type": nil,
		"Lambda-Runtime-Function-Error-Body": nil,
	}}
	req, err := http.NewRequest(http.MethodPost, rt.base+"invocation/"+id+"/response", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Lambda-Runtime-Function-Response-Mode", mode)
	req.Header.Set("Content-Type", "text/plain")
	req.Trailer = sp.trailer
	req.Close = viaNetHTTP
	go func() {
		resp, err := rt.client.Do(req)
		if err != nil {
			pr.CloseWithError(err)
			sp.done <- reply{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		sp.done <- reply{status: resp.StatusCode, body: b, err: err}
	}()
	return sp
}

// write sends one chunk; the runtime client flushes each one.
func (sp *streamPost) write(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(sp.w, s); err != nil {
		t.Fatalf("write %q: %v", s, err)
	}
}

// paths runs f once for the fast path and once for the net/http fallback.
func paths(t *testing.T, f func(t *testing.T, viaNetHTTP bool)) {
	t.Run("fast path", func(t *testing.T) { f(t, false) })
	t.Run("net/http", func(t *testing.T) { f(t, true) })
}

func TestStreamedResponseFlowsAsWritten(t *testing.T) {
	paths(t, func(t *testing.T, viaNetHTTP bool) {
		s := newTestServer(t, Config{})
		rt := newFakeRuntime(t, s)
		rec := newStreamRecorder(t)
		res := invokeStreaming(t.Context(), s, "s1", rec)
		if next := rt.next(); next.status != http.StatusOK {
			t.Fatalf("next = %d", next.status)
		}
		sp := postStreaming(t, rt, "s1", "streaming", viaNetHTTP)
		// Each chunk must reach the stream before the runtime writes the
		// next one: nothing is buffered until the body ends.
		var got []string
		for _, chunk := range []string{"first,", "second,", "third"} {
			sp.write(t, chunk)
			var seen string
			for seen != chunk {
				seen += string(receive(t, rec.writes))
			}
			got = append(got, seen)
		}
		sp.w.Close()
		ack := receive(t, sp.done)
		r := receive(t, res)
		if ack.err != nil || ack.status != http.StatusAccepted {
			t.Fatalf("ack = %d %s %v", ack.status, ack.body, ack.err)
		}
		if r.err != nil || r.resp.FunctionError || !r.resp.Streamed || len(r.resp.Payload) != 0 || r.resp.ContentType != "text/plain" {
			t.Fatalf("Invoke = %+v, %v", r.resp, r.err)
		}
		if strings.Join(got, "") != "first,second,third" || rec.String() != "first,second,third" {
			t.Errorf("stream got %q (%q)", got, rec.String())
		}
		// The environment is reusable: a buffered invocation follows.
		res2 := invokeAsync(t.Context(), s, &Invocation{RequestID: "s2", Payload: []byte(`{}`)})
		if next := rt.next(); next.status != http.StatusOK {
			t.Fatalf("next = %d", next.status)
		}
		if ack := rt.post("invocation/s2/response", nil, []byte(`"ok"`)); ack.status != http.StatusAccepted {
			t.Fatalf("ack = %d", ack.status)
		}
		if r := receive(t, res2); r.err != nil || string(r.resp.Payload) != `"ok"` || r.resp.Streamed {
			t.Fatalf("second Invoke = %+v, %v", r.resp, r.err)
		}
	})
}

func TestStreamedErrorInTrailers(t *testing.T) {
	paths(t, func(t *testing.T, viaNetHTTP bool) {
		s := newTestServer(t, Config{})
		rt := newFakeRuntime(t, s)
		rec := newStreamRecorder(t)
		res := invokeStreaming(t.Context(), s, "e1", rec)
		rt.next()
		sp := postStreaming(t, rt, "e1", "streaming", viaNetHTTP)
		sp.write(t, "partial")
		doc := `{"errorMessage":"stream broke","errorType":"StreamError"}`
		sp.trailer.Set("Lambda-Runtime-Function-Error-Type", "Function.StreamFailed")
		sp.trailer.Set("Lambda-Runtime-Function-Error-Body", base64.StdEncoding.EncodeToString([]byte(doc)))
		sp.w.Close()
		if ack := receive(t, sp.done); ack.status != http.StatusAccepted {
			t.Fatalf("ack = %d %s %v", ack.status, ack.body, ack.err)
		}
		r := receive(t, res)
		if r.err != nil || !r.resp.FunctionError || !r.resp.Streamed || r.resp.ErrorType != "Function.StreamFailed" || string(r.resp.Payload) != doc {
			t.Fatalf("Invoke = %+v (%s), %v", r.resp, r.resp.Payload, r.err)
		}
		if rec.String() != "partial" {
			t.Errorf("stream got %q", rec.String())
		}
	})
}

func TestStreamedResponseModes(t *testing.T) {
	tests := []struct {
		name     string
		mode     string
		wantAck  int
		wantType string
		wantBody string // what reaches Payload
	}{
		{"an unknown mode is refused", "buffered", http.StatusBadRequest, "Runtime.InvalidResponseModeHeader",
			`{"errorMessage":"Invalid function response mode","errorType":"Runtime.InvalidResponseModeHeader"}`},
		{"no mode is a buffered answer, not streamed", "", http.StatusAccepted, "", "whole body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			paths(t, func(t *testing.T, viaNetHTTP bool) {
				s := newTestServer(t, Config{})
				rt := newFakeRuntime(t, s)
				rec := newStreamRecorder(t)
				res := invokeStreaming(t.Context(), s, "m1", rec)
				rt.next()
				sp := postStreaming(t, rt, "m1", tc.mode, viaNetHTTP)
				if tc.wantAck == http.StatusAccepted {
					sp.write(t, "whole ")
					sp.write(t, "body")
				} else {
					// A refused mode may be answered before the body is
					// read; the client then stops sending it.
					_, _ = io.WriteString(sp.w, "whole body")
				}
				sp.w.Close()
				ack := receive(t, sp.done)
				if ack.status != tc.wantAck {
					t.Errorf("ack = %d %s %v, want %d", ack.status, ack.body, ack.err, tc.wantAck)
				}
				r := receive(t, res)
				if r.err != nil || r.resp.Streamed || r.resp.ErrorType != tc.wantType || string(r.resp.Payload) != tc.wantBody {
					t.Errorf("Invoke = %+v (%s), %v", r.resp, r.resp.Payload, r.err)
				}
				if rec.String() != "" {
					t.Errorf("stream got %q, want nothing", rec.String())
				}
			})
		})
	}
}

func TestStreamedResponseSizeLimit(t *testing.T) {
	paths(t, func(t *testing.T, viaNetHTTP bool) {
		const limit = 100 << 10
		s := newTestServer(t, Config{MaxStreamedResponseBytes: limit})
		rt := newFakeRuntime(t, s)
		rec := newStreamRecorder(t)
		res := invokeStreaming(t.Context(), s, "big", rec)
		rt.next()
		sp := postStreaming(t, rt, "big", "streaming", viaNetHTTP)
		// The runtime writes until it is cut off (a write then fails) or
		// well past the limit.
		go func() {
			chunk := bytes.Repeat([]byte("x"), 10<<10)
			for i := 0; i < 100; i++ {
				if _, err := sp.w.Write(chunk); err != nil {
					return
				}
			}
			sp.w.Close()
		}()
		r := receive(t, res)
		if r.err != nil || !r.resp.FunctionError || !r.resp.Streamed || r.resp.ErrorType != "Function.ResponseSizeTooLarge" {
			t.Fatalf("Invoke = %+v (%s), %v", r.resp, r.resp.Payload, r.err)
		}
		if want := fmt.Sprintf(`{"errorMessage":"Response payload size exceeded maximum allowed payload size (%d bytes).","errorType":"Function.ResponseSizeTooLarge"}`, limit); string(r.resp.Payload) != want {
			t.Errorf("payload = %s, want %s", r.resp.Payload, want)
		}
		if n := len(rec.String()); n != limit {
			t.Errorf("stream got %d bytes, want exactly the limit %d", n, limit)
		}
		ack := receive(t, sp.done)
		if ack.err == nil && ack.status != http.StatusRequestEntityTooLarge {
			t.Errorf("ack = %d %s, want 413 (or a cut connection)", ack.status, ack.body)
		}
		_ = sp.w.CloseWithError(io.ErrClosedPipe)
	})
}

func TestStreamOutlivesItsCaller(t *testing.T) {
	t.Run("a stream whose writes fail is read to its end", func(t *testing.T) {
		paths(t, func(t *testing.T, viaNetHTTP bool) {
			s := newTestServer(t, Config{})
			rt := newFakeRuntime(t, s)
			rec := newStreamRecorder(t)
			rec.fail = true
			res := invokeStreaming(t.Context(), s, "gone", rec)
			rt.next()
			sp := postStreaming(t, rt, "gone", "streaming", viaNetHTTP)
			sp.write(t, "one")
			receive(t, rec.writes)
			sp.write(t, "two")
			sp.w.Close()
			if ack := receive(t, sp.done); ack.status != http.StatusAccepted {
				t.Fatalf("ack = %d %s %v", ack.status, ack.body, ack.err)
			}
			if r := receive(t, res); r.err != nil || r.resp.FunctionError || !r.resp.Streamed {
				t.Fatalf("Invoke = %+v, %v", r.resp, r.err)
			}
			if rec.String() != "one" {
				t.Errorf("stream got %q, want only the write that failed", rec.String())
			}
		})
	})
	t.Run("nothing is written after Invoke gave up", func(t *testing.T) {
		paths(t, func(t *testing.T, viaNetHTTP bool) {
			s := newTestServer(t, Config{})
			rt := newFakeRuntime(t, s)
			rec := newStreamRecorder(t)
			ctx, cancel := context.WithCancel(t.Context())
			res := invokeStreaming(ctx, s, "late", rec)
			rt.next()
			sp := postStreaming(t, rt, "late", "streaming", viaNetHTTP)
			sp.write(t, "early")
			receive(t, rec.writes)
			cancel()
			if r := receive(t, res); !errors.Is(r.err, context.Canceled) {
				t.Fatalf("Invoke = %+v, %v; want context.Canceled", r.resp, r.err)
			}
			// The runtime goes on writing (recorder fails the test on a
			// late Write) until its connection is closed or it finishes.
			deadline := time.Now().Add(200 * time.Millisecond)
			for time.Now().Before(deadline) {
				if _, err := io.WriteString(sp.w, "late"); err != nil {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			sp.w.Close()
			receive(t, sp.done)
		})
	})
}
