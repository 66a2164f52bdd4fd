//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The addresses a full-mode sandbox sees inside its own network namespace.
// Nothing outside the namespace can reach them: the server creates the
// listening sockets inside it and serves them from the host side.
const (
	// RuntimeAPIAddrFull is where the Runtime and Extensions APIs of a
	// full-mode sandbox listen, as on Lambda (AWS_LAMBDA_RUNTIME_API).
	RuntimeAPIAddrFull = "127.0.0.1:9001"
	// PlatformAPIAddrFull is where a full-mode sandbox reaches the
	// server's own API (its AWS_ENDPOINT_URL): a socket of the namespace
	// that the server serves, since the host's loopback is out of reach.
	PlatformAPIAddrFull = "127.0.0.1:9321"
)

// The user-mode network of egress mode (slirp4netns's defaults): the
// sandbox is 10.0.2.100 on tap0, the stack's gateway, which leads to the
// host, is 10.0.2.2 and its DNS forwarder 10.0.2.3.
const (
	egressDevice  = "tap0"
	egressGateway = "10.0.2.2"
	egressDNS     = "10.0.2.3"
	egressMTU     = 65520
)

// egressSetupTimeout bounds the start of the user-mode network stack.
const egressSetupTimeout = 10 * time.Second

// deniedRanges are never reached from egress mode unless the operator
// allows them: private, shared, link-local, loopback, multicast, reserved
// and benchmarking ranges, where the host's own services and its
// neighbours live.
var deniedRanges = []string{
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
	"172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15",
	"224.0.0.0/4", "240.0.0.0/4",
}

// netPolicy is what a Manager gives every sandbox's network namespace.
type netPolicy struct {
	mode      NetworkMode
	slirpPath string         // the user-mode network stack; egress only
	allow     []netip.Prefix // routed through the stack despite deny
	deny      []netip.Prefix // unreachable: deniedRanges, the host's addresses, the gateway
}

// newNetPolicy resolves cfg's network mode against what the host has: egress
// needs slirp4netns on the PATH. The reason says why egress was not
// possible when it was the default.
func newNetPolicy(cfg Config) (*netPolicy, string, error) {
	p := &netPolicy{mode: cfg.Network, allow: cfg.EgressAllow}
	reason := ""
	if p.mode == NetworkEgress || p.mode == "" {
		path, err := exec.LookPath("slirp4netns")
		switch {
		case err == nil:
			p.mode, p.slirpPath = NetworkEgress, path
		case p.mode == NetworkEgress:
			return nil, "", fmt.Errorf("sandbox: --function-network egress needs slirp4netns (Debian package slirp4netns): %w", err)
		default:
			p.mode = NetworkIsolated
			reason = "slirp4netns not found, functions have no outbound network"
		}
	}
	if p.mode != NetworkIsolated && p.mode != NetworkEgress {
		return nil, "", fmt.Errorf("sandbox: unknown network mode %q (egress or isolated)", p.mode)
	}
	for _, s := range deniedRanges {
		p.deny = append(p.deny, netip.MustParsePrefix(s))
	}
	p.deny = append(p.deny, netip.MustParsePrefix(egressGateway+"/32"))
	// The host's own addresses lead to its services whatever the range.
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(ipn.IP); ok && ip.Unmap().Is4() && !ip.IsLoopback() {
					p.deny = append(p.deny, netip.PrefixFrom(ip.Unmap(), 32))
				}
			}
		}
	}
	return p, reason, nil
}

// resolvConf is the /etc/resolv.conf of a sandbox: the stack's DNS
// forwarder with egress, none when isolated.
func (p *netPolicy) resolvConf() string {
	if p != nil && p.mode == NetworkEgress {
		return "nameserver " + egressDNS + "\noptions ndots:0\n"
	}
	return "# no network: --function-network isolated\n"
}

// envNetwork is what the server holds of one sandbox's network namespace:
// the listening sockets it serves inside it and the user-mode stack that
// gives it outbound connections.
type envNetwork struct {
	runtimeAPI  net.Listener
	platformAPI net.Listener
	slirp       *exec.Cmd
	slirpExit   *os.File // closing it ends slirp4netns, also when the server dies
}

// setupNetwork prepares the network namespace of the init pid: loopback
// up, the Runtime API and platform API sockets listening in it, and with
// egress the user-mode stack and the routes that keep the host out of
// reach. It runs while the sandbox is a zygote, off the cold-start path.
func setupNetwork(ctx context.Context, pid int, p *netPolicy, logger *slog.Logger) (n *envNetwork, err error) {
	ns, err := os.Open("/proc/" + strconv.Itoa(pid) + "/ns/net")
	if err != nil {
		return nil, fmt.Errorf("sandbox: open network namespace: %w", err)
	}
	defer ns.Close()
	n = &envNetwork{}
	defer func() {
		if err != nil {
			n.close()
		}
	}()
	err = inNetns(int(ns.Fd()), func() error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return fmt.Errorf("find loopback: %w", err)
		}
		if err := netlink.LinkSetUp(lo); err != nil {
			return fmt.Errorf("bring loopback up: %w", err)
		}
		if n.runtimeAPI, err = net.Listen("tcp", RuntimeAPIAddrFull); err != nil {
			return err
		}
		n.platformAPI, err = net.Listen("tcp", PlatformAPIAddrFull)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("sandbox: network namespace of %d: %w", pid, err)
	}
	if p == nil || p.mode != NetworkEgress {
		return n, nil
	}
	if err := n.startEgress(ctx, pid, p.slirpPath, logger); err != nil {
		return n, err
	}
	err = inNetns(int(ns.Fd()), func() error { return p.route() })
	if err != nil {
		return n, fmt.Errorf("sandbox: egress routes of %d: %w", pid, err)
	}
	return n, nil
}

