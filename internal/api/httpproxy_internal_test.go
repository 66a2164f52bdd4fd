package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/updraft/updraft/internal/lambdaerr"
)

var testMeta = proxyMeta{
	RequestID:         "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
	ExtendedRequestID: "ABCdEFghIJKlmNop",
	Time:              time.Date(2015, 4, 9, 12, 34, 56, 0, time.UTC),
	AccountID:         "123456789012",
}

// proxyRequest is a request as the mux hands it to httpProxy: path is the
// {path...} wildcard, the part after the function segment.
func proxyRequest(t *testing.T, method, target, path string, body string, header ...string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.RemoteAddr = "192.168.196.186:41234"
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	r.SetPathValue("function", "fn")
	r.SetPathValue("path", path)
	return r
}

func TestProxyEventIsAPIGatewaysRESTShape(t *testing.T) {
	r := proxyRequest(t, "POST", "http://gy415nuibc.example.com/updraft/v1/http/fn/hello/world?name=me&multivalueName=you&multivalueName=me",
		"hello/world", "{\r\n\t\"a\": 1\r\n}", "Content-Type", "application/json", "headerName", "headerValue", "User-Agent", "PostmanRuntime/2.4.5")
	got := proxyEvent(r, []byte("{\r\n\t\"a\": 1\r\n}"), testMeta)
	want := &events.APIGatewayProxyRequest{
		Resource:   "/{proxy+}",
		Path:       "/hello/world",
		HTTPMethod: "POST",
		Headers: map[string]string{
			"Content-Type": "application/json",
			"Headername":   "headerValue",
			"Host":         "gy415nuibc.example.com",
			"User-Agent":   "PostmanRuntime/2.4.5",
		},
		MultiValueHeaders: map[string][]string{
			"Content-Type": {"application/json"},
			"Headername":   {"headerValue"},
			"Host":         {"gy415nuibc.example.com"},
			"User-Agent":   {"PostmanRuntime/2.4.5"},
		},
		QueryStringParameters:           map[string]string{"name": "me", "multivalueName": "me"},
		MultiValueQueryStringParameters: map[string][]string{"name": {"me"}, "multivalueName": {"you", "me"}},
		PathParameters:                  map[string]string{"proxy": "hello/world"},
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:         "123456789012",
			ResourceID:        proxyResourceID,
			Stage:             "$default",
			DomainName:        "gy415nuibc.example.com",
			DomainPrefix:      "gy415nuibc",
			RequestID:         testMeta.RequestID,
			ExtendedRequestID: testMeta.ExtendedRequestID,
			Protocol:          "HTTP/1.1",
			Identity:          events.APIGatewayRequestIdentity{SourceIP: "192.168.196.186", UserAgent: "PostmanRuntime/2.4.5"},
			ResourcePath:      "/{proxy+}",
			Path:              "/updraft/v1/http/fn/hello/world",
			HTTPMethod:        "POST",
			RequestTime:       "09/Apr/2015:12:34:56 +0000",
			RequestTimeEpoch:  1428582896000,
			APIID:             proxyAPIID,
		},
		Body: "{\r\n\t\"a\": 1\r\n}",
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("event:\n%s\nwant:\n%s", g, w)
	}
	// The wire shape: absent maps are null, as API Gateway sends them.
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if v, ok := m["stageVariables"]; !ok || v != nil {
		t.Errorf("stageVariables = %v (present %v), want null", v, ok)
	}
}

