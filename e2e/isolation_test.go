package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"golang.org/x/sys/unix"

	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/peerns"
)

// probeResult mirrors probefn's Result.
type probeResult struct {
	OK    bool     `json:"ok"`
	Value string   `json:"value"`
	Lines []string `json:"lines"`
	Error string   `json:"error"`
	Errno int      `json:"errno"`
}

// probe runs one probefn action and returns what it saw.
func probe(t *testing.T, c *lambda.Client, fn, action, value string, n int) probeResult {
	t.Helper()
	var r probeResult
	invokeJSON(t, c, fn, map[string]any{"action": action, "value": value, "n": n}, &r)
	t.Logf("probe %s %q: %+v", action, value, r)
	return r
}

// requireFullIsolation skips unless the server runs full isolation, which
// needs root and cgroups (CI has both).
func requireFullIsolation(t *testing.T, srv *testutil.Server) {
	t.Helper()
	// The banner's isolation line follows the listening line, which is
	// all StartServer waits for.
	testutil.WaitFor(t, 10*time.Second, func() error {
		if !strings.Contains(srv.Output.String(), "isolation: ") {
			return fmt.Errorf("no isolation line in the banner yet")
		}
		return nil
	})
	if !strings.Contains(srv.Output.String(), "isolation: full") {
		t.Skip("full isolation is not available here (needs root and writable cgroups)")
	}
}

// peerNamespace is a network namespace the test creates with a veth pair
// to the host (see internal/testutil/peerns): an HTTP server listens at
// peerIP:port inside it. It stands for a server somewhere on the
// operator's network, which functions reach through egress when the
// server allows peerIP.
type peerNamespace struct {
	hostIP, peerIP string
	port           int
}

// peerCount numbers the peer namespaces of this process.
var peerCount atomic.Int32

// newPeerNamespace creates a peer namespace serving handler (a fixed
// greeting when nil), removed by cleanup; nil, with the reason, when this
// machine cannot (not root, no ip command).
func newPeerNamespace(cleanup func(func()), handler http.Handler) (*peerNamespace, string) {
	if why := peerns.Unavailable(); why != "" {
		return nil, why
	}
	if handler == nil {
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "hello from the peer")
		})
	}
	// A /30 of 10.<200+pid%50>.<n>.0 so parallel tests and processes differ.
	n := int(peerCount.Add(1))
	pid := os.Getpid()
	p, err := peerns.Start(peerns.Config{
		Name:     fmt.Sprintf("updraft-peer-%d-%d", pid, n),
		HostLink: fmt.Sprintf("up%dx%d", pid%100000, n),
		HostIP:   fmt.Sprintf("10.%d.%d.1", 200+pid%50, n%250),
		PeerIP:   fmt.Sprintf("10.%d.%d.2", 200+pid%50, n%250),
	}, handler)
	if err != nil {
		return nil, err.Error()
	}
	cleanup(func() { _ = p.Close() })
	return &peerNamespace{hostIP: p.HostIP, peerIP: p.PeerIP, port: p.Port}, ""
}

// requirePeerNamespace is newPeerNamespace for a test that needs one.
func requirePeerNamespace(t *testing.T) *peerNamespace {
	t.Helper()
	p, why := newPeerNamespace(t.Cleanup, nil)
	if p == nil {
		t.Skip(why)
	}
	return p
}

