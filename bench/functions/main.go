// Command functions measures what registered functions that are never
// invoked cost an updraft server: memory, goroutines and idle CPU.
//
//	go run ./bench/functions -n 10000
//
// It builds the updraft binary and the benchmark's echo function, starts
// `updraft server --auth none` on a loopback port with a fresh data dir,
// and reports, reading the server process's own /proc entries:
//
//   - idle RSS: VmRSS of the server with no functions, -settle (10 s)
//     after it started, and its CPU (utime+stime from /proc/PID/stat)
//     over -cpu-window (30 s) while nothing happens;
//   - warm p50 of one echo function (-samples sequential invokes);
//   - then it creates -n functions (a small zip holding a shell script,
//     -concurrency at a time), waits -settle and reports RSS, goroutines
//     and idle CPU again, and the echo function's warm p50 once more;
//   - then it restarts the server on the same data dir and reports RSS,
//     goroutines and idle CPU of a server that starts with -n functions.
//
// Goroutine counts come from the server's pprof endpoint (--debug-listen);
// -goroutines FILE also saves the full dump taken with -n functions, and
// -profile DIR a CPU profile of the idle server with -n functions and a
// heap profile, taken after the measurements.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/updraft/updraft/bench/internal/benchzip"
)

type options struct {
	n           int
	concurrency int
	settle      time.Duration
	cpuWindow   time.Duration
	samples     int
	goroutines  string
	profileDir  string
	serverArgs  []string
}

func main() {
	var o options
	var extra string
	flag.IntVar(&o.n, "n", 10000, "functions to register")
	flag.IntVar(&o.concurrency, "concurrency", 16, "CreateFunction calls in flight")
	flag.DurationVar(&o.settle, "settle", 10*time.Second, "wait after start (and after creating) before measuring RSS")
	flag.DurationVar(&o.cpuWindow, "cpu-window", 30*time.Second, "window over which idle CPU is measured")
	flag.IntVar(&o.samples, "samples", 2000, "sequential warm invokes for the p50")
	flag.StringVar(&o.goroutines, "goroutines", "", "save the server's goroutine dump with -n functions to this file")
	flag.StringVar(&o.profileDir, "profile", "", "after measuring, save a CPU profile (over -cpu-window) and a heap profile of the server with -n functions in this directory")
	flag.StringVar(&extra, "server-args", "", "extra server flags, space separated")
	flag.Parse()
	if o.n < 0 || o.concurrency < 1 || o.settle < 0 || o.cpuWindow <= 0 || o.samples < 1 {
		fmt.Fprintln(os.Stderr, "functions: -n must be >= 0; -concurrency, -cpu-window and -samples positive")
		os.Exit(2)
	}
	o.serverArgs = strings.Fields(extra)
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "functions:", err)
		os.Exit(1)
	}
}

// sample is what one measurement point found.
type sample struct {
	label      string
	rssKB      int64
	goroutines int
	cpu        float64 // share of one core over the window
}

