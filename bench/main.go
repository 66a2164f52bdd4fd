// Command bench measures updraft against the machine's own floor and
// prints ratios, because shared build machines are noisy and absolute
// numbers mean little on their own.
//
//	go run ./bench            # or: make bench
//
// It builds the updraft binary and an aws-lambda-go echo function, starts
// `updraft server --auth none` on a loopback port with a temporary data
// dir, and measures in one run:
//
//   - the floor: a plain Go HTTP round trip on loopback (p50/p99 at
//     concurrency 1, throughput at concurrency 8 and 64);
//   - warm synchronous invokes of the echo function (same figures);
//   - cold start: the first invoke of freshly created functions (p50),
//     beside the same echo bootstrap exec'd directly with no sandbox
//     against a stub Runtime API in the bench (exec → first response):
//     what the function and the machine cost without updraft;
//   - asynchronous (Event) invocation: the 202 round trip (p50/p99 at
//     concurrency 1); accept→start latency on a warm environment, from
//     the record's receivedAt to the echo function's own clock reading
//     at handler entry (p50/p99 over -async-samples sequential events,
//     each awaited with ?wait=); and the durable accept rate, 202s per
//     second at concurrency 1 and 32 beside the floor's throughput, with
//     the engine draining the queue in the background. After each accept
//     run the bench waits (at most -async-drain) until the queue is empty
//     and prints how long that took, so runs do not disturb each other.
//
// With -async-profile DIR the server also serves pprof on loopback and
// the bench saves a CPU profile of the accept run at concurrency 32
// (DIR/accept-c32.pprof), one of the first two seconds of the drain
// after it, the engine alone (DIR/drain-c32.pprof, with the number of
// events it ran), and a one-second execution trace of the latency phase
// (DIR/latency.trace).
package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	var (
		samples   = flag.Int("samples", 3000, "sequential requests for latency percentiles")
		duration  = flag.Duration("duration", 3*time.Second, "length of each throughput run")
		coldCount = flag.Int("cold", 20, "fresh functions for the cold-start figure")
		floorOnly = flag.Bool("serve-floor", false, "internal: serve the floor handler and print its address")

		asyncSamples = flag.Int("async-samples", 300, "sequential Event invokes for the accept→start percentiles")
		asyncDrain   = flag.Duration("async-drain", time.Minute, "longest wait for the async queue to empty after an accept run")
		asyncProfile = flag.String("async-profile", "", "directory for server CPU profiles of the c32 accept run and the drain after it, and a trace of the latency phase")
	)
	flag.Parse()
	if *floorOnly {
		serveFloor()
		return
	}
	acfg := asyncConfig{
		samples:       *asyncSamples,
		concurrencies: []int{1, 32},
		duration:      *duration,
		drainLimit:    *asyncDrain,
		profileDir:    *asyncProfile,
	}
	if *samples < 1 || *coldCount < 1 || acfg.samples < 1 || *duration <= 0 || acfg.drainLimit <= 0 {
		fmt.Fprintln(os.Stderr, "bench: -samples, -cold, -async-samples, -duration and -async-drain must be positive")
		os.Exit(2)
	}
	if err := run(*samples, *duration, *coldCount, acfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(samples int, duration time.Duration, coldCount int, acfg asyncConfig) error {
	// On disk where there is one: /tmp is often a tmpfs, where each
	// environment's reserved /tmp image would take memory.
	parent := ""
	if fi, err := os.Stat("/var/tmp"); err == nil && fi.IsDir() {
		parent = "/var/tmp"
	}
	work, err := os.MkdirTemp(parent, "updraft-bench-")
	if err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	defer os.RemoveAll(work)
	_ = os.Chmod(work, 0o755)

	fmt.Println("building updraft and the echo function ...")
	bin := filepath.Join(work, "updraft")
	if err := goBuild(bin, "./cmd/updraft"); err != nil {
		return err
	}
	fnBin := filepath.Join(work, "bootstrap")
	if err := goBuild(fnBin, "./bench/echofn"); err != nil {
		return err
	}
	zipBytes, err := zipBootstrap(fnBin)
	if err != nil {
		return err
	}

	floorURL, stopFloor, err := startFloor()
	if err != nil {
		return err
	}
	defer stopFloor()

	var serverArgs []string
	if acfg.profileDir != "" {
		if err := os.MkdirAll(acfg.profileDir, 0o755); err != nil {
			return fmt.Errorf("profile dir: %w", err)
		}
		addr, err := freeLoopbackAddr()
		if err != nil {
			return err
		}
		serverArgs = append(serverArgs, "--debug-listen", addr)
		acfg.debugURL = "http://" + addr
	}
	base, stopServer, err := startServer(bin, filepath.Join(work, "data"), serverArgs...)
	if err != nil {
		return err
	}
	defer stopServer()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0}}
	if err := createFunction(client, base, "echo", zipBytes); err != nil {
		return err
	}
	payload := []byte(`{"hello":"world"}`)
	invokeURL := base + "/2015-03-31/functions/echo/invocations"
	// Warm up: one cold start, then enough calls to settle.
	for i := 0; i < 200; i++ {
		if err := post(client, invokeURL, payload); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}

	floorP50, floorP99, err := latency(client, floorURL, payload, samples)
	if err != nil {
		return err
	}
	warmP50, warmP99, err := latency(client, invokeURL, payload, samples)
	if err != nil {
		return err
	}
	type tput struct {
		conc           int
		floor, invoke  float64
		invokeFailures int64
	}
	var tputs []tput
	for _, c := range []int{8, 64} {
		f, _ := throughput(client, floorURL, payload, c, duration)
		if c == 64 {
			// Let the pool grow to 64 environments before measuring.
			_, _ = throughput(client, invokeURL, payload, c, time.Second)
		}
		i, fails := throughput(client, invokeURL, payload, c, duration)
		tputs = append(tputs, tput{c, f, i, fails})
	}

	// Authentication and authorisation: the same warm invoke signed by an
	// IAM user whose policy is evaluated, against --auth none, in
	// interleaved rounds on two servers.
	signedBase, user, stopSigned, err := signedSetup(client, bin, filepath.Join(work, "data-signed"), zipBytes)
	if err != nil {
		return err
	}
	signedURL := signedBase + "/2015-03-31/functions/echo/invocations"
	for i := 0; i < 200; i++ {
		if _, err := signedLatency(client, user, signedURL, payload, 1); err != nil {
			stopSigned()
			return fmt.Errorf("signed warm-up: %w", err)
		}
	}
	noneP50, signedP50, err := authRounds(client, invokeURL, user, signedURL, payload, 5, max(samples/5, 50))
	stopSigned()
	if err != nil {
		return err
	}

	var colds []time.Duration
	for i := 0; i < coldCount; i++ {
		name := fmt.Sprintf("cold-%d", i)
		if err := createFunction(client, base, name, zipBytes); err != nil {
			return err
		}
		start := time.Now()
		if err := post(client, base+"/2015-03-31/functions/"+name+"/invocations", payload); err != nil {
			return fmt.Errorf("cold invoke: %w", err)
		}
		colds = append(colds, time.Since(start))
	}
	slices.Sort(colds)
	coldP50 := colds[len(colds)/2]
	coldFloorP50, err := coldFloor(fnBin, coldCount)
	if err != nil {
		return err
	}

	// Asynchronous invocation last, so its queue and records cannot
	// disturb the figures above.
	asyncRes, err := runAsync(client, base, floorURL, "echo", acfg)
	if err != nil {
		return err
	}

	fmt.Println()
	fmt.Printf("%-38s %12s %12s %8s\n", "measure", "floor", "updraft", "ratio")
	fmt.Printf("%-38s %12s %12s %7.2fx\n", "sync latency p50, concurrency 1", fmtDur(floorP50), fmtDur(warmP50), ratio(warmP50, floorP50))
	fmt.Printf("%-38s %12s %12s %7.2fx\n", "sync latency p99, concurrency 1", fmtDur(floorP99), fmtDur(warmP99), ratio(warmP99, floorP99))
	for _, t := range tputs {
		fmt.Printf("%-38s %10.0f/s %10.0f/s %7.0f%%  (failed invokes: %d)\n", fmt.Sprintf("throughput, concurrency %d", t.conc), t.floor, t.invoke, 100*t.invoke/t.floor, t.invokeFailures)
	}
	fmt.Printf("%-38s %12s %12s %7.2fx\n", "warm p50, SigV4 IAM user vs auth none", fmtDur(noneP50), fmtDur(signedP50), ratio(signedP50, noneP50))
	fmt.Printf("    median of 5 interleaved rounds; each round replays one signature, so the figure is the server's verification and authorisation\n")
	fmt.Printf("%-38s %12s %12s %7.1fx\n", fmt.Sprintf("cold start p50 (%d fresh functions)", coldCount), fmtDur(floorP50), fmtDur(coldP50), ratio(coldP50, floorP50))
	fmt.Printf("%-38s %12s %12s %7.2fx\n", "cold start p50 vs the bare bootstrap", fmtDur(coldFloorP50), fmtDur(coldP50), ratio(coldP50, coldFloorP50))
	fmt.Printf("    bare bootstrap: exec'd directly, no sandbox, against a stub Runtime API; exec → first response\n")
	printAsync(asyncRes, acfg.samples, floorP50, floorP99)
	fmt.Println()
	fmt.Printf("bars: warm p50 <= 2.5x floor: %v; c8 throughput >= 30%% of floor: %v; cold p50 < 15ms: %v; no errors at c64: %v\n",
		ratio(warmP50, floorP50) <= 2.5, tputs[0].invoke >= 0.3*tputs[0].floor, coldP50 < 15*time.Millisecond, tputs[1].invokeFailures == 0)
	fmt.Printf("bars: %s\n", asyncBars(asyncRes))
	return nil
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func fmtDur(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/1e6) }

