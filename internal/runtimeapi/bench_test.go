package runtimeapi

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
)

// benchEvent is a typical small event.
const benchEvent = `{"key1":"value1","key2":"value2","key3":"value3"}`

// BenchmarkInvoke measures a warm invoke end to end: Invoke hands the event
// to a runtime parked in /next (a goroutine using net/http's client, one
// keep-alive connection), which posts it back to /response. Compare with
// BenchmarkLoopbackRoundTrip: the target is about two round trips.
func BenchmarkInvoke(b *testing.B) {
	s, err := New(Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	startEchoRuntime(b, s)
	if err := s.WaitInit(b.Context()); err != nil {
		b.Fatal(err)
	}
	benchPayload := []byte(benchEvent)
	inv := &Invocation{
		RequestID:          "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
		Payload:            benchPayload,
		InvokedFunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:bench",
		TraceID:            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
	}
	ctx := b.Context()
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		resp, err := s.Invoke(ctx, inv)
		if err != nil {
			b.Fatal(err)
		}
		if len(resp.Payload) != len(benchPayload) {
			b.Fatalf("payload %q", resp.Payload)
		}
		// A real pool waits for the runtime to park before the next
		// invoke; the echo runtime is usually back already.
		<-s.Parked()
	}
}

// BenchmarkLoopbackRoundTrip is the floor: one plain net/http request and
// response on a loopback keep-alive connection, same payload both ways.
func BenchmarkLoopbackRoundTrip(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })

	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 2}
	b.Cleanup(tr.CloseIdleConnections)
	benchPayload := []byte(benchEvent)
	client := &http.Client{Transport: tr}
	url := "http://" + ln.Addr().String() + "/"
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	for b.Loop() {
		resp, err := client.Post(url, "application/json", bytes.NewReader(benchPayload))
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || len(body) != len(benchPayload) {
			b.Fatalf("body %q, %v", body, err)
		}
	}
}