func run(o options) error {
	parent := ""
	if fi, err := os.Stat("/var/tmp"); err == nil && fi.IsDir() {
		parent = "/var/tmp"
	}
	work, err := os.MkdirTemp(parent, "updraft-functions-")
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
	echoZip, err := zipFile("bootstrap", fnBin, nil)
	if err != nil {
		return err
	}
	// The registered functions never run; a tiny script keeps 10,000
	// CreateFunction calls cheap.
	smallZip, err := zipFile("bootstrap", "", []byte("#!/bin/sh\nexit 1\n"))
	if err != nil {
		return err
	}

	dataDir := filepath.Join(work, "data")
	srv, err := startServer(bin, dataDir, o.serverArgs)
	if err != nil {
		return err
	}
	defer srv.stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 60 * time.Second}

	var samples []sample
	idle, err := measure(client, srv, "no functions", o.settle, o.cpuWindow, "")
	if err != nil {
		return err
	}
	samples = append(samples, idle)

	if err := createFunction(client, srv.base, "echo", echoZip); err != nil {
		return err
	}
	warmBefore, err := warmP50(client, srv.base, o.samples)
	if err != nil {
		return err
	}

	fmt.Printf("creating %d functions, %d at a time ...\n", o.n, o.concurrency)
	start := time.Now()
	if err := createMany(client, srv.base, smallZip, o.n, o.concurrency); err != nil {
		return err
	}
	created := time.Since(start)
	fmt.Printf("created %d functions in %s (%.0f/s)\n", o.n, created.Round(time.Millisecond), float64(o.n)/created.Seconds())

	withN, err := measure(client, srv, fmt.Sprintf("%d functions", o.n+1), o.settle, o.cpuWindow, o.goroutines)
	if err != nil {
		return err
	}
	samples = append(samples, withN)
	warmAfter, err := warmP50(client, srv.base, o.samples)
	if err != nil {
		return err
	}
	if o.profileDir != "" {
		// After the measurement: profiling costs CPU of its own.
		if err := saveProfiles(client, srv.debug, o.profileDir, o.cpuWindow); err != nil {
			return err
		}
	}

	srv.stop()
	fmt.Println("restarting on the same data dir ...")
	srv, err = startServer(bin, dataDir, o.serverArgs)
	if err != nil {
		return err
	}
	defer srv.stop()
	restarted, err := measure(client, srv, fmt.Sprintf("%d functions, restarted", o.n+1), o.settle, o.cpuWindow, "")
	if err != nil {
		return err
	}
	samples = append(samples, restarted)

	fmt.Println()
	fmt.Printf("%-30s %10s %12s %10s %14s\n", "server state", "RSS", "RSS - idle", "goroutines", "CPU (1 core)")
	for _, s := range samples {
		fmt.Printf("%-30s %8.1fMB %10.1fMB %10d %13.2f%%\n", s.label, mb(s.rssKB), mb(s.rssKB-idle.rssKB), s.goroutines, 100*s.cpu)
	}
	fmt.Printf("%-30s %10s\n", "warm p50, 1 function", fmtDur(warmBefore))
	fmt.Printf("%-30s %10s (%.2fx)\n", fmt.Sprintf("warm p50, %d functions", o.n+1), fmtDur(warmAfter), float64(warmAfter)/float64(warmBefore))
	worst := max(withN.rssKB, restarted.rssKB) - idle.rssKB
	fmt.Printf("\nbars: RSS with %d functions <= idle + 100 MB: %v (+%.1f MB); idle CPU < 0.5%% of a core: %v (%.2f%%, %.2f%% after restart)\n",
		o.n, worst <= 100*1024, mb(worst), max(withN.cpu, restarted.cpu) < 0.005, 100*withN.cpu, 100*restarted.cpu)
	return nil
}

