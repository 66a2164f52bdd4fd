package store

import (
	"net"
	"sort"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ClusterStatus is what this node's embedded nats-server knows of the
// cluster, from its own monitoring (Jsz: the JetStream meta group;
// Routez: the routes). It is shown on /healthz and by `updraft cluster
// status`.
type ClusterStatus struct {
	// Name is the NATS cluster's name.
	Name string `json:"name"`
	// Node is this node's server name.
	Node string `json:"node"`
	// Leader is the server name of the JetStream meta leader; "" while
	// the cluster has none (no quorum).
	Leader string `json:"leader"`
	// Size is the number of servers in the meta group, offline ones too
	// (those listed in --join but never seen are not counted).
	Size int `json:"size"`
	// Replicas is the replica count new objects get.
	Replicas int `json:"replicas"`
	// Peers lists the meta group's servers, this node included.
	Peers []PeerStatus `json:"peers"`
	// Routes lists this node's open routes.
	Routes []RouteStatus `json:"routes"`
}

// PeerStatus is one server of the JetStream meta group.
type PeerStatus struct {
	Name string `json:"name"`
	// Self marks this node; Leader the meta leader.
	Self   bool `json:"self,omitempty"`
	Leader bool `json:"leader,omitempty"`
	// Current says the peer is caught up with the meta group's log; Lag
	// is how many entries it is behind.
	Current bool   `json:"current"`
	Offline bool   `json:"offline,omitempty"`
	Lag     uint64 `json:"lag,omitempty"`
	// LastSeen is how long ago this node last heard from the peer
	// ("" for itself).
	LastSeen string `json:"last_seen,omitempty"`
}

// RouteStatus is one route to another server.
type RouteStatus struct {
	Name string `json:"name"`
	Addr string `json:"addr"`
	RTT  string `json:"rtt,omitempty"`
}

// Cluster returns the cluster as this node's server sees it; nil when the
// store is not an embedded cluster member.
func (s *Store) Cluster() *ClusterStatus {
	if !s.clustered() || s.ns == nil {
		return nil
	}
	cs := &ClusterStatus{Name: s.cluster.name, Node: s.cluster.node, Replicas: s.Replicas(), Size: 1}
	if jsi, err := s.ns.Jsz(&server.JSzOptions{}); err == nil && jsi.Meta != nil {
		m := jsi.Meta
		cs.Leader = m.Leader
		cs.Peers = append(cs.Peers, PeerStatus{Name: s.cluster.node, Self: true, Leader: m.Leader == s.cluster.node,
			Current: s.ns.JetStreamIsCurrent()})
		for _, p := range m.Replicas {
			if p == nil || p.Name == s.cluster.node {
				continue
			}
			cs.Peers = append(cs.Peers, PeerStatus{Name: p.Name, Leader: p.Name == m.Leader, Current: p.Current,
				Offline: p.Offline, Lag: p.Lag, LastSeen: p.Active.Round(time.Millisecond).String()})
		}
	}
	sort.Slice(cs.Peers, func(i, j int) bool { return cs.Peers[i].Name < cs.Peers[j].Name })
	cs.Size = max(len(cs.Peers), 1)
	if rz, err := s.ns.Routez(&server.RoutezOptions{}); err == nil {
		seen := map[string]bool{}
		for _, r := range rz.Routes {
			// A route pool opens several connections to one server:
			// show the server once.
			if r == nil || seen[r.RemoteName] {
				continue
			}
			seen[r.RemoteName] = true
			cs.Routes = append(cs.Routes, RouteStatus{Name: r.RemoteName, Addr: net.JoinHostPort(r.IP, strconv.Itoa(r.Port)), RTT: r.RTT})
		}
	}
	sort.Slice(cs.Routes, func(i, j int) bool { return cs.Routes[i].Name < cs.Routes[j].Name })
	return cs
}
