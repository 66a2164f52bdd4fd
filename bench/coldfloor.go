package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"time"
)

// coldFloor measures what a cold start costs without updraft: the echo
// bootstrap started directly (fork and exec, no sandbox, no cgroup) against
// a minimal Runtime API served by the bench itself, timed from just before
// exec to the arrival of its first response. It is the part of a cold
// start that belongs to the function and the machine (exec, the Go
// runtime and package initialisation, the first HTTP exchange); the rest of
// the cold-start figure is updraft's. It returns the p50 over n starts.
func coldFloor(fnBin string, n int) (time.Duration, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("cold floor: listen: %w", err)
	}
	stub := &runtimeStub{answered: make(chan string, 1)}
	srv := &http.Server{Handler: stub}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	var starts []time.Duration
	for i := range n {
		id := "cold-floor-" + strconv.Itoa(i)
		stub.setRequestID(id)
		cmd := exec.Command(fnBin)
		cmd.Env = []string{
			"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(),
			"AWS_LAMBDA_FUNCTION_NAME=cold-floor",
			"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
			"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
			"PATH=/usr/local/bin:/usr/bin:/bin",
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return 0, fmt.Errorf("cold floor: start bootstrap: %w", err)
		}
		var got string
		select {
		case got = <-stub.answered:
		case <-time.After(10 * time.Second):
		}
		elapsed := time.Since(start)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if got != id {
			return 0, fmt.Errorf("cold floor: no response for %s within 10s", id)
		}
		starts = append(starts, elapsed)
	}
	slices.Sort(starts)
	return starts[len(starts)/2], nil
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
