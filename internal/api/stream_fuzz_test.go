package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// FuzzEventStream writes what a streaming function sends (its output cut
// into chunks at each 0xff byte, then the InvokeComplete fields) through
// the InvokeWithResponseStream encoder and reads the frames back with
// aws-sdk-go-v2's event-stream decoder, the one the Lambda client uses:
// every frame must decode (prelude and message CRCs, headers), the
// PayloadChunk payloads must add up to the output byte for byte, and the
// stream must end with exactly one InvokeComplete carrying the fields.
func FuzzEventStream(f *testing.F) {
	f.Add([]byte(`{"statusCode":200}`), "", "", "")
	f.Add([]byte("part one\xffpart two\xff\xff"), "", "", "U1RBUlQgUmVxdWVzdElk")
	f.Add([]byte(nil), "Runtime.ExitError", `{"errorType":"Runtime.ExitError","errorMessage":"exit status 1"}`, "")
	f.Add([]byte("\x00\x00\x00\x10"), "Sandbox.Timedout", "\xc3\x28 not utf-8", "")
	f.Fuzz(func(t *testing.T, output []byte, code, details, logResult string) {
		rec := httptest.NewRecorder()
		es := &eventStream{w: rec, rc: http.NewResponseController(rec), enc: eventstream.NewEncoder(), requestID: "r"}
		var chunks [][]byte
		if len(output) > 0 {
			chunks = bytes.Split(output, []byte{0xff})
		}
		for _, c := range chunks {
			if n, err := es.Write(c); err != nil || n != len(c) {
				t.Fatalf("Write(%q) = %d, %v", c, n, err)
			}
		}
		want := invokeComplete{ErrorCode: code, ErrorDetails: details, LogResult: logResult}
		es.complete(want)
		if es.err != nil {
			t.Fatalf("complete: %v", es.err)
		}
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != contentTypeEventStream {
			t.Fatalf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
		}
		dec := eventstream.NewDecoder()
		r := bytes.NewReader(rec.Body.Bytes())
		var got [][]byte
		var done *invokeComplete
		for {
			msg, err := dec.Decode(r, nil)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("frame %d does not decode: %v", len(got), err)
			}
			if done != nil {
				t.Fatal("a frame after InvokeComplete")
			}
			if v := msg.Headers.Get(":message-type"); v == nil || v.String() != "event" {
				t.Fatalf(":message-type %v", v)
			}
			switch typ := msg.Headers.Get(":event-type"); {
			case typ == nil:
				t.Fatal("no :event-type")
			case typ.String() == eventPayloadChunk:
				got = append(got, msg.Payload)
			case typ.String() == eventInvokeComplete:
				done = &invokeComplete{}
				if err := json.Unmarshal(msg.Payload, done); err != nil {
					t.Fatalf("InvokeComplete %q: %v", msg.Payload, err)
				}
			default:
				t.Fatalf("event type %q", typ.String())
			}
		}
		if len(got) != len(chunks) {
			t.Fatalf("%d PayloadChunk events, want %d", len(got), len(chunks))
		}
		for i := range chunks {
			if !bytes.Equal(got[i], chunks[i]) {
				t.Fatalf("chunk %d = %q, want %q", i, got[i], chunks[i])
			}
		}
		// JSON strings hold UTF-8 only; each other byte arrives as U+FFFD.
		want.ErrorCode = jsonUTF8(want.ErrorCode)
		want.ErrorDetails = jsonUTF8(want.ErrorDetails)
		want.LogResult = jsonUTF8(want.LogResult)
		if done == nil || *done != want {
			t.Fatalf("InvokeComplete %+v, want %+v", done, want)
		}
	})
}

// jsonUTF8 is s as encoding/json writes it: each byte that is not part of
// valid UTF-8 becomes U+FFFD.
func jsonUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
