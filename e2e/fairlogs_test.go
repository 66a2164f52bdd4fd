package e2e

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

// The server's resident memory during the flood: it may grow by at most
// floodRSSGrowth (the 16 MiB log buffer plus what encoding, JetStream's
// write cache and the garbage collector's headroom take) and never pass
// floodRSSBound; docs/architecture.md ("Function logs") states both.
const (
	floodRSSGrowth = 64 << 20
	floodRSSBound  = 200 << 20
)

// TestFloodingFunctionKeepsOthersLogs: function "loud" writes hundreds of
// MB of 64 KiB lines to stdout (long lines: a queue bounded in records
// rather than bytes would hold half a GB of them) while function "quiet" prints 1,000 numbered lines before
// the flood and 1,000 during it. Afterwards every one of quiet's 2,000
// lines is readable with `updraft logs`, the server's RSS stayed within
// floodRSSGrowth and floodRSSBound, loud's REPORT and the metrics count the lines it lost,
// and loud's log stream on disk stayed within its 64 MiB budget.
func TestFloodingFunctionKeepsOthersLogs(t *testing.T) {
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()
	createTestFunction(t, c, "quiet", fnOpts{})
	createTestFunction(t, c, "loud", fnOpts{timeout: 20})
	invokeJSON(t, c, "quiet", map[string]any{"action": "print", "value": "before", "n": 1000}, nil)
	invokeJSON(t, c, "loud", map[string]any{"action": "echo"}, nil) // cold start outside the flood

	rss := startRSSSampler(t, srv.Cmd.Process.Pid)
	const floodMB = 600
	flooded := make(chan *lambda.InvokeOutput, 1)
	floodErr := make(chan error, 1)
	start := time.Now()
	go func() {
		res, err := c.Invoke(ctx(t), &lambda.InvokeInput{
			FunctionName: aws.String("loud"),
			Payload:      fmt.Appendf(nil, `{"action":"flood","n":%d,"value":"65536"}`, floodMB),
			LogType:      types.LogTypeTail,
		})
		if err != nil {
			floodErr <- err
			return
		}
		flooded <- res
	}()
	// Print while the flood is on: once the server has started dropping
	// loud's lines, its buffer share is full.
	testutil.WaitFor(t, 15*time.Second, func() error {
		if n := metricNumber(t, srv, `updraft_function_log_dropped_lines_total{function="loud",reason="buffer"}`); n == 0 {
			return fmt.Errorf("no line of loud dropped yet")
		}
		return nil
	})
	invokeJSON(t, c, "quiet", map[string]any{"action": "print", "value": "during", "n": 1000}, nil)
	var res *lambda.InvokeOutput
	select {
	case res = <-flooded:
	case err := <-floodErr:
		t.Fatalf("flood invoke: %v", err)
	case <-time.After(40 * time.Second):
		t.Fatal("the flood invoke did not answer in 40 s")
	}
	floodTime := time.Since(start)
	peak, base := rss.stop()
	written, _ := strconv.Atoi(string(res.Payload))
	t.Logf("loud wrote %d MB in %s; server RSS %d MB before, peak %d MB during the flood",
		written>>20, floodTime.Round(time.Millisecond), base>>20, peak>>20)
	if written < 200<<20 {
		t.Errorf("loud wrote only %d bytes: the flood did not flood", written)
	}
	if peak > floodRSSBound || peak-base > floodRSSGrowth {
		t.Errorf("server RSS went from %d to %d MB during the flood; the bounds are +%d MB and %d MB",
			base>>20, peak>>20, floodRSSGrowth>>20, floodRSSBound>>20)
	}

	tail, _ := base64.StdEncoding.DecodeString(aws.ToString(res.LogResult))
	if m := regexp.MustCompile(`\tDropped Log Lines: (\d+)\t`).FindSubmatch(tail); m == nil {
		t.Errorf("loud's REPORT does not count its dropped lines:\n%s", tail)
	} else if n, _ := strconv.Atoi(string(m[1])); n < 100 {
		t.Errorf("loud's REPORT counts %d dropped lines, fewer than a flood drops", n)
	}
	if n := metricNumber(t, srv, `updraft_function_log_dropped_bytes_total{function="loud",reason="buffer"}`); n < 1<<20 {
		t.Errorf("dropped bytes of loud = %v, want the MBs it lost", n)
	}
	if n := metricNumber(t, srv, `updraft_function_log_dropped_lines_total{function="quiet",reason="buffer"}`); n != 0 {
		t.Errorf("%v lines of quiet were dropped", n)
	}

	// Every line quiet printed is there, before and during the flood.
	var out string
	testutil.WaitFor(t, 15*time.Second, func() error {
		var errOut string
		var err error
		out, errOut, err = updraftCLI(t, srv, "logs", "quiet", "--limit", "3000")
		if err != nil {
			return fmt.Errorf("updraft logs: %v: %s", err, errOut)
		}
		if !strings.Contains(out, "during 000999") {
			return fmt.Errorf("the lines printed during the flood are not all stored yet")
		}
		return nil
	})
	var missing []string
	for _, phase := range []string{"before", "during"} {
		for i := range 1000 {
			if line := fmt.Sprintf("%s %06d", phase, i); !strings.Contains(out, line) {
				missing = append(missing, line)
			}
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of quiet's 2,000 lines are missing after the flood, e.g. %q", len(missing), missing[0])
	}

	// loud's own stream kept no more than its budget on disk.
	if size := dirSize(t, srv.DataDir, "UPDRAFT_LOGS_loud"); size > 64<<20+8<<20 {
		t.Errorf("loud's log stream takes %d MB on disk, over its 64 MiB budget", size>>20)
	}
}

// rssSampler reads a process's VmRSS every 20 ms.
type rssSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak int64
	base int64
}

