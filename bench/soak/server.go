package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server runs `updraft server` as a child process on fixed loopback ports
// and one data dir, so that it can be killed and started again where it
// was. Every incarnation appends its output to one log file.
type server struct {
	bin, dataDir string
	args         []string
	logPath      string
	port         int

	mu sync.Mutex
	// cur is the running incarnation, nil between a death and the next
	// start; guarded by mu.
	cur *incarnation
	// all lists every incarnation started; guarded by mu.
	all []*incarnation
}

// incarnation is one process of the server.
type incarnation struct {
	n       int
	pid     int
	cmd     *exec.Cmd
	started time.Time
	ready   time.Duration // from exec to "updraft listening on"
	done    chan struct{} // closed once the process was waited for
	// errorLines counts lines the server logged at level ERROR.
	errorLines int
	// firstErrors keeps the first few of them.
	firstErrors []string
	// maxRSS is the highest VmRSS sampled, in bytes; guarded by the
	// server's mu.
	maxRSS int64
	exit   error
}

// serverConfig is what the soak starts the server with.
type serverConfig struct {
	bin, dataDir, logPath string
	sinkCIDR              string
	maxConnections        int
	idleTTL               time.Duration
}

func newServer(c serverConfig) (*server, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	return &server{
		bin: c.bin, dataDir: c.dataDir, logPath: c.logPath, port: ports[0],
		args: []string{"server",
			"--listen", fmt.Sprintf("127.0.0.1:%d", ports[0]),
			"--metrics-listen", fmt.Sprintf("127.0.0.1:%d", ports[1]),
			"--data-dir", c.dataDir,
			"--function-network", "egress",
			"--function-egress-allow", c.sinkCIDR,
			"--max-connections", strconv.Itoa(c.maxConnections),
			"--idle-ttl", c.idleTTL.String(),
			// Sparse /tmp images: the data dir is a small tmpfs, where
			// reserving 512 MB per environment would take memory.
			"--ephemeral-storage", "sparse",
			// A function error is retried after 5 s rather than Lambda's
			// minute, so that the drain at the end stays short.
			"--async-retry-delay", "5s",
			// Each function's log stream reserves this much of the
			// store; 64 MiB each would not fit the tmpfs.
			"--logs-function-max-bytes", strconv.Itoa(1 << 20),
			// Replaced code zips go after a minute, not 15.
			"--code-prune-grace", "1m",
		},
	}, nil
}

// url is the API's base URL, the same for every incarnation.
func (s *server) url() string { return fmt.Sprintf("http://127.0.0.1:%d", s.port) }

// current returns the running incarnation, or nil.
func (s *server) current() *incarnation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// incarnations returns every incarnation started so far.
func (s *server) incarnations() []*incarnation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*incarnation(nil), s.all...)
}

