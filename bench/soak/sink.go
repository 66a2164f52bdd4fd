package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/updraft/updraft/internal/testutil/peerns"
)

// sink records which ids the queue- and stream-triggered functions
// processed. It listens inside a network namespace of its own (a veth
// pair to the host), because under full isolation a function reaches
// nothing on the host: the server is started with
// --function-egress-allow naming the sink's address, as an operator
// would allow a service on their network.
type sink struct {
	url string // http://PEER:PORT/report, what functions post to

	peer *peerns.Peer

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
	if why := peerns.Unavailable(); why != "" {
		return nil, fmt.Errorf("sink: %s", why)
	}
	s := &sink{seen: map[string]map[string]int{}}
	// 10.250.x.0/30: apart from the ranges the e2e tests' peers use
	// (10.200-249.x), so both can run at once.
	pid := os.Getpid()
	p, err := peerns.Start(peerns.Config{
		Name:     fmt.Sprintf("updraft-soak-%d", pid),
		HostLink: fmt.Sprintf("us%d", pid%1000000),
		HostIP:   fmt.Sprintf("10.250.%d.1", pid%250),
		PeerIP:   fmt.Sprintf("10.250.%d.2", pid%250),
	}, http.HandlerFunc(s.serve))
	if err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	s.peer = p
	s.url = fmt.Sprintf("http://%s/report", p.Addr())
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
func (s *sink) Close() error { return s.peer.Close() }
