package auth

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// watchedBody is a request body that counts what is read from it and,
// with a gate, stops after half until the gate is closed.
type watchedBody struct {
	data    []byte
	off     int
	read    *atomic.Int64
	gate    chan struct{} // nil: no pause
	paused  *atomic.Int64 // incremented once when the pause begins
	waiting bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	if b.gate != nil && b.off >= len(b.data)/2 && !b.waiting {
		b.waiting = true
		b.paused.Add(1)
		<-b.gate
	}
	if b.off >= len(b.data) {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 16<<10)], b.data[b.off:])
	b.off += n
	b.read.Add(int64(n))
	return n, nil
}

func (b *watchedBody) Close() error { return nil }

// spooledBytes is the size of every file in dir.
func spooledBytes(t *testing.T, dir string) int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		if fi, err := os.Stat(filepath.Join(dir, e.Name())); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func TestVerifyReadsNoBodyOfAnUnknownKey(t *testing.T) {
	spool := t.TempDir()
	v, err := New([]Credentials{testCreds()}, WithMemoryBodyBytes(0), WithSpoolDir(spool))
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("z"), 1<<20)
	for _, stated := range []bool{false, true} {
		name := "without a stated hash"
		if stated {
			name = "with a stated hash"
		}
		t.Run(name, func(t *testing.T) {
			var read atomic.Int64
			r := httptest.NewRequest("PUT", "http://localhost/2015-03-31/functions/f/code", nil)
			r.Body, r.ContentLength = &watchedBody{data: data, read: &read}, int64(len(data))
			if stated {
				r.Header.Set("X-Amz-Content-Sha256", sha256Hex(data))
			}
			sign(t, r, data, signOpts{creds: Credentials{AccessKeyID: "AKIANOBODYKNOWSTHIS1", SecretAccessKey: "x"}})
			w := httptest.NewRecorder()
			v.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				t.Error("the handler ran for an unknown key")
			})).ServeHTTP(w, r)
			if got := w.Header().Get("X-Amzn-ErrorType"); got != TypeUnrecognizedClient {
				t.Errorf("error type = %q, want %s", got, TypeUnrecognizedClient)
			}
			if n := read.Load(); n != 0 {
				t.Errorf("%d body bytes were read", n)
			}
			if entries, _ := os.ReadDir(spool); len(entries) != 0 {
				t.Errorf("the spool directory holds %d files", len(entries))
			}
		})
	}
}

func TestVerifyKeepsConcurrentUnverifiedBodiesWithinTheBudget(t *testing.T) {
	const (
		budgetBytes = 1 << 20
		uploads     = 8
		size        = 384 << 10 // three fit the budget only if they came one at a time
	)
	spool := t.TempDir()
	v, err := New([]Credentials{testCreds()}, WithMemoryBodyBytes(0), WithSpoolDir(spool),
		WithMaxBodyBytes(budgetBytes), WithSpoolBudget(budgetBytes))
	if err != nil {
		t.Fatal(err)
	}
	h := v.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("the handler ran for a wrong signature")
	}))
	data := bytes.Repeat([]byte("q"), size)
	gate := make(chan struct{})
	var paused, done, read atomic.Int64
	codes := make([]string, uploads)
	var wg sync.WaitGroup
	for i := range uploads {
		// A known key ID, a wrong secret and no stated hash: the body
		// must be read before the signature can be found wrong.
		r := httptest.NewRequest("PUT", "http://localhost/2015-03-31/functions/f/code", nil)
		r.Body = &watchedBody{data: data, read: &read, gate: gate, paused: &paused}
		r.ContentLength = int64(size)
		if i%2 == 1 {
			r.ContentLength = -1 // chunked: reserved as it arrives
		}
		sign(t, r, data, signOpts{creds: Credentials{AccessKeyID: testCreds().AccessKeyID, SecretAccessKey: "wrong"}})
		wg.Go(func() {
			defer done.Add(1)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			codes[i] = w.Header().Get("X-Amzn-ErrorType")
			if codes[i] == TypeSlowDown && w.Code != http.StatusServiceUnavailable {
				t.Errorf("SlowDown with status %d, want 503", w.Code)
			}
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for paused.Load()+done.Load() < uploads {
		if time.Now().After(deadline) {
			close(gate)
			t.Fatalf("uploads never settled: %d paused, %d done", paused.Load(), done.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := spooledBytes(t, spool); n > budgetBytes {
		t.Errorf("%d bytes spooled at once, budget %d", n, budgetBytes)
	}
	close(gate)
	wg.Wait()

	var slow, mismatch int
	for _, c := range codes {
		switch c {
		case TypeSlowDown:
			slow++
		case TypeInvalidSignature:
			mismatch++
		default:
			t.Errorf("error type %q, want SlowDown or InvalidSignatureException", c)
		}
	}
	if slow == 0 || mismatch == 0 {
		t.Errorf("%d SlowDown and %d InvalidSignatureException; want some of each", slow, mismatch)
	}
	v.budget.mu.Lock()
	used, peak := v.budget.used, v.budget.peak
	v.budget.mu.Unlock()
	if peak > budgetBytes || used != 0 {
		t.Errorf("budget peak %d (limit %d), %d still held after every request ended", peak, budgetBytes, used)
	}
	if entries, _ := os.ReadDir(spool); len(entries) != 0 {
		t.Errorf("the spool directory still holds %d files", len(entries))
	}
}

func TestBusyIsARetryableSlowDown(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, errors.Join(errBusy()))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("X-Amzn-ErrorType") != TypeSlowDown {
		t.Errorf("got %d %q, want 503 SlowDown", w.Code, w.Header().Get("X-Amzn-ErrorType"))
	}
}