func goBuild(out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

func zipBootstrap(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// serveFloor serves a handler that reads the body and answers it, the
// least any HTTP service does, and prints its address. It runs in its own
// process: updraft is a separate process from the client too, and a
// round trip inside one Go process skips the cross-process wake-ups that
// every real request pays.
func serveFloor() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: floor:", err)
		os.Exit(1)
	}
	fmt.Println("floor listening on http://" + ln.Addr().String() + "/")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})}
	_ = srv.Serve(ln)
}

// startFloor runs this program again as the floor server.
func startFloor() (string, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	return startProcess(exec.Command(self, "-serve-floor"), "floor listening on ")
}

// startServer starts `updraft server` on a loopback port with extra
// flags appended and returns its base URL.
func startServer(bin, dataDir string, extra ...string) (string, func(), error) {
	args := append([]string{"server", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--auth", "none", "--data-dir", dataDir, "--log-level", "warn"}, extra...)
	cmd := exec.Command(bin, args...)
	return startProcess(cmd, "updraft listening on ")
}

// metricsURLs maps a server's base URL to its /metrics URL.
var metricsURLs sync.Map

// metricsURL is the /metrics URL of the server at base.
func metricsURL(base string) string {
	if u, ok := metricsURLs.Load(base); ok && u.(string) != "" {
		return u.(string)
	}
	return base + "/metrics"
}

// startProcess starts cmd and waits for the stdout line announcing its URL.
func startProcess(cmd *exec.Cmd, prefix string) (string, func(), error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}
	urlCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		var metrics string
		for sc.Scan() {
			// updraft prints its metrics URL before the line it listens.
			if m, ok := strings.CutPrefix(sc.Text(), "metrics: "); ok {
				metrics = strings.TrimSpace(m)
			}
			if u, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				metricsURLs.Store(u, metrics)
				urlCh <- u
			}
		}
	}()
	select {
	case u := <-urlCh:
		return u, stop, nil
	case <-time.After(60 * time.Second):
		stop()
		return "", nil, fmt.Errorf("%s did not start within 60s", cmd.Path)
	}
}

