package connlimit

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// serve starts an http.Server with a Limiter of cfg around h on loopback
// and returns its address.
func serve(t *testing.T, cfg Config, h http.Handler) (string, *Limiter) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(cfg)
	srv := &http.Server{Handler: l.Handler(h), ConnState: l.ConnState, ConnContext: l.ConnContext}
	go srv.Serve(l.Listener(ln))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), l
}

func get(t *testing.T, addr string) *http.Response {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func waitLen(t *testing.T, l *Limiter, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for l.Len() != n {
		if time.Now().After(deadline) {
			t.Fatalf("limiter holds %d connections, want %d", l.Len(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestIdleConnectionsAreClosedToServeANewOne(t *testing.T) {
	addr, l := serve(t, Config{Max: 3}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	var idle []net.Conn
	for range 3 {
		idle = append(idle, dial(t, addr))
	}
	waitLen(t, l, 3)
	if resp := get(t, addr); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	// The oldest idle connection was the one closed.
	idle[0].SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := idle[0].Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("oldest idle connection: read %v, want EOF", err)
	}
	if l.Len() > 3 {
		t.Errorf("limiter holds %d connections, want at most 3", l.Len())
	}
}

func TestBusyConnectionsMakeANewOneWaitThenGet503(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	addr, l := serve(t, Config{Max: 2, Wait: 200 * time.Millisecond}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			started <- struct{}{}
			<-release
		}
	}))
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	done := make(chan struct{}, 2)
	for range 2 {
		go func() {
			if resp, err := c.Get("http://" + addr + "/block"); err == nil {
				resp.Body.Close()
			}
			done <- struct{}{}
		}()
	}
	<-started
	<-started
	start := time.Now()
	resp := get(t, addr)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Errorf("answered 503 after %s, want a wait of about 200ms first", waited)
	}

	// A slot that frees while the request waits serves it.
	go func() {
		time.Sleep(50 * time.Millisecond)
		close(release)
	}()
	c2 := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := c2.Get("http://" + addr + "/"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("request after a slot freed: %v %v", resp, err)
	}
	<-done
	<-done
	waitLen(t, l, 0)
}