// measure waits settle, reads RSS and goroutines, then measures CPU over
// window; dump, when set, receives the full goroutine dump.
func measure(c *http.Client, srv *server, label string, settle, window time.Duration, dump string) (sample, error) {
	fmt.Printf("measuring %s: settle %s, CPU over %s ...\n", label, settle, window)
	time.Sleep(settle)
	s := sample{label: label}
	var err error
	if s.rssKB, err = rssKB(srv.pid); err != nil {
		return s, err
	}
	text, err := goroutineDump(c, srv.debug)
	if err != nil {
		return s, err
	}
	s.goroutines = strings.Count(text, "\ngoroutine ") + 1
	if dump != "" {
		if err := os.WriteFile(dump, []byte(text), 0o644); err != nil {
			return s, err
		}
	}
	before, err := cpuTicks(srv.pid)
	if err != nil {
		return s, err
	}
	t0 := time.Now()
	time.Sleep(window)
	after, err := cpuTicks(srv.pid)
	if err != nil {
		return s, err
	}
	s.cpu = float64(after-before) / clockTicks / time.Since(t0).Seconds()
	return s, nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times (100 on
// every Linux architecture Go supports).
const clockTicks = 100

// cpuTicks is the process's utime+stime in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: fields start after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): utime is field 14, stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return u + s, nil
}

// rssKB is the process's VmRSS in kB.
func rssKB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

func goroutineDump(c *http.Client, debug string) (string, error) {
	resp, err := c.Get(debug + "/debug/pprof/goroutine?debug=2")
	if err != nil {
		return "", fmt.Errorf("goroutine dump: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		return "", fmt.Errorf("goroutine dump: %d %v", resp.StatusCode, err)
	}
	return string(b), nil
}

// saveProfiles saves a CPU profile over window and a heap profile of the
// server at debug into dir.
func saveProfiles(c *http.Client, debug, dir string, window time.Duration) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fmt.Printf("profiling: CPU over %s, then the heap ...\n", window)
	for _, p := range []struct{ url, file string }{
		{fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", debug, int(window.Seconds())), "idle-cpu.pprof"},
		{debug + "/debug/pprof/heap?gc=1", "heap.pprof"},
	} {
		pc := &http.Client{Timeout: window + time.Minute}
		resp, err := pc.Get(p.url)
		if err != nil {
			return fmt.Errorf("profile %s: %w", p.file, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			return fmt.Errorf("profile %s: %d %v", p.file, resp.StatusCode, err)
		}
		if err := os.WriteFile(filepath.Join(dir, p.file), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func warmP50(c *http.Client, base string, n int) (time.Duration, error) {
	url := base + "/2015-03-31/functions/echo/invocations"
	payload := []byte(`{"hello":"world"}`)
	for i := 0; i < 200; i++ { // cold start, then settle
		if err := post(c, url, payload); err != nil {
			return 0, fmt.Errorf("warm-up: %w", err)
		}
	}
	d := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		t := time.Now()
		if err := post(c, url, payload); err != nil {
			return 0, err
		}
		d = append(d, time.Since(t))
	}
	slices.Sort(d)
	return d[n/2], nil
}

// createMany creates fn-0 … fn-(n-1), conc at a time, stopping at the
// first failure. A 5xx is retried up to three times, as the AWS SDKs do;
// the retries are counted and the first cause printed.
func createMany(c *http.Client, base string, zipBytes []byte, n, conc int) error {
	var retried atomic.Int64
	var firstRetry sync.Once
	create := func(name string) error {
		for attempt := 0; ; attempt++ {
			err := createFunction(c, base, name, zipBytes)
			var se *statusError
			if err == nil || attempt == 3 || !errors.As(err, &se) || se.status < 500 {
				return err
			}
			retried.Add(1)
			firstRetry.Do(func() { fmt.Printf("  retrying a 5xx (the first of them): %v\n", err) })
			time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
		}
	}
	defer func() {
		if r := retried.Load(); r > 0 {
			fmt.Printf("  %d CreateFunction calls answered 5xx and were retried\n", r)
		}
	}()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := create(fmt.Sprintf("fn-%d", i)); err != nil {
					errs <- err
					next.Store(int64(n))
					return
				}
				if (i+1)%1000 == 0 {
					fmt.Printf("  %d\n", i+1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func createFunction(c *http.Client, base, name string, zipBytes []byte) error {
	body, err := json.Marshal(map[string]any{
		"FunctionName": name, "Runtime": "provided.al2023", "Handler": "bootstrap",
		"Role": "arn:aws:iam::000000000000:role/bench", "Code": map[string]string{"ZipFile": base64.StdEncoding.EncodeToString(zipBytes)},
	})
	if err != nil {
		return err
	}
	resp, err := c.Post(base+"/2015-03-31/functions", "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 201 {
		b, _ := io.ReadAll(resp.Body)
		return &statusError{status: resp.StatusCode, msg: fmt.Sprintf("create %s: %d %s", name, resp.StatusCode, b)}
	}
	return nil
}

// statusError is an HTTP answer other than the one expected.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

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

// server is a running updraft process.
type server struct {
	base, debug string
	pid         int
	stop        func()
}

func startServer(bin, dataDir string, extra []string) (*server, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	args := append([]string{"server", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--auth", "none",
		"--data-dir", dataDir, "--log-level", "warn", "--debug-listen", addr}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
		})
	}
	urlCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "updraft listening on "); ok {
				urlCh <- strings.TrimSpace(u)
			}
		}
	}()
	select {
	case u := <-urlCh:
		return &server{base: u, debug: "http://" + addr, pid: cmd.Process.Pid, stop: stop}, nil
	case <-done:
		return nil, errors.New("server exited during start")
	case <-time.After(60 * time.Second):
		stop()
		return nil, errors.New("server did not start within 60s")
	}
}

func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func goBuild(out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// zipFile zips one executable named name, read from path or given as data.
func zipFile(name, path string, data []byte) ([]byte, error) {
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, err
		}
	}
	return benchzip.Zip(benchzip.Entry{Name: name, Data: data, Mode: 0o755})
}

func mb(kb int64) float64 { return float64(kb) / 1024 }

func fmtDur(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/1e6) }