// startEgress starts slirp4netns for the namespace of pid and waits until
// it configured tap0 (address, default route through its gateway).
func (n *envNetwork) startEgress(ctx context.Context, pid int, slirpPath string, logger *slog.Logger) error {
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("sandbox: egress ready pipe: %w", err)
	}
	defer readyR.Close()
	exitR, exitW, err := os.Pipe()
	if err != nil {
		readyW.Close()
		return fmt.Errorf("sandbox: egress exit pipe: %w", err)
	}
	cmd := exec.Command(slirpPath,
		"--configure", "--mtu="+strconv.Itoa(egressMTU),
		// Its gateway would otherwise lead to the host's loopback.
		"--disable-host-loopback",
		"--enable-sandbox", "--enable-seccomp",
		"--ready-fd=3", "--exit-fd=4",
		strconv.Itoa(pid), egressDevice)
	cmd.ExtraFiles = []*os.File{readyW, exitR}
	// Its own process group: a signal to the server's group is not for it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = debugWriter{logger.With("source", "slirp4netns")}
	normal, idle, err := startHelper(ctx, cmd)
	readyW.Close()
	exitR.Close()
	if err != nil {
		exitW.Close()
		return fmt.Errorf("sandbox: start slirp4netns: %w", err)
	}
	n.slirp, n.slirpExit = cmd, exitW
	ready := make(chan error, 1)
	go func() {
		b := make([]byte, 1)
		_, err := readyR.Read(b)
		ready <- err
	}()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, egressSetupTimeout)
		defer cancel()
	}
	select {
	case err := <-ready:
		if err != nil {
			return fmt.Errorf("sandbox: slirp4netns exited before the network was ready: %w", err)
		}
		if idle {
			// Started idle with its zygote; it carries the function's
			// traffic at normal priority.
			_ = setProcessSched(cmd.Process.Pid, normal)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sandbox: wait for slirp4netns: %w", context.Cause(ctx))
	}
}

// route installs, in the current thread's network namespace, an
// unreachable route for every denied range and a route through the
// gateway for every allowed one; the longest prefix wins, so an allowed
// range inside a denied one is reachable and a denied address inside an
// allowed range (the host's own) is not.
func (p *netPolicy) route() error {
	tap, err := netlink.LinkByName(egressDevice)
	if err != nil {
		return fmt.Errorf("find %s: %w", egressDevice, err)
	}
	gw := net.ParseIP(egressGateway)
	for _, a := range p.allow {
		r := &netlink.Route{Dst: ipNet(a), Gw: gw, LinkIndex: tap.Attrs().Index}
		if err := netlink.RouteReplace(r); err != nil {
			return fmt.Errorf("route %s: %w", a, err)
		}
	}
	for _, d := range p.deny {
		if p.allowedExactly(d) {
			continue
		}
		r := &netlink.Route{Dst: ipNet(d), Type: unix.RTN_UNREACHABLE}
		if err := netlink.RouteReplace(r); err != nil {
			return fmt.Errorf("deny %s: %w", d, err)
		}
	}
	return nil
}

// allowedExactly reports whether d is itself one of the allowed prefixes
// (the allow route then stands).
func (p *netPolicy) allowedExactly(d netip.Prefix) bool {
	for _, a := range p.allow {
		if a.Masked() == d.Masked() {
			return true
		}
	}
	return false
}

func ipNet(p netip.Prefix) *net.IPNet {
	p = p.Masked()
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// close releases the sockets and ends the user-mode stack; idempotent and
// safe on nil.
func (n *envNetwork) close() {
	if n == nil {
		return
	}
	if n.runtimeAPI != nil {
		_ = n.runtimeAPI.Close()
	}
	if n.platformAPI != nil {
		_ = n.platformAPI.Close()
	}
	if n.slirp != nil {
		_ = n.slirpExit.Close()
		_ = n.slirp.Process.Kill()
		_ = n.slirp.Wait()
		n.slirp = nil
	}
}

// inNetns runs fn on an OS thread switched into the network namespace fd:
// sockets fn creates belong to that namespace and keep working from any
// thread afterwards. The thread is switched back, or ends with the
// goroutine when that fails, so no other goroutine ever runs in the
// namespace.
func inNetns(fd int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open own network namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter network namespace: %w", err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// Stay locked: the thread exits with this goroutine.
			errc <- errors.Join(ferr, fmt.Errorf("leave network namespace: %w", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// debugWriter logs what a helper process prints at Debug: slirp4netns
// narrates its set-up on stderr.
type debugWriter struct{ logger *slog.Logger }

func (w debugWriter) Write(b []byte) (int, error) {
	w.logger.Debug("sandbox: helper output", "output", strings.TrimSpace(string(b)))
	return len(b), nil
}
