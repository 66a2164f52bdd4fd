//go:build linux

// Package peerns makes a peer network namespace for tests and the soak: a
// namespace joined to the host by a veth pair, with an HTTP server
// listening inside it. It stands for a server on the operator's network,
// which functions under full isolation reach only through egress that the
// updraft server allows for the peer's address.
package peerns

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Config names a peer: its namespace, the host's end of the veth pair, and
// the two addresses of the /30 between them. Callers choose names and
// addresses that differ between processes running at once.
type Config struct {
	Name     string // network namespace name (ip netns)
	HostLink string // host-side veth interface, at most 15 bytes
	HostIP   string
	PeerIP   string
}

// Peer is a running peer namespace; Close removes it.
type Peer struct {
	Config
	// Port is the port the HTTP server listens on at PeerIP.
	Port int
	srv  *http.Server
}

// Unavailable says why this machine cannot make a peer namespace (not
// root, no ip command), or "" when it can.
func Unavailable() string {
	if os.Geteuid() != 0 {
		return "creating a network namespace needs root"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "the ip command (iproute2) is missing"
	}
	return ""
}

// Start creates the namespace described by c and serves handler at
// PeerIP on a port the kernel chooses. On error nothing is left behind.
//
// A set-up that fails is tried twice more: ip netns add run at the same
// moment by another process (tests in parallel) can make the new
// namespace unusable for an instant ("setting the network namespace
// failed: Invalid argument").
func Start(c Config, handler http.Handler) (*Peer, error) {
	if why := Unavailable(); why != "" {
		return nil, errors.New("peerns: " + why)
	}
	var err error
	for attempt := range 3 {
		var p *Peer
		if p, err = start(c, handler); err == nil {
			return p, nil
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	return nil, err
}

func start(c Config, handler http.Handler) (*Peer, error) {
	p := &Peer{Config: c}
	if err := ip("netns", "add", c.Name); err != nil {
		return nil, err
	}
	for _, args := range [][]string{
		{"link", "add", c.HostLink, "type", "veth", "peer", "name", "eth0", "netns", c.Name},
		{"addr", "add", c.HostIP + "/30", "dev", c.HostLink},
		{"link", "set", c.HostLink, "up"},
		{"-n", c.Name, "addr", "add", c.PeerIP + "/30", "dev", "eth0"},
		{"-n", c.Name, "link", "set", "eth0", "up"},
		{"-n", c.Name, "link", "set", "lo", "up"},
	} {
		if err := ip(args...); err != nil {
			_ = p.Close()
			return nil, err
		}
	}
	ln, err := ListenInNamespace("/run/netns/"+c.Name, c.PeerIP+":0")
	if err != nil {
		_ = p.Close()
		return nil, fmt.Errorf("peerns: listen in %s: %w", c.Name, err)
	}
	p.Port = ln.Addr().(*net.TCPAddr).Port
	p.srv = &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// Addr is PeerIP:Port, where the HTTP server listens.
func (p *Peer) Addr() string { return fmt.Sprintf("%s:%d", p.PeerIP, p.Port) }

// Close stops the server and removes the namespace and its link.
func (p *Peer) Close() error {
	var errs []error
	if p.srv != nil {
		errs = append(errs, p.srv.Close())
	}
	// Deleting the host end of the veth pair removes both ends.
	_ = exec.Command("ip", "link", "del", p.HostLink).Run()
	if out, err := exec.Command("ip", "netns", "del", p.Name).CombinedOutput(); err != nil {
		errs = append(errs, fmt.Errorf("peerns: ip netns del %s: %w: %s", p.Name, err, out))
	}
	return errors.Join(errs...)
}

// ip runs the ip command with args.
func ip(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("peerns: ip %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// ListenInNamespace opens a TCP listener inside the network namespace at
// nsPath, from a thread that enters it and leaves again.
func ListenInNamespace(nsPath, addr string) (net.Listener, error) {
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