// start starts a new incarnation and waits until it listens and answers
// /healthz. The reaper must know the child before it can exit, so the
// start happens under reap.mu.
func (s *server) start(ctx context.Context, reap *reaper) (*incarnation, error) {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	s.mu.Lock()
	inc := &incarnation{n: len(s.all) + 1, done: make(chan struct{})}
	s.mu.Unlock()
	fmt.Fprintf(logf, "\n===== soak: incarnation %d starting at %s =====\n", inc.n, time.Now().Format(time.RFC3339Nano))

	cmd := exec.Command(s.bin, s.args...)
	cmd.Env = append(os.Environ(), "UPDRAFT_ACCESS_KEY_ID="+accessKeyID, "UPDRAFT_SECRET_ACCESS_KEY="+secretAccessKey)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	inc.cmd = cmd
	inc.started = time.Now()
	if err := reap.startChild(cmd); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start server: %w", err)
	}
	inc.pid = cmd.Process.Pid
	listening := make(chan struct{})
	go func() {
		defer logf.Close()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			if strings.HasPrefix(line, "updraft listening on ") {
				once.Do(func() { close(listening) })
			}
			if strings.Contains(line, "level=ERROR") {
				s.mu.Lock()
				inc.errorLines++
				if len(inc.firstErrors) < 5 {
					inc.firstErrors = append(inc.firstErrors, line)
				}
				s.mu.Unlock()
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	go func() {
		err := cmd.Wait()
		reap.forget(inc.pid)
		pw.Close()
		s.mu.Lock()
		inc.exit = err
		if s.cur == inc {
			s.cur = nil
		}
		s.mu.Unlock()
		close(inc.done)
	}()
	s.mu.Lock()
	s.all = append(s.all, inc)
	s.cur = inc
	s.mu.Unlock()

	select {
	case <-listening:
	case <-inc.done:
		return nil, fmt.Errorf("server incarnation %d exited before it listened (%v); see %s", inc.n, inc.exit, s.logPath)
	case <-time.After(90 * time.Second):
		_ = syscall.Kill(inc.pid, syscall.SIGKILL)
		<-inc.done
		return nil, fmt.Errorf("server incarnation %d did not listen within 90 s; see %s", inc.n, s.logPath)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	inc.ready = time.Since(inc.started)
	if err := waitHealthy(ctx, s.url(), 30*time.Second); err != nil {
		return inc, fmt.Errorf("server incarnation %d: %w", inc.n, err)
	}
	return inc, nil
}

// kill sends SIGKILL to the server process alone (not its process group:
// a crash does not take the sandboxes with it) and waits for it to die.
func (s *server) kill() (*incarnation, error) {
	inc := s.current()
	if inc == nil {
		return nil, errors.New("kill: no server is running")
	}
	if err := syscall.Kill(inc.pid, syscall.SIGKILL); err != nil {
		return inc, fmt.Errorf("kill server %d: %w", inc.pid, err)
	}
	select {
	case <-inc.done:
		return inc, nil
	case <-time.After(30 * time.Second):
		return inc, fmt.Errorf("server %d still not dead 30 s after SIGKILL", inc.pid)
	}
}

// stop asks the server to shut down (SIGTERM) and waits up to grace; past
// it the process group is killed and an error says so.
func (s *server) stop(grace time.Duration) error {
	inc := s.current()
	if inc == nil {
		return nil
	}
	_ = syscall.Kill(inc.pid, syscall.SIGTERM)
	select {
	case <-inc.done:
		if inc.exit != nil {
			return fmt.Errorf("server exited with %v after SIGTERM", inc.exit)
		}
		return nil
	case <-time.After(grace):
		_ = syscall.Kill(-inc.pid, syscall.SIGKILL)
		<-inc.done
		return fmt.Errorf("server did not stop within %s of SIGTERM; killed", grace)
	}
}

// sampleRSS records the running incarnation's VmRSS every interval until
// ctx ends.
func (s *server) sampleRSS(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if inc := s.current(); inc != nil {
			if rss, err := readRSS(inc.pid); err == nil {
				s.mu.Lock()
				inc.maxRSS = max(inc.maxRSS, rss)
				s.mu.Unlock()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// maxRSS is the highest RSS of any incarnation and which one it was.
func (s *server) maxRSS() (int64, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m int64
	n := 0
	for _, inc := range s.all {
		if inc.maxRSS > m {
			m, n = inc.maxRSS, inc.n
		}
	}
	return m, n
}

// readRSS returns VmRSS of pid in bytes.
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS of %d: %w", pid, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}

// health is one /healthz answer.
type health struct {
	code   int
	status string // the document's "status"
	body   string
	envs   int // pool.environments
}

// healthClient reads /healthz on a new connection each time, so that the
// soak's checks hold no idle connection the server would count.
var healthClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// healthz reads /healthz.
func healthz(ctx context.Context, base string) (health, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	if err != nil {
		return health{}, err
	}
	resp, err := healthClient.Do(req)
	if err != nil {
		return health{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return health{}, err
	}
	h := health{code: resp.StatusCode, body: strings.TrimSpace(string(b))}
	var doc struct {
		Status string `json:"status"`
		Pool   struct {
			Environments int `json:"environments"`
		} `json:"pool"`
	}
	if err := json.Unmarshal(b, &doc); err == nil {
		h.status, h.envs = doc.Status, doc.Pool.Environments
	}
	return h, nil
}

// waitHealthy polls /healthz until it answers 200.
func waitHealthy(ctx context.Context, base string, within time.Duration) error {
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		h, err := healthz(ctx, base)
		if err == nil && h.code == http.StatusOK {
			return nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("%d %s", h.code, h.body)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("/healthz not ok within %s: %s", within, last)
}

// freePorts returns n loopback ports the OS had free.
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// goBuild builds a main package of this module for linux without cgo.
func goBuild(root, out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// moduleRoot finds the directory of go.mod from the working directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the soak inside the updraft module (no go.mod found above the working directory)")
		}
		dir = parent
	}
}
