package runtimeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const fuzzID = "fuzz-id"

// Setup bits for FuzzRuntimeRequests: the state the server is in before the
// fuzzed request.
const (
	fuzzInvoke    = 1 << iota // an invocation is queued
	fuzzNext                  // the runtime called /next (takes it, or parks and leaves)
	fuzzInitError             // the runtime posted init/error
	fuzzAnswered              // the runtime answered the invocation
	fuzzRequeue               // a delivery failed and the invocation was queued again
)

// FuzzRuntimeRequests feeds arbitrary method, path, headers, trailers and
// body to the handler in every server state. It must never panic, must only
// answer with the Runtime API's statuses, must render every error as an
// {"errorMessage","errorType"} document, and must leave no invocation
// half-answered.
func FuzzRuntimeRequests(f *testing.F) {
	seeds := []struct {
		setup                 uint8
		method, path, headers string
		body                  string
		lengthMode            uint8
	}{
		{fuzzInvoke | fuzzNext, "POST", "/2018-06-01/runtime/invocation/{id}/response", "Content-Type: application/json", `{"ok":true}`, 0},
		{fuzzInvoke | fuzzNext, "POST", "/2018-06-01/runtime/invocation/{id}/response", "", strings.Repeat("x", 100), 1},
		{fuzzInvoke | fuzzNext, "POST", "/2018-06-01/runtime/invocation/{id}/response", "Lambda-Runtime-Function-Response-Mode: streaming\n~Lambda-Runtime-Function-Error-Type: Function.X\n~Lambda-Runtime-Function-Error-Body: e30=", "part", 1},
		{fuzzInvoke | fuzzNext, "POST", "/2018-06-01/runtime/invocation/{id}/response", "Lambda-Runtime-Function-Response-Mode: bogus", "", 0},
		{fuzzInvoke | fuzzNext, "POST", "/2018-06-01/runtime/invocation/{id}/error", "Lambda-Runtime-Function-Error-Type: Runtime.Crash", `{"errorType":"E"}`, 0},
		{fuzzInvoke | fuzzNext, "POST", "/2018-06-01/runtime/invocation/{id}/error", "", "not json", 2},
		{fuzzInvoke | fuzzNext, "POST", "/2018-06-01/runtime/invocation/other/response", "", "{}", 0},
		{fuzzInvoke | fuzzNext | fuzzAnswered, "POST", "/2018-06-01/runtime/invocation/{id}/response", "", "{}", 0},
		{fuzzInvoke, "GET", "/2018-06-01/runtime/invocation/next", "", "", 0},
		{fuzzInvoke | fuzzNext, "GET", "/2018-06-01/runtime/invocation/next", "", "", 0},
		{0, "GET", "/2018-06-01/runtime/invocation/next", "", "", 0},
		{0, "POST", "/2018-06-01/runtime/init/error", "Lambda-Runtime-Function-Error-Type: Runtime.Init", `{"errorMessage":"x"}`, 3},
		{fuzzInitError, "GET", "/2018-06-01/runtime/invocation/next", "", "", 0},
		{fuzzInvoke | fuzzInitError, "POST", "/2018-06-01/runtime/init/error", "", "", 0},
		{0, "DELETE", "/2018-06-01/runtime/invocation/x/error", "", "", 0},
		{0, "GET", "/", "", "", 0},
		{fuzzInvoke | fuzzNext | fuzzRequeue, "POST", "/2018-06-01/runtime/invocation/{id}/response", "", "{}", 0},
		{fuzzInvoke | fuzzNext | fuzzRequeue, "GET", "/2018-06-01/runtime/invocation/next", "", "", 0},
		// The Extensions API shares the listener.
		{0, "POST", "/2020-01-01/extension/register", "Lambda-Extension-Name: ext", `{"events":["INVOKE","SHUTDOWN"]}`, 0},
		{0, "POST", "/2020-01-01/extension/register", "Lambda-Extension-Name: ext", `{"events":["BOGUS"]}`, 0},
		{0, "POST", "/2020-01-01/extension/register", "", `not json`, 0},
		{fuzzInvoke | fuzzNext, "POST", "/2020-01-01/extension/register", "Lambda-Extension-Name: late", `{"events":[]}`, 0},
		{0, "GET", "/2020-01-01/extension/event/next", "Lambda-Extension-Identifier: nope", "", 0},
		{0, "POST", "/2020-01-01/extension/init/error", "Lambda-Extension-Identifier: nope\nLambda-Extension-Function-Error-Type: Extension.X", "{}", 0},
		{0, "POST", "/2020-01-01/extension/exit/error", "", "", 0},
	}
	for _, sd := range seeds {
		f.Add(sd.setup, sd.method, sd.path, sd.headers, []byte(sd.body), sd.lengthMode)
	}
	f.Fuzz(func(t *testing.T, setup uint8, method, path, headers string, body []byte, lengthMode uint8) {
		s, err := newServer(Config{MaxResponseBytes: 64}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		gone, cancel := context.WithCancel(context.Background())
		cancel() // a parked /next returns at once instead of blocking the fuzzer

		var c *call
		if setup&fuzzInvoke != 0 {
			c = newCall(context.Background(), &Invocation{RequestID: fuzzID, Payload: []byte(`{}`)})
			if _, err := s.enqueue(c); err != nil {
				t.Fatal(err)
			}
		}
		if setup&fuzzNext != 0 {
			serveFuzz(s, fuzzRequest(gone, http.MethodGet, pathPrefix+pathNext, nil, nil, nil, 0))
		}
		if setup&fuzzRequeue != 0 && c != nil {
			s.mu.Lock()
			s.requeueLocked(c)
			s.mu.Unlock()
		}
		if setup&fuzzInitError != 0 {
			serveFuzz(s, fuzzRequest(gone, http.MethodPost, pathPrefix+pathInitError, nil, nil, nil, 0))
		}
		if setup&fuzzAnswered != 0 {
			serveFuzz(s, fuzzRequest(gone, http.MethodPost, pathPrefix+"invocation/"+fuzzID+"/response", nil, nil, []byte(`{}`), 0))
		}

		header, trailer := parseFuzzHeaders(headers)
		req := fuzzRequest(gone, method, strings.ReplaceAll(path, "{id}", fuzzID), header, trailer, body, lengthMode)
		rec := serveFuzz(s, req)

		switch rec.Code {
		case 200, 202, 400, 403, 404, 405, 413, 500:
		default:
			t.Fatalf("unexpected status %d", rec.Code)
		}
		if rec.Code >= 400 && method != http.MethodHead {
			var doc struct{ ErrorMessage, ErrorType string }
			if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.ErrorType == "" || doc.ErrorMessage == "" {
				t.Fatalf("status %d with body %q is not an error document", rec.Code, rec.Body.Bytes())
			}
		}
		if rec.Code == 202 && rec.Body.String() != acceptedBody {
			t.Fatalf("202 body %q", rec.Body.Bytes())
		}

		s.mu.Lock()
		defer s.mu.Unlock()
		if cur := s.current; cur != nil && cur.state != callQueued && cur.state != callDelivered {
			t.Fatalf("current invocation left in state %d", cur.state)
		}
		if c != nil && c.state == callDone {
			select {
			case <-c.done:
			default:
				t.Fatal("a done invocation did not wake Invoke")
			}
			if c.err == nil && (c.resp == nil || (c.resp.FunctionError && c.resp.ErrorType == "")) {
				t.Fatalf("done invocation has response %+v", c.resp)
			}
		}
	})
}

// fuzzRequest builds a request by hand: httptest.NewRequest panics on the
// malformed targets the fuzzer produces, and the handler must cope with
// them anyway. lengthMode picks the declared Content-Length: exact, unknown
// (chunked), too short, too long, or absurdly large.
func fuzzRequest(ctx context.Context, method, path string, header, trailer http.Header, body []byte, lengthMode uint8) *http.Request {
	if header == nil {
		header = http.Header{}
	}
	length := int64(len(body))
	switch lengthMode % 5 {
	case 1:
		length = -1
	case 2:
		length = int64(len(body) / 2)
	case 3:
		length = int64(len(body)) + 7
	case 4:
		length = 1 << 40
	}
	r := &http.Request{
		Method:        method,
		URL:           &url.URL{Path: path},
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Trailer:       trailer,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: length,
		Host:          "127.0.0.1",
		RemoteAddr:    "127.0.0.1:1",
	}
	return r.WithContext(ctx)
}

// parseFuzzHeaders reads "Name: value" lines; a leading "~" makes the line
// a trailer.
func parseFuzzHeaders(s string) (header, trailer http.Header) {
	header, trailer = http.Header{}, http.Header{}
	for _, line := range strings.Split(s, "\n") {
		dst := header
		if rest, ok := strings.CutPrefix(line, "~"); ok {
			dst, line = trailer, rest
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		dst[http.CanonicalHeaderKey(strings.TrimSpace(name))] = append(dst[http.CanonicalHeaderKey(strings.TrimSpace(name))], strings.TrimSpace(value))
	}
	return header, trailer
}

func serveFuzz(s *Server, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.serveHTTP(rec, r)
	return rec
}
