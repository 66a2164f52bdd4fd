package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// bareBootstrap measures what a Go cold start costs without updraft: the
// echo bootstrap started directly (fork and exec, no sandbox, no cgroup)
// against a minimal Runtime API served by the bench itself, timed from
// just before exec to the arrival of its first response. It is the part
// of a cold start that belongs to the function and the machine (exec, the
// Go runtime and package initialisation, the first HTTP exchange); the
// rest of the cold-start figure is updraft's.
type bareBootstrap struct {
	bin  string
	addr string
	stub *runtimeStub
	srv  *http.Server
	n    int // starts so far, for request ids
}

// newBareBootstrap serves the stub Runtime API for the bootstrap bin.
func newBareBootstrap(bin string) (*bareBootstrap, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bare bootstrap: listen: %w", err)
	}
	b := &bareBootstrap{bin: bin, addr: ln.Addr().String(), stub: &runtimeStub{answered: make(chan string, 1)}}
	b.srv = &http.Server{Handler: b.stub}
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

// Close stops the stub Runtime API.
func (b *bareBootstrap) Close() error { return b.srv.Close() }

// start runs the bootstrap once and returns exec → first response.
func (b *bareBootstrap) start() (time.Duration, error) {
	b.n++
	id := "cold-floor-" + strconv.Itoa(b.n)
	b.stub.setRequestID(id)
	cmd := exec.Command(b.bin)
	cmd.Env = []string{
		"AWS_LAMBDA_RUNTIME_API=" + b.addr,
		"AWS_LAMBDA_FUNCTION_NAME=cold-floor",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"PATH=/usr/local/bin:/usr/bin:/bin",
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("bare bootstrap: start: %w", err)
	}
	var got string
	select {
	case got = <-b.stub.answered:
	case <-time.After(10 * time.Second):
	}
	elapsed := time.Since(start)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if got != id {
		return 0, fmt.Errorf("bare bootstrap: no response for %s within 10s", id)
	}
	return elapsed, nil
}

// bareInterpreter runs path with args in an empty environment (what
// `env -i path args...` runs, without env's own exec) and returns the
// time from exec to exit: the interpreter's own start-up and shutdown,
// the least any function of its runtime can cost.
func bareInterpreter(path string, args ...string) (time.Duration, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = []string{} // not nil: nil would inherit the bench's environment
	cmd.Dir = "/"
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w: %s", path, strings.Join(args, " "), err, snippet(stderr.Bytes()))
	}
	return elapsed, nil
}

// runtimeStub serves the two Runtime API calls a warm-up needs: the first
// /next of a process gets one event, a later /next waits until the process
// is killed, and a /response is reported on answered.
type runtimeStub struct {
	mu        sync.Mutex
	requestID string
	delivered bool
	answered  chan string
}

func (s *runtimeStub) setRequestID(id string) {
	s.mu.Lock()
	s.requestID, s.delivered = id, false
	s.mu.Unlock()
}

func (s *runtimeStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix = "/2018-06-01/runtime/invocation/"
	switch {
	case r.Method == http.MethodGet && r.URL.Path == prefix+"next":
		s.mu.Lock()
		id, first := s.requestID, !s.delivered
		s.delivered = true
		s.mu.Unlock()
		if !first {
			<-r.Context().Done() // the process is killed before its second event
			return
		}
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:cold-floor")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"hello":"world"}`))
	case r.Method == http.MethodPost && r.URL.Path == prefix+s.currentID()+"/response":
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
		select {
		case s.answered <- s.currentID():
		default:
		}
	default:
		fmt.Fprintf(os.Stderr, "bench: cold floor: unexpected %s %s\n", r.Method, r.URL.Path)
		http.Error(w, "unexpected", http.StatusBadRequest)
	}
}

func (s *runtimeStub) currentID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requestID
}
