package dynamodb

import (
	"encoding/json"
	"hash/crc32"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/store"
	"github.com/updraft/updraft/internal/stream"
	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

// newHandler starts a Service on an embedded store, with streams.
func newHandler(t testing.TB) *Handler {
	t.Helper()
	logger := testutil.Logger(t, slog.LevelInfo)
	return handlerOn(t, storetest.Open(t, t.TempDir(), logger), logger)
}

// handlerOn starts a Service on st: two on one store are two nodes.
func handlerOn(t testing.TB, st *store.Store, logger *slog.Logger) *Handler {
	t.Helper()
	streams := stream.New(st.JetStream(), 1, logger)
	s, err := New(t.Context(), st.JetStream(), st.Conn(), logger, Options{Region: "us-east-1", Account: "000000000000", TTLInterval: time.Hour, Streams: streams})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return &Handler{Service: s}
}

// call runs one operation and returns the status and the decoded body;
// it checks the X-Amz-Crc32 header of every answer.
func call(t testing.TB, h *Handler, op, body string) (int, map[string]any) {
	t.Helper()
	prefix := TargetPrefix
	if strings.HasPrefix(op, "Streams.") {
		prefix, op = StreamsTargetPrefix, strings.TrimPrefix(op, "Streams.")
	}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("X-Amz-Target", prefix+op)
	r.Header.Set("Content-Type", "application/x-amz-json-1.0")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	b := w.Body.Bytes()
	if crc := w.Header().Get("X-Amz-Crc32"); crc != strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10) {
		t.Fatalf("%s: X-Amz-Crc32 %s does not match the body", op, crc)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v: %s", op, err, b)
	}
	return w.Code, m
}

// must runs an operation that must succeed.
func must(t testing.TB, h *Handler, op, body string) map[string]any {
	t.Helper()
	code, m := call(t, h, op, body)
	if code != 200 {
		t.Fatalf("%s %s: %d %v", op, body, code, m)
	}
	return m
}

// errType is the short error type of an error answer.
func errType(m map[string]any) string {
	s, _ := m["__type"].(string)
	return strings.TrimPrefix(s, errPrefix)
}
