package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "10m", want: now.Add(-10 * time.Minute)},
		{in: "1h30m", want: now.Add(-90 * time.Minute)},
		{in: "2d", want: now.AddDate(0, 0, -2)},
		{in: "2025-03-01T08:00:00Z", want: time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)},
		{in: "2025-03-01T09:00:00+01:00", want: time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)},
		{in: "2025-03-01", want: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)},
		{in: "-5m", wantErr: true},
		{in: "yesterday", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSince(tc.in, now)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parseSince(%q) = %v, want an error", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) {
				t.Errorf("parseSince(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestLogsPath(t *testing.T) {
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		flags logsFlags
		want  string
	}{
		{"the limit is always sent", logsFlags{limit: 100}, "/updraft/v1/functions/fn/logs?limit=100"},
		{"zero leaves the limit to the server", logsFlags{}, "/updraft/v1/functions/fn/logs"},
		{"follow and since are sent as RFC 3339", logsFlags{limit: 5, follow: true, since: "10m"},
			"/updraft/v1/functions/fn/logs?follow=true&limit=5&since=2025-03-10T11%3A50%3A00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := logsPath("fn", tc.flags, now)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestPrintLogLine(t *testing.T) {
	line := []byte(`{"time":"2025-03-10T12:00:00.5+01:00","function":"fn","version":"$LATEST","stream":"stdout","requestId":"r-1","message":"hello\n"}` + "\n")
	noID := []byte(`{"time":"2025-03-10T11:00:00Z","message":"init"}`)
	tests := []struct {
		name  string
		line  []byte
		flags logsFlags
		want  string
	}{
		{"the default is time, request id and message", line, logsFlags{}, "2025-03-10T11:00:00.500Z  r-1  hello\n"},
		{"a line outside an invocation shows a dash", noID, logsFlags{}, "2025-03-10T11:00:00.000Z  -  init\n"},
		{"raw prints the message alone", line, logsFlags{raw: true}, "hello\n"},
		{"json prints the line as received", line, logsFlags{json: true}, strings.TrimSuffix(string(line), "\n") + "\n"},
		{"a line that is not JSON is printed as it came", []byte("garbage\n"), logsFlags{}, "garbage\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			e := newEnv(&out, &out)
			if err := e.printLogLine(tc.line, tc.flags); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
}

// cancelOnWrite cancels a context once something has been written. It
// does not embed bytes.Buffer, whose WriteString would bypass Write.
type cancelOnWrite struct {
	buf    bytes.Buffer
	cancel context.CancelFunc
}

func (c *cancelOnWrite) Write(p []byte) (int, error) {
	defer c.cancel()
	return c.buf.Write(p)
}

func TestLogsFollowStreamsUntilInterrupted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("follow") != "true" {
			http.Error(w, "want follow=true", http.StatusBadRequest)
			return
		}
		io.WriteString(w, `{"time":"2025-03-10T12:00:00Z","requestId":"r-9","message":"streamed"}`+"\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done() // keep the stream open, as the server does
	}))
	defer srv.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &cancelOnWrite{cancel: cancel}
	e := newEnv(out, io.Discard)
	e.endpointURL = srv.URL
	e.dataDir = t.TempDir()
	if err := e.runLogs(ctx, "fn", logsFlags{follow: true}, time.Now()); err != nil {
		t.Fatalf("an interrupted follow should end cleanly, got %v", err)
	}
	if want := "2025-03-10T12:00:00.000Z  r-9  streamed\n"; out.buf.String() != want {
		t.Errorf("got %q, want %q", out.buf.String(), want)
	}
}
