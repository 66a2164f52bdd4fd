package sfn

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

// FuzzHandler sends fuzzed bodies to every operation over a real store:
// the answer is always JSON, never a 5xx, and an error carries __type
// and message.
func FuzzHandler(f *testing.F) {
	ops := make([]string, 0, len(operations))
	for op := range operations {
		ops = append(ops, op)
	}
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`
	f.Add(uint8(0), `{"name":"m","definition":`+jsonString(def)+`,"roleArn":"arn:aws:iam::123456789012:role/r"}`)
	f.Add(uint8(1), `{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:m","input":"{}"}`)
	f.Add(uint8(2), `{"taskToken":"eyJlIjoieCIsImYiOiJmMCIsInMiOjEsIm4iOiJ4In0"}`)
	f.Add(uint8(3), `{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:m:x","maxResults":-1}`)
	f.Add(uint8(4), `[]`)
	logger := testutil.Logger(f, slog.LevelError)
	st := storetest.Open(f, f.TempDir(), logger)
	svc, err := New(context.Background(), Config{Region: "us-east-1", AccountID: "123456789012", Workers: 2},
		Deps{JetStream: st.JetStream(), Logger: logger})
	if err != nil {
		f.Fatal(err)
	}
	h := svc.Handler(nil)
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		op := ops[int(which)%len(ops)]
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(body)))
		req.Header.Set("X-Amz-Target", TargetPrefix+op)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: %d %s", op, body, rec.Code, rec.Body.String())
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %q: answer %q is not JSON", op, body, rec.Body.String())
		}
		if rec.Code != http.StatusOK && (out["__type"] == nil || out["message"] == nil) {
			t.Fatalf("%s %q: error %s lacks __type or message", op, body, rec.Body.String())
		}
	})
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