func TestProxyEventFields(t *testing.T) {
	tests := []struct {
		name   string
		method string
		target string
		path   string
		body   string
		header []string
		check  func(t *testing.T, ev *events.APIGatewayProxyRequest)
	}{
		{
			name: "a request without a query has null query maps", method: "GET", target: "/updraft/v1/http/fn/a", path: "a",
			check: func(t *testing.T, ev *events.APIGatewayProxyRequest) {
				if ev.QueryStringParameters != nil || ev.MultiValueQueryStringParameters != nil {
					t.Errorf("query = %v / %v, want nil", ev.QueryStringParameters, ev.MultiValueQueryStringParameters)
				}
			},
		},
		{
			name: "repeated query keys keep the last value single and all values multi", method: "GET",
			target: "/updraft/v1/http/fn/a?k=1&k=2&k=3&e=&sp=a%20b", path: "a",
			check: func(t *testing.T, ev *events.APIGatewayProxyRequest) {
				wantS := map[string]string{"k": "3", "e": "", "sp": "a b"}
				wantM := map[string][]string{"k": {"1", "2", "3"}, "e": {""}, "sp": {"a b"}}
				if !reflect.DeepEqual(ev.QueryStringParameters, wantS) || !reflect.DeepEqual(ev.MultiValueQueryStringParameters, wantM) {
					t.Errorf("query = %v / %v, want %v / %v", ev.QueryStringParameters, ev.MultiValueQueryStringParameters, wantS, wantM)
				}
			},
		},
		{
			name: "repeated headers keep the last value single and all values multi", method: "GET",
			target: "/updraft/v1/http/fn/a", path: "a", header: []string{"x-tag", "one", "X-Tag", "two"},
			check: func(t *testing.T, ev *events.APIGatewayProxyRequest) {
				if ev.Headers["X-Tag"] != "two" || !reflect.DeepEqual(ev.MultiValueHeaders["X-Tag"], []string{"one", "two"}) {
					t.Errorf("X-Tag = %q / %q", ev.Headers["X-Tag"], ev.MultiValueHeaders["X-Tag"])
				}
			},
		},
		{
			name: "the root path is the / resource without path parameters", method: "GET", target: "/updraft/v1/http/fn", path: "",
			check: func(t *testing.T, ev *events.APIGatewayProxyRequest) {
				if ev.Path != "/" || ev.Resource != "/" || ev.RequestContext.ResourcePath != "/" || ev.PathParameters != nil {
					t.Errorf("path %q resource %q resourcePath %q pathParameters %v", ev.Path, ev.Resource, ev.RequestContext.ResourcePath, ev.PathParameters)
				}
			},
		},
		{
			name: "a nested path is the proxy parameter without its leading slash", method: "DELETE",
			target: "/updraft/v1/http/fn/produce/vegetables/carrot", path: "produce/vegetables/carrot",
			check: func(t *testing.T, ev *events.APIGatewayProxyRequest) {
				if ev.Path != "/produce/vegetables/carrot" || ev.PathParameters["proxy"] != "produce/vegetables/carrot" || ev.Resource != "/{proxy+}" || ev.HTTPMethod != "DELETE" {
					t.Errorf("path %q proxy %q resource %q method %q", ev.Path, ev.PathParameters["proxy"], ev.Resource, ev.HTTPMethod)
				}
			},
		},
		{
			name: "a text body is passed as is", method: "POST", target: "/updraft/v1/http/fn/a", path: "a",
			body: "name=été", header: []string{"Content-Type", "text/plain; charset=utf-8"},
			check: func(t *testing.T, ev *events.APIGatewayProxyRequest) {
				if ev.Body != "name=été" || ev.IsBase64Encoded {
					t.Errorf("body %q base64 %v", ev.Body, ev.IsBase64Encoded)
				}
			},
		},
		{
			name: "a binary body is base64", method: "PUT", target: "/updraft/v1/http/fn/a", path: "a",
			body: "\x89PNG\r\n\x1a\n\x00", header: []string{"Content-Type", "image/png"},
			check: func(t *testing.T, ev *events.APIGatewayProxyRequest) {
				if ev.Body != base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\n\x00")) || !ev.IsBase64Encoded {
					t.Errorf("body %q base64 %v", ev.Body, ev.IsBase64Encoded)
				}
			},
		},
		{
			name: "a non-UTF-8 body under a text type is base64", method: "POST", target: "/updraft/v1/http/fn/a", path: "a",
			body: "\xff\xfe", header: []string{"Content-Type", "text/plain"},
			check: func(t *testing.T, ev *events.APIGatewayProxyRequest) {
				if !ev.IsBase64Encoded {
					t.Errorf("body %q not base64", ev.Body)
				}
			},
		},
		{
			name: "no body is an empty body", method: "GET", target: "/updraft/v1/http/fn/a", path: "a",
			check: func(t *testing.T, ev *events.APIGatewayProxyRequest) {
				if ev.Body != "" || ev.IsBase64Encoded {
					t.Errorf("body %q base64 %v", ev.Body, ev.IsBase64Encoded)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := proxyRequest(t, tc.method, tc.target, tc.path, tc.body, tc.header...)
			tc.check(t, proxyEvent(r, []byte(tc.body), testMeta))
		})
	}
}

