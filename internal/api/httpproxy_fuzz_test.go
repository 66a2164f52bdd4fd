package api

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// FuzzProxyEvent turns raw HTTP requests, as net/http parses them off the
// wire and the mux routes them, into API Gateway proxy events: it must
// never panic, and the event must carry the request faithfully — method,
// path and {proxy+}, every header and query value (the last in the
// single-value maps, all in the multi-value ones), the body as text or
// base64 that decodes to the same bytes — and survive a JSON round trip
// through aws-lambda-go's type, as the function's runtime reads it.
func FuzzProxyEvent(f *testing.F) {
	for _, s := range []string{
		"POST /updraft/v1/http/fn/a/b?x=1&x=2&y HTTP/1.1\r\nHost: api.example.com:9321\r\nContent-Type: application/json\r\nX-Multi: 1\r\nX-Multi: 2\r\nContent-Length: 8\r\n\r\n{\"a\": 1}",
		"GET /updraft/v1/http/fn HTTP/1.1\r\nHost: h\r\nUser-Agent: curl/8\r\n\r\n",
		"PUT /updraft/v1/http/fn:live/%E2%82%AC/%2F?q=%zz&=&a=b=c HTTP/1.1\r\nHost: h\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\n\r\n\x00\xff\x01",
		"DELETE /updraft/v1/http/fn/x/ HTTP/1.0\r\nContent-Type: text/plain; charset=latin1\r\nContent-Length: 2\r\n\r\n\xe9\xe9",
		"POST /updraft/v1/http/fn/form HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n3\r\na=b\r\n0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			t.Skip("net/http refuses it")
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Skip("the body is cut short")
		}
		r.RemoteAddr = "192.0.2.1:1234"
		var ev *events.APIGatewayProxyRequest
		mux := http.NewServeMux()
		route := func(w http.ResponseWriter, r *http.Request) { ev = proxyEvent(r, body, testMeta) }
		mux.HandleFunc("/updraft/v1/http/{function}", route)
		mux.HandleFunc("/updraft/v1/http/{function}/{path...}", route)
		if _, pattern := mux.Handler(r); pattern == "" || strings.HasSuffix(pattern, "/") {
			t.Skip("not a proxy route")
		}
		mux.ServeHTTP(nopWriter{}, r)
		if ev == nil {
			t.Skip("the mux redirected the request")
		}
		rest := r.PathValue("path")
		if ev.HTTPMethod != r.Method || ev.Path != "/"+rest {
			t.Fatalf("method %q path %q, want %q %q", ev.HTTPMethod, ev.Path, r.Method, "/"+rest)
		}
		if (rest != "") != (ev.PathParameters["proxy"] == rest && rest != "") {
			t.Fatalf("pathParameters %v for path %q", ev.PathParameters, rest)
		}
		header := r.Header.Clone()
		if r.Host != "" {
			header.Set("Host", r.Host)
		}
		if r.ProtoMajor == 2 {
			// Over HTTP/2 names arrive in lower case (upper case is a
			// protocol error there), and the event keeps them so.
			lower := make(http.Header, len(header))
			for k, vs := range header {
				lk := strings.ToLower(k)
				if _, dup := lower[lk]; dup {
					t.Skip("two names differ only in case, which HTTP/2 cannot carry")
				}
				lower[lk] = vs
			}
			header = lower
		}
		checkSingleAndMulti(t, "header", header, ev.Headers, ev.MultiValueHeaders)
		checkSingleAndMulti(t, "query", r.URL.Query(), ev.QueryStringParameters, ev.MultiValueQueryStringParameters)
		switch {
		case ev.IsBase64Encoded:
			got, err := base64.StdEncoding.DecodeString(ev.Body)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("base64 body %q decodes to %q, %v; want %q", ev.Body, got, err, body)
			}
		case ev.Body != string(body) || !utf8.ValidString(ev.Body):
			t.Fatalf("text body %q, want %q", ev.Body, body)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("encode event: %v", err)
		}
		var back events.APIGatewayProxyRequest
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("decode event %s: %v", b, err)
		}
		// JSON carries only UTF-8: a header or query value with other
		// bytes reaches the function with U+FFFD in their place (the
		// body goes base64 instead). Apart from that the event the
		// runtime decodes is the one sent.
		again, err := json.Marshal(&back)
		if err != nil {
			t.Fatalf("encode decoded event: %v", err)
		}
		var back2 events.APIGatewayProxyRequest
		if err := json.Unmarshal(again, &back2); err != nil || !reflect.DeepEqual(back2, back) {
			t.Fatalf("second round trip changed the event (%v):\n%s\n%s", err, b, again)
		}
		if validUTF8Event(ev) && !reflect.DeepEqual(&back, ev) {
			t.Fatalf("round trip changed the event:\n%+v\n%+v", back, *ev)
		}
	})
}

// validUTF8Event reports whether every header and query value and name
// of ev is valid UTF-8.
func validUTF8Event(ev *events.APIGatewayProxyRequest) bool {
	for _, m := range []map[string][]string{ev.MultiValueHeaders, ev.MultiValueQueryStringParameters} {
		for k, vs := range m {
			if !utf8.ValidString(k) {
				return false
			}
			for _, v := range vs {
				if !utf8.ValidString(v) {
					return false
				}
			}
		}
	}
	return utf8.ValidString(ev.Path) && utf8.ValidString(ev.RequestContext.Path) && utf8.ValidString(ev.HTTPMethod)
}

// checkSingleAndMulti checks an event's pair of maps against the values
// they were made from.
func checkSingleAndMulti(t *testing.T, what string, want map[string][]string, single map[string]string, multi map[string][]string) {
	t.Helper()
	n := 0
	for k, vs := range want {
		if len(vs) == 0 {
			continue
		}
		n++
		if single[k] != vs[len(vs)-1] || !reflect.DeepEqual(multi[k], vs) {
			t.Fatalf("%s %q: single %q multi %q, want %q", what, k, single[k], multi[k], vs)
		}
	}
	if len(single) != n || len(multi) != n {
		t.Fatalf("%s: %d single and %d multi values, want %d", what, len(single), len(multi), n)
	}
}

// nopWriter is a ResponseWriter for a handler that writes nothing.
type nopWriter struct{}

func (nopWriter) Header() http.Header         { return http.Header{} }
func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (nopWriter) WriteHeader(int)             {}
