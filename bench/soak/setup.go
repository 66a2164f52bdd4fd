package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/updraft/updraft/bench/internal/benchzip"
)

// zipper makes deployment zips of the soak function.
type zipper struct{ bootstrap []byte }

func newZipper(bootstrapPath string) (*zipper, error) {
	b, err := os.ReadFile(bootstrapPath)
	if err != nil {
		return nil, fmt.Errorf("read soakfn: %w", err)
	}
	return &zipper{bootstrap: b}, nil
}

// zip returns a zip holding bootstrap and, when pad > 0, a file of pad
// random bytes stored uncompressed, so the zip is about that much larger
// and every zip differs.
func (z *zipper) zip(pad int) ([]byte, error) {
	entries := []benchzip.Entry{{Name: "bootstrap", Data: z.bootstrap, Mode: 0o755}}
	if pad > 0 {
		b := make([]byte, pad)
		_, _ = rand.Read(b)
		entries = append(entries, benchzip.Entry{Name: "pad.bin", Data: b, Mode: 0o644, Store: true})
	}
	return benchzip.Zip(entries...)
}

// deploy creates the functions, the stream and both event source mappings.
func deploy(ctx context.Context, a *api, z *zipper, sinkURL string) error {
	code, err := z.zip(0)
	if err != nil {
		return err
	}
	for _, fn := range []string{fnSync, fnEvent, fnQueue, fnStream, fnUpload} {
		_, err := a.mustDo(ctx, http.MethodPost, "/2015-03-31/functions", "lambda", map[string]any{
			"FunctionName": fn, "Runtime": "provided.al2023", "Handler": "bootstrap",
			"Role": "arn:aws:iam::000000000000:role/soak", "Timeout": 10, "MemorySize": 128,
			"Code":        map[string]string{"ZipFile": base64.StdEncoding.EncodeToString(code)},
			"Environment": map[string]any{"Variables": map[string]string{"SOAK_SINK_URL": sinkURL}},
		}, http.StatusCreated)
		if err != nil {
			return fmt.Errorf("create function %s: %w", fn, err)
		}
	}
	if resp, err := a.kinesis(ctx, "CreateStream", []byte(`{"StreamName":"`+stream+`","ShardCount":2}`)); err != nil || resp.status != http.StatusOK {
		return fmt.Errorf("create stream: %w", errOf(resp, err))
	}
	if _, err := a.mustDo(ctx, http.MethodPost, "/2015-03-31/event-source-mappings", "lambda", map[string]any{
		"FunctionName": fnQueue, "EventSourceArn": "arn:aws:sqs:" + region + ":000000000000:" + queue, "BatchSize": 10,
	}, http.StatusAccepted, http.StatusCreated, http.StatusOK); err != nil {
		return fmt.Errorf("queue mapping: %w", err)
	}
	if _, err := a.mustDo(ctx, http.MethodPost, "/2015-03-31/event-source-mappings", "lambda", map[string]any{
		"FunctionName": fnStream, "EventSourceArn": "arn:aws:kinesis:" + region + ":000000000000:stream/" + stream,
		"StartingPosition": "TRIM_HORIZON", "BatchSize": 100,
	}, http.StatusAccepted, http.StatusCreated, http.StatusOK); err != nil {
		return fmt.Errorf("stream mapping: %w", err)
	}
	return nil
}

// warmUp sends one request of each kind through the loader and waits
// until each was processed, so that a soak whose functions cannot reach
// the sink fails at once with the reason rather than after its run.
func warmUp(ctx context.Context, l *loader, sk *sink, within time.Duration) error {
	deadline := time.Now().Add(within)
	type step struct {
		kind string
		f    func(context.Context) (*accepted, string, error)
	}
	for _, s := range []step{{"sync", l.syncInvoke}, {"event", l.eventInvoke}, {"queue", l.sendMessage}, {"stream", l.putRecord}, {"upload", l.upload}} {
		var acc *accepted
		var err error
		for time.Now().Before(deadline) {
			var class string
			start := time.Now()
			acc, class, err = s.f(ctx)
			l.ledgers[s.kind].record("warm-up", time.Since(start), acc, class, err)
			if err == nil {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("warm-up %s: %w", s.kind, err)
		}
		switch s.kind {
		case "event":
			rec, err := waitRecord(ctx, l.api, acc.requestID, time.Until(deadline))
			if err != nil {
				return fmt.Errorf("warm-up event: %w", err)
			}
			if rec.Status != "SUCCEEDED" {
				return fmt.Errorf("warm-up event: record %s %s %s", rec.Status, rec.Condition, rec.Error)
			}
		case "queue", "stream":
			for sk.count(s.kind, acc.id) == 0 {
				if time.Now().After(deadline) {
					return fmt.Errorf("warm-up %s: the sink at %s never heard of %s within %s (can the functions reach it through egress? see the server log)", s.kind, sk.url, acc.id, within)
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
	return nil
}
