package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/updraft/updraft/bench/internal/benchzip"
)

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
	return benchzip.Bootstrap(data)
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

// proc is a server process the bench started.
type proc struct {
	// url is the address it announced; pid its process id.
	url string
	pid int
	// stop ends it (SIGTERM, SIGKILL to its group after 20 s).
	stop func()
}

// startFloor runs this program again as the floor server.
func startFloor() (*proc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return startProcess(exec.Command(self, "-serve-floor"), "floor listening on ")
}

// startServer starts `updraft server` on a loopback port with extra
// flags appended.
func startServer(bin, dataDir string, extra ...string) (*proc, error) {
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
func startProcess(cmd *exec.Cmd, prefix string) (*proc, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
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
		return &proc{url: u, pid: cmd.Process.Pid, stop: stop}, nil
	case <-time.After(60 * time.Second):
		stop()
		return nil, fmt.Errorf("%s did not start within 60s", cmd.Path)
	}
}

// fnSpec is the code and runtime of a function the bench deploys.
type fnSpec struct {
	runtime, handler string
	zip              []byte
}

// createFunctionBody is the CreateFunction request of function name.
func createFunctionBody(name string, fn fnSpec) ([]byte, error) {
	return json.Marshal(map[string]any{
		"FunctionName": name, "Runtime": fn.runtime, "Handler": fn.handler,
		"Role": "arn:aws:iam::000000000000:role/bench", "Code": map[string]string{"ZipFile": base64.StdEncoding.EncodeToString(fn.zip)},
	})
}

func createFunction(c *http.Client, base, name string, fn fnSpec) error {
	body, err := createFunctionBody(name, fn)
	if err != nil {
		return err
	}
	resp, err := c.Post(base+"/2015-03-31/functions", "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("create %s: %d %s", name, resp.StatusCode, snippet(b))
	}
	return nil
}

func deleteFunction(c *http.Client, base, name string) error {
	req, err := http.NewRequest(http.MethodDelete, base+"/2015-03-31/functions/"+name, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("delete %s: %d %s", name, resp.StatusCode, snippet(b))
	}
	return nil
}
