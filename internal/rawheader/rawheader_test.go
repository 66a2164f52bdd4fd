package rawheader

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// serve starts an http.Server on a recorded loopback listener whose
// handler answers Names(r) as JSON (null when unknown), and the raw
// header values it received.
func serve(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			_ = json.NewEncoder(w).Encode(Names(r))
		})),
		ConnContext:       ConnContext,
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(Listener(ln)) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// exchange writes raw on one connection and reads n responses, returning
// each one's decoded Names.
func exchange(t *testing.T, addr, raw string, n int) []map[string]string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []map[string]string
	for i := 0; i < n; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var names map[string]string
		if resp.StatusCode == 200 && len(body) > 0 {
			if err := json.Unmarshal(body, &names); err != nil {
				t.Fatalf("response %d: %q: %v", i, body, err)
			}
		} else {
			names = map[string]string{"status": fmt.Sprint(resp.StatusCode)}
		}
		out = append(out, names)
	}
	return out
}

func TestNamesOverHTTP1(t *testing.T) {
	addr := serve(t)
	batch := "sf-external-function-query-batch-id"
	tests := []struct {
		name string
		raw  string
		want []map[string]string
	}{
		{
			name: "one request keeps its spellings",
			raw:  "GET /a HTTP/1.1\r\nhost: x\r\n" + batch + ": 1\r\nX-MiXeD: 2\r\n\r\n",
			want: []map[string]string{{"Host": "host", "Sf-External-Function-Query-Batch-Id": batch, "X-Mixed": "X-MiXeD"}},
		},
		{
			name: "keep-alive with a Content-Length body that looks like a header block",
			raw: "POST /a HTTP/1.1\r\nHost: x\r\ncontent-length: 35\r\n\r\nGET /a HTTP/1.1\r\nx-fake: 1\r\n\r\n..." +
				"GET /b HTTP/1.1\r\nHOST: x\r\nx-real: 1\r\n\r\n",
			want: []map[string]string{
				{"Host": "Host", "Content-Length": "content-length"},
				{"Host": "HOST", "X-Real": "x-real"},
			},
		},
		{
			name: "chunked body with extensions and a trailer, then a pipelined request",
			raw: "POST /c HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\n\r\n" +
				"5;ext=1\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nx-trailer: t\r\n\r\n" +
				"GET /d HTTP/1.1\r\nhost: x\r\nA-b: 1\r\n\r\n",
			want: []map[string]string{
				{"Host": "Host", "Transfer-Encoding": "transfer-encoding"},
				{"Host": "host", "A-B": "A-b"},
			},
		},
		{
			name: "bare LF lines",
			raw:  "GET /e HTTP/1.1\nhost: x\nx-one: 1\n\nGET /f HTTP/1.1\r\nhost: x\r\nx-TWO: 2\r\n\r\n",
			want: []map[string]string{
				{"Host": "host", "X-One": "x-one"},
				{"Host": "host", "X-Two": "x-TWO"},
			},
		},
		{
			name: "a request the server answers itself is skipped",
			raw:  "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\nGET /g HTTP/1.1\r\nhost: x\r\nx-after: 1\r\n\r\n",
			want: []map[string]string{
				{"status": "200"},
				{"Host": "host", "X-After": "x-after"},
			},
		},
		{
			name: "the first spelling of a repeated name wins",
			raw:  "GET /h HTTP/1.1\r\nhost: x\r\nx-dup: 1\r\nX-DUP: 2\r\n\r\n",
			want: []map[string]string{{"Host": "host", "X-Dup": "x-dup"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := exchange(t, addr, tc.raw, len(tc.want))
			// OPTIONS * is answered 200 with no body by net/http.
			for i := range got {
				if got[i] == nil && tc.want[i]["status"] == "200" {
					got[i] = map[string]string{"status": "200"}
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("names = %v\nwant    %v", got, tc.want)
			}
		})
	}
}

// TestNamesUnknownWithoutRecording: a request on a connection that is
// not recorded has no names, so callers keep the canonical ones.
func TestNamesUnknownWithoutRecording(t *testing.T) {
	r, _ := http.NewRequest("GET", "http://x/", nil)
	r.Header.Set("X-A", "1")
	if n := Names(r); n != nil {
		t.Fatalf("Names = %v, want nil", n)
	}
	r.ProtoMajor = 2
	if n := Names(r); n["X-A"] != "x-a" || n["Host"] != "host" {
		t.Fatalf("HTTP/2 names = %v, want lower case", n)
	}
}

// TestParserStops: input the parser cannot follow turns it off for good.
func TestParserStops(t *testing.T) {
	for name, in := range map[string]string{
		"HTTP/2 preface":       "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"bad Content-Length":   "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
		"gzip transfer coding": "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
		"bad chunk size":       "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"header over bound":    "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", maxHead+1),
	} {
		var p parser
		p.feed([]byte(in))
		if p.state != stateOff || p.blocks != nil {
			t.Errorf("%s: state %d with %d blocks, want off", name, p.state, len(p.blocks))
		}
		p.feed([]byte("GET / HTTP/1.1\r\n\r\n"))
		if p.blocks != nil {
			t.Errorf("%s: recorded after stopping", name)
		}
	}
}

// FuzzParser: feeding the same bytes in any split gives the same blocks
// and state as feeding them at once, and the queue stays bounded.
func FuzzParser(f *testing.F) {
	f.Add([]byte("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n"), []byte{1, 7, 3})
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.0\n\n"), []byte{2, 40})
	f.Add([]byte("\r\n\r\nGET / HTTP/1.1\r\nA: b\r\n\r\n"), []byte{0})
	f.Fuzz(func(t *testing.T, data, splits []byte) {
		var whole parser
		whole.feed(data)
		var parts parser
		rest := data
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if len(splits) > 0 {
				n = min(n, int(splits[i%len(splits)])+1)
			}
			parts.feed(rest[:n])
			rest = rest[n:]
		}
		if whole.state != parts.state || whole.remain != parts.remain || !reflect.DeepEqual(whole.blocks, parts.blocks) {
			t.Fatalf("split feeding differs: state %d/%d remain %d/%d blocks %q / %q",
				whole.state, parts.state, whole.remain, parts.remain, whole.blocks, parts.blocks)
		}
		if whole.queued > maxQueued || len(whole.head) > maxHead+len(data) {
			t.Fatalf("unbounded: queued %d head %d", whole.queued, len(whole.head))
		}
		for _, b := range whole.blocks {
			namesOf(b)
		}
	})
}

// BenchmarkRead is the recording cost of one keep-alive request with a
// small body, as the warm invoke path pays it: feeding the bytes, taking
// the block, and no Names (only the HTTP proxy asks).
func BenchmarkRead(b *testing.B) {
	req := []byte("POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: 127.0.0.1:9321\r\n" +
		"User-Agent: aws-sdk-go-v2/1.36.3 os/linux lang/go#1.26\r\nContent-Length: 16\r\n" +
		"Authorization: AWS4-HMAC-SHA256 Credential=AKIA/20261207/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef\r\n" +
		"X-Amz-Date: 20261207T000000Z\r\nAccept-Encoding: gzip\r\n\r\n{\"name\":\"world\"}")
	c := &Conn{}
	b.ReportAllocs()
	b.SetBytes(int64(len(req)))
	for b.Loop() {
		c.mu.Lock()
		c.p.feed(req)
		c.mu.Unlock()
		if !c.take("POST", "/2015-03-31/functions/echo/invocations") {
			b.Fatal("no block")
		}
	}
}

// BenchmarkServer is a keep-alive POST round trip through a loopback
// http.Server with and without recording, the handler taking the block
// (as every API request does) and the HTTP proxy's Names on top.
func BenchmarkServer(b *testing.B) {
	body := strings.Repeat("x", 64)
	for _, mode := range []string{"plain", "recorded", "recorded+names"} {
		b.Run(mode, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				if mode == "recorded+names" && Names(r) == nil {
					b.Error("no names")
				}
				_, _ = io.WriteString(w, "ok")
			})
			srv := &http.Server{Handler: h}
			if mode != "plain" {
				srv.Handler, srv.ConnContext, ln = Handler(h), ConnContext, Listener(ln)
			}
			go func() { _ = srv.Serve(ln) }()
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			url := "http://" + ln.Addr().String() + "/2015-03-31/functions/echo/invocations"
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest("POST", url, strings.NewReader(body))
				req.Header["x-amz-date"] = []string{"20261207T000000Z"}
				req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIA/20261207/us-east-1/lambda/aws4_request")
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// TestConnKeepsTCPFeatures: the wrapper still offers what net/http uses
// on a *net.TCPConn (half-close before closing after an answer).
func TestConnKeepsTCPFeatures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c) // ends at the client's half-close
		done <- b
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := &Conn{Conn: raw}
	defer c.Close()
	if _, err := c.ReadFrom(strings.NewReader("hello")); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-done:
		if string(b) != "hello" {
			t.Fatalf("peer read %q", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("CloseWrite did not half-close the connection")
	}
}
