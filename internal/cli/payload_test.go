package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadPayload(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "event.json")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, []byte(`{"from":"file"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`{"from": file}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		arg        string
		stdin      string
		want       string
		wantErr    string
		wantNoJSON bool
	}{
		{name: "no flag means no payload", arg: "", want: ""},
		{name: "a literal JSON document is sent as is", arg: `{"a": [1, 2]}`, want: `{"a": [1, 2]}`},
		{name: "a JSON string is a valid event", arg: `"hi"`, want: `"hi"`},
		{name: "@file reads the file", arg: "@" + good, want: `{"from":"file"}`},
		{name: "@- reads standard input", arg: "@-", stdin: "[1,2,3]\n", want: "[1,2,3]\n"},
		{name: "invalid JSON is refused with the offset", arg: `{"a":}`, wantErr: "at byte 6", wantNoJSON: true},
		{name: "plain text is refused", arg: "hello", wantErr: "--payload: payload is not valid JSON", wantNoJSON: true},
		{name: "invalid JSON in a file names the file", arg: "@" + bad, wantErr: "--payload @" + bad, wantNoJSON: true},
		{name: "a truncated document is refused", arg: `{"a":1`, wantErr: "ends in the middle", wantNoJSON: true},
		{name: "two documents are refused", arg: `{} {}`, wantErr: "more after the first value", wantNoJSON: true},
		{name: "an empty file is refused", arg: "@-", stdin: "  \n", wantErr: "empty", wantNoJSON: true},
		{name: "a missing file is an I/O error, not a JSON error", arg: "@" + filepath.Join(dir, "nope.json"), wantErr: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readPayload(tc.arg, strings.NewReader(tc.stdin))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				if errors.Is(err, errPayloadNotJSON) != tc.wantNoJSON {
					t.Errorf("errors.Is(err, errPayloadNotJSON) = %v, want %v", !tc.wantNoJSON, tc.wantNoJSON)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("payload %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFunctionErrorMessage(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    string
	}{
		{"a runtime error payload names its type", `{"errorMessage":"boom\nmore","errorType":"ValueError"}`, "function f failed (Unhandled): ValueError: boom"},
		{"a payload without an error type still says the function failed", `not json`, "function f failed (Unhandled)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := newFunctionError("f", "Unhandled", []byte(tc.payload)).Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
