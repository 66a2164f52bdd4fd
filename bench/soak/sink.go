package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// sink records which ids the queue- and stream-triggered functions
// processed. It listens inside a network namespace of its own (a veth
// pair to the host), because under full isolation a function reaches
// nothing on the host: the server is started with
// --function-egress-allow naming the sink's address, as an operator
// would allow a service on their network.
type sink struct {
	url string // http://PEER:PORT/report, what functions post to

	nsName, hostLink string
	srv              *http.Server

	mu sync.Mutex
	// seen counts deliveries per kind ("queue", "stream") and id;
	// guarded by mu.
	seen map[string]map[string]int
	// bad counts reports the sink could not read; guarded by mu.
	bad int
}

// startSink creates the namespace and serves the sink in it. The caller
// closes it.
func startSink() (*sink, error) {
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("sink: the ip command (iproute2) is missing: %w", err)
	}
	pid := os.Getpid()
	s := &sink{
		nsName:   fmt.Sprintf("updraft-soak-%d", pid),
		hostLink: fmt.Sprintf("us%d", pid%1000000),
		seen:     map[string]map[string]int{},
	}
	// 10.250.x.0/30: apart from the ranges the e2e tests' peers use
	// (10.200-249.x), so both can run at once.
	hostIP := fmt.Sprintf("10.250.%d.1", pid%250)
	peerIP := fmt.Sprintf("10.250.%d.2", pid%250)
	ip := func(args ...string) error {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("sink: ip %s: %w: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := ip("netns", "add", s.nsName); err != nil {
		return nil, err
	}
	for _, args := range [][]string{
		{"link", "add", s.hostLink, "type", "veth", "peer", "name", "eth0", "netns", s.nsName},
		{"addr", "add", hostIP + "/30", "dev", s.hostLink},
		{"link", "set", s.hostLink, "up"},
		{"-n", s.nsName, "addr", "add", peerIP + "/30", "dev", "eth0"},
		{"-n", s.nsName, "link", "set", "eth0", "up"},
		{"-n", s.nsName, "link", "set", "lo", "up"},
	} {
		if err := ip(args...); err != nil {
			s.Close()
			return nil, err
		}
	}
	ln, err := listenInNamespace("/run/netns/"+s.nsName, peerIP+":0")
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sink: listen: %w", err)
	}
	s.url = fmt.Sprintf("http://%s/report", ln.Addr())
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// peerCIDR is the address functions must be allowed to reach.
func (s *sink) peerCIDR() string {
	host, _, _ := strings.Cut(strings.TrimPrefix(s.url, "http://"), ":")
	return host + "/32"
}

// serve takes one report ({"kind", "ids"}) and answers 204.
func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	var rep struct {
		Kind string   `json:"kind"`
		IDs  []string `json:"ids"`
	}
	if err := json.NewDecoder(r.Body).Decode(&rep); err != nil || rep.Kind == "" {
		s.mu.Lock()
		s.bad++
		s.mu.Unlock()
		http.Error(w, "bad report", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	m := s.seen[rep.Kind]
	if m == nil {
		m = map[string]int{}
		s.seen[rep.Kind] = m
	}
	for _, id := range rep.IDs {
		m[id]++
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// count returns how often id of kind was delivered.
func (s *sink) count(kind, id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[kind][id]
}

// deliveries returns the deliveries of kind in total and the distinct ids.
func (s *sink) deliveries(kind string) (total, distinct int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.seen[kind] {
		total += n
	}
	return total, len(s.seen[kind])
}

// badReports returns how many reports the sink could not read.
func (s *sink) badReports() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bad
}

// Close stops the server and removes the namespace and its link.
func (s *sink) Close() error {
	var errs []error
	if s.srv != nil {
		errs = append(errs, s.srv.Close())
	}
	// Deleting the host end of the veth pair removes both ends.
	_ = exec.Command("ip", "link", "del", s.hostLink).Run()
	if out, err := exec.Command("ip", "netns", "del", s.nsName).CombinedOutput(); err != nil {
		errs = append(errs, fmt.Errorf("sink: ip netns del %s: %w: %s", s.nsName, err, out))
	}
	return errors.Join(errs...)
}

// listenInNamespace opens a TCP listener inside the network namespace at
// nsPath, from a thread that enters it and leaves again.
func listenInNamespace(nsPath, addr string) (net.Listener, error) {
	type result struct {
		ln  net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer orig.Close()
		ns, err := os.Open(nsPath)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer ns.Close()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: err}
			return
		}
		ln, lerr := net.Listen("tcp", addr)
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: err} // the thread dies locked
			return
		}
		runtime.UnlockOSThread()
		ch <- result{ln: ln, err: lerr}
	}()
	r := <-ch
	return r.ln, r.err
}
