package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

// clusterHealth is the cluster section of /healthz.
type clusterHealth struct {
	Status  string `json:"status"`
	Cluster *struct {
		Node     string `json:"node"`
		Leader   string `json:"leader"`
		Size     int    `json:"size"`
		Replicas int    `json:"replicas"`
		Peers    []struct {
			Name    string `json:"name"`
			Self    bool   `json:"self"`
			Current bool   `json:"current"`
			Offline bool   `json:"offline"`
		} `json:"peers"`
		Routes []struct {
			Name string `json:"name"`
		} `json:"routes"`
	} `json:"cluster"`
}

func healthOf(srv *testutil.Server) (clusterHealth, error) {
	var h clusterHealth
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		return h, err
	}
	if h.Cluster == nil {
		return h, fmt.Errorf("/healthz of %s has no cluster section", srv.URL)
	}
	return h, nil
}

// freePorts returns n loopback ports the OS hands out (closed again, so
// that the nodes, which must know each other's ports up front, bind them).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// TestThreeNodeEmbeddedCluster forms a NATS cluster of three updraft
// nodes' embedded servers (--cluster-listen, --join, one cluster key), then:
// a function created on A runs on C; an Event accepted on B runs; A is
// SIGKILLed while Events are accepted on B and C, and every accepted
// Event reaches one final record, its side effect seen; functions are
// still created on B and C after JetStream's elections; A restarts on
// its data dir and catches up.
// It runs alone (no t.Parallel): three servers, a kill and two JetStream
// elections are timing-sensitive on a loaded 2-core machine.
func TestThreeNodeEmbeddedCluster(t *testing.T) {
	key := filepath.Join(t.TempDir(), "cluster.key")
	var secret [32]byte
	_, _ = rand.Read(secret[:])
	if err := os.WriteFile(key, []byte(base64.RawURLEncoding.EncodeToString(secret[:])+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 3)
	var seeds []string
	for _, p := range ports {
		seeds = append(seeds, "127.0.0.1:"+strconv.Itoa(p))
	}
	opts := make([]testutil.Options, 3)
	for i := range opts {
		opts[i] = testutil.Options{DataDir: t.TempDir(), Args: []string{
			"--cluster-listen", seeds[i], "--join", strings.Join(seeds, ","), "--cluster-key", key,
			"--async-retry-delay", "200ms", "--async-ack-wait", "5s", "--metrics-listen", "off",
		}}
	}
	testutil.BuildBinary(t, "./cmd/updraft", "") // not counted in the phases
	testFunctionZip(t)
	began := time.Now()
	phase := func(what string) { t.Logf("%s after %s", what, time.Since(began).Round(time.Millisecond)) }
	nodes := testutil.StartServers(t, opts...)
	phase("three nodes listening")
	a, b, c := nodes[0], nodes[1], nodes[2]

	// Membership: every node sees three peers, a leader, two routes, and
	// objects get three replicas.
	for _, n := range nodes {
		testutil.WaitFor(t, 20*time.Second, func() error {
			h, err := healthOf(n)
			if err != nil {
				return err
			}
			cl := h.Cluster
			if h.Status != "ok" || cl.Leader == "" || cl.Size != 3 || len(cl.Peers) != 3 || len(cl.Routes) != 2 || cl.Replicas != 3 {
				return fmt.Errorf("node %s: %+v", n.URL, h)
			}
			return nil
		})
	}
	phase("cluster formed, replicas 3")
	bin := testutil.BuildBinary(t, "./cmd/updraft", "")
	cli := exec.Command(bin, "cluster", "status", "--endpoint-url", b.URL)
	cli.Env = append(os.Environ(), b.AWSEnv()...)
	out, err := cli.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "3 node(s)") || strings.Count(string(out), "leader") < 2 || strings.Contains(string(out), "offline") {
		t.Fatalf("updraft cluster status: %v\n%s", err, out)
	}
	t.Logf("updraft cluster status:\n%s", out)

	// A function created on A is invoked on C.
	createTestFunction(t, a.Lambda(), "everywhere", fnOpts{})
	testutil.WaitFor(t, 20*time.Second, func() error {
		out, err := c.Lambda().GetFunction(ctx(t), getFunctionInput("everywhere"))
		if err != nil {
			return err
		}
		if out.Configuration.State != types.StateActive {
			return fmt.Errorf("function on C is %s", out.Configuration.State)
		}
		return nil
	})
	var got map[string]any
	invokeJSON(t, c.Lambda(), "everywhere", map[string]any{"action": "echo", "echo": "on C"}, &got)
	if got["echo"] != "on C" {
		t.Fatalf("C answered %v", got)
	}

	// Every execution of an Event calls back here with its index: the
	// side effect the test counts.
	var mu sync.Mutex
	calls := map[string]int{}
	sideURL := reachableURL(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls[r.URL.Query().Get("i")]++
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		fmt.Fprint(w, "ok")
	}))
	event := func(i int) []byte {
		return []byte(fmt.Sprintf(`{"action":"fail-url","value":%q}`, sideURL+"/?i="+strconv.Itoa(i)))
	}

	// An Event accepted on B is executed.
	first := eventInvoke(t, b.Lambda(), "everywhere", map[string]any{"action": "fail-url", "value": sideURL + "/?i=first"})
	if rec := waitRecord(t, b, first, 30*time.Second); rec.Status != "SUCCEEDED" {
		t.Fatalf("event accepted on B: %+v", rec)
	}

	// Events on B and C while A is SIGKILLed. A request that fails is
	// retried as a client would; only accepted (202) ones are checked.
	const events = 120
	type accepted struct {
		i  int
		id string
		on *testutil.Server
	}
	var (
		acc      []accepted
		accMu    sync.Mutex
		refused  atomic.Int64
		wg       sync.WaitGroup
		work     = make(chan int)
		killOnce sync.Once
	)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv := []*testutil.Server{b, c}[w%2]
			for i := range work {
				if i == events/4 {
					killOnce.Do(a.Kill)
				}
				deadline := time.Now().Add(30 * time.Second)
				for {
					out, err := srv.Lambda().Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("everywhere"),
						InvocationType: types.InvocationTypeEvent, Payload: event(i)})
					if err == nil && out.StatusCode == 202 {
						accMu.Lock()
						acc = append(acc, accepted{i: i, id: requestIDOf(out.ResultMetadata), on: srv})
						accMu.Unlock()
						break
					}
					refused.Add(1)
					if time.Now().After(deadline) {
						t.Errorf("event %d on %s not accepted within 30s: %v", i, srv.URL, err)
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	start := time.Now()
	for i := range events {
		work <- i
	}
	close(work)
	wg.Wait()
	t.Logf("%d events accepted on B and C in %s around the kill of A; %d attempts refused and retried",
		len(acc), time.Since(start).Round(time.Millisecond), refused.Load())
	if t.Failed() {
		t.FailNow()
	}
	phase("events accepted")

	// Creating functions keeps working on B and C after the elections.
	for i, n := range []*testutil.Server{b, c} {
		name := "after-kill-" + strconv.Itoa(i)
		testutil.WaitFor(t, 20*time.Second, func() error {
			_, err := n.Lambda().CreateFunction(ctx(t), &lambda.CreateFunctionInput{
				FunctionName: aws.String(name), Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
				Role: aws.String(testRole), Code: &types.FunctionCode{ZipFile: testFunctionZip(t)}})
			if apiErrorCode(err) == "ResourceConflictException" {
				return nil // an earlier attempt went through
			}
			if err != nil {
				t.Logf("create %s on %s: %v", name, n.URL, err)
			}
			return err
		})
		phase("created " + name)
	}

	phase("functions created on B and C after the kill")
	// Every accepted Event reaches a final record, SUCCEEDED, and its side
	// effect happened. An Event runs more than once only if A died while
	// running it (at-least-once across a crash): count those.
	var recWG sync.WaitGroup
	recs := make(chan accepted)
	for range 8 {
		recWG.Add(1)
		go func() {
			defer recWG.Done()
			// waitRecord ends this goroutine when it fails the test; the
			// rest is drained so that the sender is not left blocked.
			defer func() {
				for range recs {
				}
			}()
			for e := range recs {
				if rec := waitRecord(t, e.on, e.id, 2*time.Minute); rec.Status != "SUCCEEDED" {
					t.Errorf("event %d (%s): %+v", e.i, e.id, rec)
				}
			}
		}()
	}
	for _, e := range acc {
		recs <- e
	}
	close(recs)
	recWG.Wait()
	mu.Lock()
	dups := 0
	for _, e := range acc {
		switch n := calls[strconv.Itoa(e.i)]; {
		case n == 0:
			t.Errorf("event %d (%s) succeeded without its side effect", e.i, e.id)
		case n > 1:
			dups++
		}
	}
	mu.Unlock()
	t.Logf("%d of %d events ran more than once (in flight on A when it died)", dups, len(acc))
	// A's async workers hold the events they pulled (running or
	// buffered) until their ack wait lapses; those are redelivered. Far
	// more than a quarter would mean redelivery of acknowledged work.
	if dups > len(acc)/4 {
		t.Errorf("%d of %d events ran more than once: more than A can have held", dups, len(acc))
	}

	phase("every accepted event final")
	// A restarts on its data dir, under its kept node name, and catches
	// up: it sees the functions created while it was down.
	a2 := testutil.StartServer(t, testutil.Options{DataDir: a.DataDir, Args: opts[0].Args})
	testutil.WaitFor(t, 30*time.Second, func() error {
		h, err := healthOf(a2)
		if err != nil {
			return err
		}
		if h.Cluster.Size != 3 || h.Cluster.Leader == "" || len(h.Cluster.Routes) != 2 {
			return fmt.Errorf("restarted A: %+v", h.Cluster)
		}
		for _, p := range h.Cluster.Peers {
			// Only the leader tracks its followers' progress: A vouches
			// for itself being current, and sees no one offline.
			if p.Offline || (p.Self && !p.Current) {
				return fmt.Errorf("restarted A sees peer %+v", p)
			}
		}
		for _, name := range []string{"after-kill-0", "after-kill-1"} {
			out, err := a2.Lambda().GetFunction(ctx(t), getFunctionInput(name))
			if err != nil {
				return err
			}
			// Invoked next: as a client would (aws lambda wait
			// function-active), wait for its state to be Active here.
			if out.Configuration.State != types.StateActive {
				return fmt.Errorf("%s on restarted A is %s", name, out.Configuration.State)
			}
		}
		return nil
	})
	phase("A restarted and caught up")
	invokeJSON(t, a2.Lambda(), "after-kill-1", map[string]any{"action": "echo", "echo": "A is back"}, &got)
	if got["echo"] != "A is back" {
		t.Fatalf("restarted A answered %v", got)
	}

	// Stop the three together: stopped one by one, the last ones would
	// shut down without quorum.
	var stop sync.WaitGroup
	for _, n := range []*testutil.Server{a2, b, c} {
		stop.Add(1)
		go func() { defer stop.Done(); n.Stop(t) }()
	}
	stop.Wait()
	phase("three nodes stopped")
}