// TestIsolationProbes deploys a hostile probe function next to a victim
// and checks, from inside the probe's sandbox, every boundary of full
// isolation: network, file system, privileges, ephemeral storage, pids and
// the platform API it may use.
func TestIsolationProbes(t *testing.T) {
	peer := requirePeerNamespace(t)
	natsPort := freePort(t)
	srv := testutil.StartServer(t, testutil.Options{Args: []string{
		"--function-network", "egress",
		"--ephemeral-storage", "reserved",
		"--function-egress-allow", peer.peerIP + "/32",
		"--nats-listen", "127.0.0.1:" + strconv.Itoa(natsPort),
	}})
	requireFullIsolation(t, srv)
	c := srv.Lambda()
	createTestFunction(t, c, "victim", fnOpts{})
	invokeJSON(t, c, "victim", map[string]string{"action": "echo"}, nil)

	zip := testutil.FunctionZip(t, "./internal/testutil/probefn", "")
	_, err := c.CreateFunction(ctx(t), &lambda.CreateFunctionInput{
		FunctionName:     aws.String("probe"),
		Runtime:          types.RuntimeProvidedal2023,
		Handler:          aws.String("bootstrap"),
		Role:             aws.String(testRole),
		Code:             &types.FunctionCode{ZipFile: zip},
		MemorySize:       aws.Int32(128),
		Timeout:          aws.Int32(120),
		EphemeralStorage: &types.EphemeralStorage{Size: aws.Int32(1024)},
	})
	if err != nil {
		t.Fatalf("create probe: %v", err)
	}
	apiURL, _ := url.Parse(srv.URL)
	apiPort := apiURL.Port()

	t.Run("network", func(t *testing.T) {
		// Only the namespace's own sockets: its Runtime API and the
		// platform API, nothing of the host's or another sandbox's.
		ls := probe(t, c, "probe", "listeners", "", 0)
		got := strings.Join(ls.Lines, ",")
		for _, l := range ls.Lines {
			if l != "127.0.0.1:9001" && l != "127.0.0.1:9321" {
				t.Errorf("a listening socket %s is visible in /proc/net/tcp (all: %s)", l, got)
			}
		}
		if !strings.Contains(got, "127.0.0.1:9001") {
			t.Errorf("the Runtime API is not at 127.0.0.1:9001 in the namespace: %s", got)
		}
		for _, target := range []string{
			"127.0.0.1:" + apiPort,                      // the API port on the host's loopback
			"127.0.0.1:" + strconv.Itoa(natsPort),       // NATS
			"10.0.2.2:" + apiPort,                       // the user-mode stack's way to the host
			"10.0.2.2:" + strconv.Itoa(natsPort),        //
			peer.hostIP + ":" + apiPort,                 // the host's own address
			peer.hostIP + ":" + strconv.Itoa(peer.port), //
		} {
			if r := probe(t, c, "probe", "connect", target, 0); r.OK {
				t.Errorf("the probe reached %s", target)
			}
		}
		// egress reaches the allowed server.
		r := probe(t, c, "probe", "http-get", fmt.Sprintf("http://%s:%d/", peer.peerIP, peer.port), 0)
		if !r.OK || r.Value != "hello from the peer" {
			t.Errorf("egress to the allowed %s: %+v", peer.peerIP, r)
		}
		// The SDK inside the function reaches the platform API.
		// The SDK inside the function reaches the platform API; its role
		// (not defined here) may invoke, not list.
		if r := probe(t, c, "probe", "sdk", "Invoke:victim", 0); !r.OK {
			t.Errorf("Invoke through AWS_ENDPOINT_URL: %+v", r)
		}
		if r := probe(t, c, "probe", "sdk", "ListFunctions", 0); r.OK || r.Value != "AccessDeniedException" {
			t.Errorf("ListFunctions through AWS_ENDPOINT_URL: %+v, want AccessDeniedException", r)
		}
	})

	t.Run("filesystem", func(t *testing.T) {
		for _, p := range []string{srv.DataDir, "/var/tmp", "/root", "/home", "/srv", "/run", "/.oldroot"} {
			if r := probe(t, c, "probe", "stat", p, 0); r.OK {
				t.Errorf("%s is visible in the sandbox (%s)", p, r.Value)
			}
		}
		if r := probe(t, c, "probe", "write", "/var/task/x", 0); r.OK || r.Errno != int(unix.EROFS) {
			t.Errorf("writing /var/task: %+v, want EROFS", r)
		}
		if r := probe(t, c, "probe", "write", "/usr/x", 0); r.OK {
			t.Errorf("writing /usr succeeded")
		}
		if r := probe(t, c, "probe", "stat", "/usr/bin/python3", 0); !r.OK {
			t.Errorf("/usr is missing from the sandbox: %+v", r)
		}
	})

	t.Run("privileges", func(t *testing.T) {
		st := probe(t, c, "probe", "status", "", 0)
		want := map[string]string{"NoNewPrivs:": "1", "CapBnd:": "0000000000000000", "CapEff:": "0000000000000000", "Seccomp:": "2"}
		for _, l := range st.Lines {
			k, v, _ := strings.Cut(l, " ")
			if w, ok := want[k]; ok {
				if v != w {
					t.Errorf("%s %s, want %s", k, v, w)
				}
				delete(want, k)
			}
		}
		if len(want) > 0 {
			t.Errorf("status lacks %v: %v", want, st.Lines)
		}
		if r := probe(t, c, "probe", "mount", "", 0); r.OK {
			t.Error("mount succeeded in the sandbox")
		}
		for _, cmd := range []string{"unshare -n true", "unshare -r -n true"} {
			if r := probe(t, c, "probe", "exec", cmd, 0); r.OK {
				t.Errorf("%q succeeded in the sandbox", cmd)
			}
		}
		if r := probe(t, c, "probe", "exec", "echo ok", 0); !r.OK || strings.TrimSpace(r.Value) != "ok" {
			t.Errorf("a plain shell command failed: %+v", r)
		}
	})

	t.Run("ephemeral-storage", func(t *testing.T) {
		pid := probe(t, c, "probe", "pid", "", 0).Value
		if r := probe(t, c, "probe", "df-tmp", "", 0); r.Value != "1024" {
			t.Errorf("df /tmp: %s MB, want 1024", r.Value)
		}
		if r := probe(t, c, "probe", "fill-tmp", "", 1000); !r.OK {
			t.Errorf("writing 1000 MB to a 1024 MB /tmp of a 128 MB function: %+v", r)
		}
		r := probe(t, c, "probe", "fill-tmp", "", 1025)
		if r.OK || r.Errno != int(unix.ENOSPC) {
			t.Errorf("writing 1025 MB to a 1024 MB /tmp: %+v, want ENOSPC", r)
		}
		if again := probe(t, c, "probe", "pid", "", 0).Value; again != pid {
			t.Errorf("the environment was replaced (pid %s, then %s): filling /tmp must not kill it", pid, again)
		}
	})

	t.Run("pids", func(t *testing.T) {
		// Enough memory that the pids limit, not memory, stops it.
		createTestFunction(t, c, "bomber", fnOpts{zip: zip, memory: 1024, timeout: 60})
		r := probe(t, c, "bomber", "fork-bomb", "", 5000)
		n, _ := strconv.Atoi(r.Value)
		if r.OK || n > 1024 || r.Errno != int(unix.EAGAIN) {
			t.Errorf("started %d processes; the pids limit must stop a fork bomb with EAGAIN: %+v", n, r)
		}
		if r := probe(t, c, "bomber", "pid", "", 0); !r.OK {
			t.Errorf("the environment did not survive the fork bomb: %+v", r)
		}
	})

	// The victim still answers: nothing the probe did reached it.
	var out map[string]any
	invokeJSON(t, c, "victim", map[string]string{"action": "echo"}, &out)
	b, _ := json.Marshal(out)
	t.Logf("victim: %s", b)
}

// TestIsolatedNetworkHasOnlyLoopback checks --function-network isolated: no
// way out, the platform API still there.
func TestIsolatedNetworkHasOnlyLoopback(t *testing.T) {
	t.Parallel()
	peer := requirePeerNamespace(t)
	srv := testutil.StartServer(t, testutil.Options{Args: []string{
		"--function-network", "isolated", "--function-egress-allow", peer.peerIP + "/32",
	}})
	requireFullIsolation(t, srv)
	c := srv.Lambda()
	zip := testutil.FunctionZip(t, "./internal/testutil/probefn", "")
	createTestFunction(t, c, "probe", fnOpts{zip: zip, timeout: 30})
	if r := probe(t, c, "probe", "connect", fmt.Sprintf("%s:%d", peer.peerIP, peer.port), 0); r.OK {
		t.Error("an isolated function reached the peer")
	}
	if r := probe(t, c, "probe", "sdk", "InvokeEvent:probe", 0); !r.OK {
		t.Errorf("the platform API is unreachable from an isolated function: %+v", r)
	}
}

// freePort returns a loopback port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