// createFunctionBody is the CreateFunction request of the echo function.
func createFunctionBody(name string, zipBytes []byte) ([]byte, error) {
	return json.Marshal(map[string]any{
		"FunctionName": name, "Runtime": "provided.al2023", "Handler": "bootstrap",
		"Role": "arn:aws:iam::000000000000:role/bench", "Code": map[string]string{"ZipFile": base64.StdEncoding.EncodeToString(zipBytes)},
	})
}

func createFunction(c *http.Client, base, name string, zipBytes []byte) error {
	body, _ := createFunctionBody(name, zipBytes)
	resp, err := c.Post(base+"/2015-03-31/functions", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 201 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("create %s: %d %s", name, resp.StatusCode, b)
	}
	return nil
}

func post(c *http.Client, url string, payload []byte) error {
	resp, err := c.Post(url, "application/json", bytes.NewReader(payload))
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "" {
		return fmt.Errorf("status %d function error %q", resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"))
	}
	return nil
}

func latency(c *http.Client, url string, payload []byte, n int) (p50, p99 time.Duration, err error) {
	d := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		if err := post(c, url, payload); err != nil {
			return 0, 0, err
		}
		d = append(d, time.Since(start))
	}
	slices.Sort(d)
	return d[n/2], d[n*99/100], nil
}

// throughput runs conc workers against url for d and returns successful
// requests per second and the number of failures.
func throughput(c *http.Client, url string, payload []byte, conc int, d time.Duration) (float64, int64) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var ok, fail atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := post(c, url, payload); err != nil {
					fail.Add(1)
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return float64(ok.Load()) / time.Since(start).Seconds(), fail.Load()
}
