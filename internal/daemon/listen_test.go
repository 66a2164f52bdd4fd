package daemon

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLocalEndpointNamesLoopbackForEveryInterface(t *testing.T) {
	tests := []struct {
		addr, want string
	}{
		{"127.0.0.1:9321", "https://127.0.0.1:9321"},
		{"0.0.0.0:9321", "https://127.0.0.1:9321"},
		{"[::]:9321", "https://127.0.0.1:9321"},
		{"10.0.0.7:9321", "https://10.0.0.7:9321"},
	}
	for _, tc := range tests {
		addr, err := net.ResolveTCPAddr("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := localEndpoint("https", addr); got != tc.want {
			t.Errorf("localEndpoint(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}

func TestDefaultMaxConnectionsIsHalfTheOpenFilesUpTo10000(t *testing.T) {
	for files, want := range map[uint64]int{1024: 512, 1 << 20: 10000, 1: 1, 1<<63 - 1: 10000} {
		if got := defaultMaxConnections(files); got != want {
			t.Errorf("defaultMaxConnections(%d) = %d, want %d", files, got, want)
		}
	}
}

// TestBodyDeadlineEndsWithTheBody: a slow body is cut off at the
// deadline, but a handler that runs past it after reading its body keeps
// its request (http.Server.ReadTimeout would cancel it).
func TestBodyDeadlineEndsWithTheBody(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := withBodyDeadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "body: "+err.Error(), http.StatusRequestTimeout)
			return
		}
		time.Sleep(400 * time.Millisecond)
		if err := r.Context().Err(); err != nil {
			http.Error(w, "cancelled", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
	}), 150*time.Millisecond)
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	url := "http://" + ln.Addr().String() + "/"

	resp, err := http.Post(url, "text/plain", bytes.NewReader([]byte("quick")))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a handler running past the body deadline: %d %s, want 200", resp.StatusCode, b)
	}

	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("slow"))
		time.Sleep(600 * time.Millisecond)
		pw.Close()
	}()
	resp, err = http.Post(url, "text/plain", pr)
	if err == nil {
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), "timeout") {
			t.Errorf("a body slower than the deadline: %d %s, want 408 after a timeout", resp.StatusCode, b)
		}
	}
}
