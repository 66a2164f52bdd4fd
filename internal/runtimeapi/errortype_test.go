package runtimeapi

import (
	"net/textproto"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestValidErrorType(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"Runtime.ExitError", true},
		{"Runtime.NoSuchHandler", true},
		{"Function.ResponseSizeTooLarge", true},
		{"Function.MyCustomErrorTypeHere", true},
		{"Runtime.Ab", true},
		{"", false},
		{"Unhandled", false},
		{"MyCustomError", false},
		{"MyCustomError.Error", false},
		{"Runtime.", false},
		{"Runtime.A", false},         // [A-Z][a-zA-Z]+ needs two letters
		{"Runtime.exitError", false}, // lower-case first letter
		{"Runtime.Exit_Error", false},
		{"Runtime.Exit Error", false},
		{"Runtime.Foo123", false}, // the RIE's unanchored match would keep this
		{"xRuntime.Foo", false},
		{"runtime.Foo", false},
		{"Extension.Crash", false},
		{"Function.Unknown\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := validErrorType(tc.in); got != tc.want {
				t.Errorf("validErrorType(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestResolveErrorType(t *testing.T) {
	tests := []struct {
		name, header, bodyType, want string
	}{
		{"a valid header wins over the body", "Runtime.UserCodeSyntaxError", "SyntaxError", "Runtime.UserCodeSyntaxError"},
		{"a valid function header is kept", "Function.Custom", "", "Function.Custom"},
		{"an invalid header falls back to the body", "Unhandled", "ZeroDivisionError", "ZeroDivisionError"},
		{"no header uses the body", "", "errorString", "errorString"},
		{"a dotted java type is usable", "", "java.lang.RuntimeException", "java.lang.RuntimeException"},
		{"a body type with spaces is not used", "", "my error", "Runtime.Unknown"},
		{"a huge body type is not used", "", strings.Repeat("E", 257), "Runtime.Unknown"},
		{"nothing usable is Runtime.Unknown", "", "", "Runtime.Unknown"},
		{"an invalid header is Runtime.Unknown", "Unhandled", "", "Runtime.Unknown"},
		{"an invalid Function header is Function.Unknown", "Function.bad", "", "Function.Unknown"},
		{"an invalid Runtime header is Runtime.Unknown", "Runtime.bad", "", "Runtime.Unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := resolveErrorType(tc.header, tc.bodyType); got != tc.want {
				t.Errorf("resolveErrorType(%q, %q) = %q, want %q", tc.header, tc.bodyType, got, tc.want)
			}
		})
	}
}

func TestErrorDocument(t *testing.T) {
	tests := []struct {
		name, header, body, wantType, wantDoc string
	}{
		{
			name: "a JSON document passes through untouched", header: "Runtime.Custom",
			body:     `{"errorMessage":"x","errorType":"Other","stackTrace":["a"]}`,
			wantType: "Runtime.Custom", wantDoc: `{"errorMessage":"x","errorType":"Other","stackTrace":["a"]}`,
		},
		{
			name: "the document's errorType is used without a header",
			body: ` {"errorType":"TypeError","errorMessage":"x"}`, wantType: "TypeError",
			wantDoc: ` {"errorType":"TypeError","errorMessage":"x"}`,
		},
		{
			name: "a non-string errorType is ignored", body: `{"errorType":42}`,
			wantType: "Runtime.Unknown", wantDoc: `{"errorType":42}`,
		},
		{
			name: "an empty body is synthesized", header: "Function.Oops",
			wantType: "Function.Oops",
			wantDoc:  `{"errorMessage":"The runtime reported an error without an error document.","errorType":"Function.Oops"}`,
		},
		{
			name: "a text body becomes the message", body: "plain failure",
			wantType: "Runtime.Unknown", wantDoc: `{"errorMessage":"plain failure","errorType":"Runtime.Unknown"}`,
		},
		{
			name: "a JSON string is not a document", body: `"oops"`,
			wantType: "Runtime.Unknown", wantDoc: `{"errorMessage":"\"oops\"","errorType":"Runtime.Unknown"}`,
		},
		{
			name: "broken JSON is not a document", header: "Function.x", body: `{"errorType":`,
			wantType: "Function.Unknown", wantDoc: `{"errorMessage":"{\"errorType\":","errorType":"Function.Unknown"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gotType, gotDoc := errorDocument(tc.header, []byte(tc.body))
			if gotType != tc.wantType || string(gotDoc) != tc.wantDoc {
				t.Errorf("errorDocument(%q, %q) = %q, %s; want %q, %s", tc.header, tc.body, gotType, gotDoc, tc.wantType, tc.wantDoc)
			}
		})
	}
}

func TestParseResponseMode(t *testing.T) {
	tests := []struct {
		name   string
		in     []string
		want   responseMode
		wantOK bool
	}{
		{"an absent header is buffered", nil, modeBuffered, true},
		{"an empty header is buffered", []string{""}, modeBuffered, true},
		{"streaming is streaming", []string{"streaming"}, modeStreaming, true},
		{"buffered is not a mode", []string{"buffered"}, 0, false},
		{"modes are case-sensitive", []string{"Streaming"}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseResponseMode(tc.in)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("parseResponseMode(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestParseAnswerPath(t *testing.T) {
	tests := []struct {
		in       string
		wantID   string
		wantKind answerKind
		wantOK   bool
	}{
		{"invocation/abc/response", "abc", answerResponse, true},
		{"invocation/abc/error", "abc", answerError, true},
		{"invocation//response", "", 0, false},
		{"invocation/abc/def/response", "", 0, false},
		{"invocation/abc/response/", "", 0, false},
		{"invocation/abc", "", 0, false},
		{"invocation/next", "", 0, false},
		{"init/error", "", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			id, kind, ok := parseAnswerPath(tc.in)
			if id != tc.wantID || kind != tc.wantKind || ok != tc.wantOK {
				t.Errorf("parseAnswerPath(%q) = %q, %v, %v", tc.in, id, kind, ok)
			}
		})
	}
}

// The header maps are indexed directly, so the names must already be in
// net/http's canonical form.
func TestHeaderNamesAreCanonical(t *testing.T) {
	for _, h := range []string{
		hdrRequestID, hdrDeadline, hdrARN, hdrTrace, hdrClientContext, hdrCognito,
		hdrErrorType, hdrErrorBody, hdrResponseMode,
	} {
		if c := textproto.CanonicalMIMEHeaderKey(h); c != h {
			t.Errorf("%q is not canonical (%q)", h, c)
		}
	}
}

func TestNewTraceID(t *testing.T) {
	now := time.Unix(0x5759e988, 0)
	re := regexp.MustCompile(`^Root=1-5759e988-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`)
	a, b := newTraceID(now), newTraceID(now)
	if !re.MatchString(a) {
		t.Errorf("newTraceID = %q, want X-Ray format", a)
	}
	if a == b {
		t.Errorf("two trace ids are equal: %q", a)
	}
}