func TestIsTextBody(t *testing.T) {
	tests := []struct {
		contentType string
		want        bool
	}{
		{"", true},
		{"text/html; charset=utf-8", true},
		{"application/json", true},
		{"application/vnd.api+json", true},
		{"application/xml", true},
		{"application/soap+xml", true},
		{"application/x-www-form-urlencoded", true},
		{"application/octet-stream", false},
		{"image/png", false},
		{"multipart/form-data; boundary=x", false},
		{"not a media type;;", false},
	}
	for _, tc := range tests {
		if got := isTextBody(tc.contentType, []byte("plain")); got != tc.want {
			t.Errorf("isTextBody(%q) = %v, want %v", tc.contentType, got, tc.want)
		}
	}
}

func TestProxyReplyOf(t *testing.T) {
	tests := []struct {
		name       string
		payload    string
		wantErr    bool
		wantStatus int
		wantHeader http.Header
		wantBody   string
	}{
		{
			name:       "a full response maps status, headers and body",
			payload:    `{"statusCode":201,"headers":{"X-One":"1","Content-Type":"text/plain"},"body":"made","isBase64Encoded":false}`,
			wantStatus: 201, wantHeader: http.Header{"X-One": {"1"}, "Content-Type": {"text/plain"}}, wantBody: "made",
		},
		{
			name:       "headers and multiValueHeaders merge and a pair in both appears once",
			payload:    `{"statusCode":200,"headers":{"Set-Cookie":"a=1","x-single":"s"},"multiValueHeaders":{"Set-Cookie":["a=1","b=2"]},"body":""}`,
			wantStatus: 200, wantHeader: http.Header{"Set-Cookie": {"a=1", "b=2"}, "X-Single": {"s"}, "Content-Type": {"application/json"}},
		},
		{
			name:       "a base64 body is decoded",
			payload:    `{"statusCode":200,"headers":{"Content-Type":"image/png"},"body":"iVBORw0KGgo=","isBase64Encoded":true}`,
			wantStatus: 200, wantHeader: http.Header{"Content-Type": {"image/png"}}, wantBody: "\x89PNG\r\n\x1a\n",
		},
		{
			name:       "a status code alone is enough and the content type defaults to JSON",
			payload:    `{"statusCode":204}`,
			wantStatus: 204, wantHeader: http.Header{"Content-Type": {"application/json"}},
		},
		{
			name:       "framing and invalid headers are dropped",
			payload:    `{"statusCode":200,"headers":{"Content-Length":"99","Transfer-Encoding":"chunked","Bad Name":"x","X-Split":"a\r\nInjected: 1","X-Ok":"ok"},"body":"b"}`,
			wantStatus: 200, wantHeader: http.Header{"X-Ok": {"ok"}, "Content-Type": {"application/json"}}, wantBody: "b",
		},
		{name: "invalid JSON is malformed", payload: `{"statusCode":200,`, wantErr: true},
		{name: "a result that is not an object is malformed", payload: `"hello"`, wantErr: true},
		{name: "null is malformed", payload: `null`, wantErr: true},
		{name: "a missing statusCode is malformed", payload: `{"body":"hi"}`, wantErr: true},
		{name: "a string statusCode is malformed", payload: `{"statusCode":"200"}`, wantErr: true},
		{name: "a statusCode out of range is malformed", payload: `{"statusCode":1000}`, wantErr: true},
		{name: "a body that is not a string is malformed", payload: `{"statusCode":200,"body":{"a":1}}`, wantErr: true},
		{name: "a header value that is not a string is malformed", payload: `{"statusCode":200,"headers":{"X-N":1}}`, wantErr: true},
		{name: "a base64 body that does not decode is malformed", payload: `{"statusCode":200,"body":"!!!","isBase64Encoded":true}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := proxyReplyOf([]byte(tc.payload))
			if tc.wantErr {
				if !errors.Is(err, errMalformedProxyResponse) {
					t.Fatalf("err = %v, want errMalformedProxyResponse", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tc.wantStatus || string(got.Body) != tc.wantBody || !reflect.DeepEqual(got.Header, tc.wantHeader) {
				t.Errorf("got %d %v %q, want %d %v %q", got.Status, got.Header, got.Body, tc.wantStatus, tc.wantHeader, tc.wantBody)
			}
		})
	}
}

func TestProxyErrorReply(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		status    int
		errorType string
		body      string
	}{
		{"a throttle is 500, as API Gateway reports it", lambdaerr.TooManyRequests(lambdaerr.ReasonReservedFunctionConcurrentInvocationLimitExceeded, "Rate exceeded"), 500, "InternalServerErrorException", `{"message": "Internal server error"}`},
		{"an unknown function is 404", lambdaerr.ResourceNotFound("Function not found: x"), 404, "NotFoundException", `{"message":"Not Found"}`},
		{"a malformed name is 404", lambdaerr.Validation("bad name"), 404, "NotFoundException", `{"message":"Not Found"}`},
		{"a platform error is 500", errors.New("disk on fire"), 500, "InternalServerErrorException", `{"message": "Internal server error"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := proxyErrorReply(tc.err)
			if got.Status != tc.status || got.Header.Get("X-Amzn-ErrorType") != tc.errorType || string(got.Body) != tc.body {
				t.Errorf("got %d %v %s, want %d %s %s", got.Status, got.Header, got.Body, tc.status, tc.errorType, tc.body)
			}
		})
	}
}