// startRSSSampler starts sampling pid's resident memory.
func startRSSSampler(t *testing.T, pid int) *rssSampler {
	t.Helper()
	s := &rssSampler{done: make(chan struct{}), base: readRSS(t, pid)}
	s.peak = s.base
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-tick.C:
				s.peak = max(s.peak, readRSS(t, pid))
			}
		}
	}()
	t.Cleanup(func() { s.stop() })
	return s
}

// stop ends the sampling and returns the peak and the first sample.
func (s *rssSampler) stop() (peak, base int64) {
	select {
	case <-s.done:
	default:
		close(s.done)
	}
	s.wg.Wait()
	return s.peak, s.base
}

// readRSS returns the VmRSS of pid in bytes, or 0 once it has exited.
func readRSS(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	_, rest, ok := bytes.Cut(b, []byte("VmRSS:"))
	if !ok {
		return 0
	}
	f := strings.Fields(string(rest))
	if len(f) < 2 || f[1] != "kB" {
		t.Errorf("unexpected VmRSS line in /proc/%d/status", pid)
		return 0
	}
	kb, _ := strconv.ParseInt(f[0], 10, 64)
	return kb << 10
}

// metricNumber returns the value of one series on the server's /metrics
// page, given as it is printed (name{labels}), or 0 when it is absent.
func metricNumber(t *testing.T, srv *testutil.Server, series string) float64 {
	t.Helper()
	v := metricValue(t, srv, series)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil {
		t.Fatalf("metric %s %q: %v", series, v, err)
	}
	return n
}

// dirSize returns the bytes of the files under the directory named name
// anywhere beneath root; it fails the test when there is none.
func dirSize(t *testing.T, root, name string) int64 {
	t.Helper()
	var dir string
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == name {
			dir = path
			return filepath.SkipAll
		}
		return nil
	})
	if dir == "" {
		t.Fatalf("no directory %s under %s", name, root)
	}
	var size int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	return size
}