// FuzzProxyReplyOf feeds function results to the decoder: it must never
// panic, and what it accepts must be writable as an HTTP response.
func FuzzProxyReplyOf(f *testing.F) {
	for _, s := range []string{
		`{"statusCode":200,"headers":{"a":"b"},"multiValueHeaders":{"a":["b","c"]},"body":"x"}`,
		`{"statusCode":200,"body":"aGk=","isBase64Encoded":true}`,
		`{"statusCode":99}`, `{"body":null}`, `[]`, `null`, `{"statusCode":200,"headers":{"Bad\nName":"v"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		reply, err := proxyReplyOf(payload)
		if err != nil {
			if !errors.Is(err, errMalformedProxyResponse) {
				t.Fatalf("error %v is not errMalformedProxyResponse", err)
			}
			return
		}
		if reply.Status < 200 || reply.Status > 599 {
			t.Fatalf("status %d accepted", reply.Status)
		}
		for k, vs := range reply.Header {
			if !validHeaderName(k) {
				t.Fatalf("header name %q accepted", k)
			}
			for _, v := range vs {
				if strings.ContainsAny(v, "\r\n") {
					t.Fatalf("header value %q accepted", v)
				}
			}
		}
		rec := httptest.NewRecorder()
		for k, vs := range reply.Header {
			rec.Header()[k] = vs
		}
		rec.WriteHeader(reply.Status)
	})
}
