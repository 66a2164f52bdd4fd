package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// asyncConfig is what the asynchronous phase measures, from the flags.
type asyncConfig struct {
	// samples is the number of sequential Event invokes behind the
	// accept→start percentiles.
	samples int
	// concurrencies are the client concurrencies of the accept-rate runs.
	concurrencies []int
	// duration is the length of each accept-rate run (the -duration flag).
	duration time.Duration
	// drainLimit bounds the wait for the queue to empty after a run.
	drainLimit time.Duration
	// profileDir, when set, receives a CPU profile of the server during
	// the accept run at the highest concurrency, one of the first two
	// seconds of the drain after it, and an execution trace of the
	// latency phase; debugURL is the server's pprof address then.
	profileDir, debugURL string
}

// acceptRun is one accept-rate measurement and the drain after it.
type acceptRun struct {
	conc int
	// floor and accepted are requests per second: the floor's answers and
	// updraft's 202s.
	floor, accepted float64
	// total is the number of 202s; errors counts every other outcome and
	// firstErr says what the first of them was.
	total, errors int64
	firstErr      error
	// floorErrs are the floor's failures.
	floorErrs *errCount
	// drained is how long the queue took to empty after the run ended;
	// drainRate is the events finished per second from the start of the
	// run until the queue was empty; drainErr is set when it did not
	// empty within the limit.
	drained   time.Duration
	drainRate float64
	drainErr  error
	// profiled says what the drain profile covered, when one was taken.
	profiled string
}

// asyncResults are the figures of the asynchronous phase.
type asyncResults struct {
	runs []acceptRun
	// startP50/P99: receivedAt of the record to the function's own clock
	// reading when its handler began. pickP50/P99: receivedAt to the
	// record's startedAt, the engine's side of that time. acceptP50/P99:
	// the 202 round trip as the client sees it.
	startP50, startP99   time.Duration
	pickP50, pickP99     time.Duration
	acceptP50, acceptP99 time.Duration
}

// invocationRecord is the part of GET /updraft/v1/invocations/{id} the
// benchmark reads.
type invocationRecord struct {
	Status     string          `json:"status"`
	ReceivedAt time.Time       `json:"receivedAt"`
	StartedAt  *time.Time      `json:"startedAt"`
	Result     json.RawMessage `json:"result"`
}

// final reports whether the record reached an end state.
func (r *invocationRecord) final() bool { return r.Status == "SUCCEEDED" || r.Status == "FAILED" }

// runAsync measures Event invocations of function: accept→start latency
// on a warm environment first, on an empty queue, then the durable accept
// rate at each concurrency, each run followed by a drain so the next
// measurement starts on an empty queue again.
func runAsync(c *http.Client, base, floorURL, function string, cfg asyncConfig) (*asyncResults, error) {
	invokeURL := base + "/2015-03-31/functions/" + function + "/invocations"
	nowPayload := []byte(`{"now":true}`)
	if err := post(c, invokeURL, nowPayload); err != nil {
		return nil, fmt.Errorf("async warm-up: %w", err)
	}
	res := &asyncResults{}
	stopTrace := func() error { return nil }
	if cfg.profileDir != "" {
		stopTrace = capture(c, cfg.debugURL+"/debug/pprof/trace?seconds=1", filepath.Join(cfg.profileDir, "latency.trace"))
	}
	if err := res.latency(c, base, invokeURL, nowPayload, cfg.samples); err != nil {
		return nil, err
	}
	if err := stopTrace(); err != nil {
		return nil, err
	}

	payload := []byte(`{"hello":"world"}`)
	for _, conc := range cfg.concurrencies {
		run := acceptRun{conc: conc, floorErrs: &errCount{}}
		f, err := throughput(c, floorURL, payload, conc, cfg.duration, 0, run.floorErrs)
		if err != nil {
			return nil, err
		}
		run.floor = f.rate
		profile := cfg.profileDir != "" && conc == slices.Max(cfg.concurrencies)
		stopProfile := func() error { return nil }
		if profile {
			secs := max(1, int(cfg.duration.Seconds()))
			stopProfile = capture(c, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", cfg.debugURL, secs), filepath.Join(cfg.profileDir, fmt.Sprintf("accept-c%d.pprof", conc)))
		}
		start := time.Now()
		var ids []string
		run.accepted, run.total, run.errors, run.firstErr, ids = acceptRate(c, invokeURL, payload, conc, cfg.duration)
		if err := stopProfile(); err != nil {
			return nil, err
		}
		ended := time.Now()
		if profile {
			// The engine alone: what running one event costs.
			before, err := queueDepth(c, base, function)
			if err != nil {
				return nil, err
			}
			if err := capture(c, cfg.debugURL+"/debug/pprof/profile?seconds=2", filepath.Join(cfg.profileDir, fmt.Sprintf("drain-c%d.pprof", conc)))(); err != nil {
				return nil, err
			}
			after, err := queueDepth(c, base, function)
			if err != nil {
				return nil, err
			}
			run.profiled = fmt.Sprintf("drain profile: %.0f events run in 2s (queue %.0f → %.0f)", before-after, before, after)
		}
		run.drainErr = drain(c, base, function, ids, cfg.drainLimit)
		run.drained = time.Since(ended)
		if run.drainErr == nil {
			run.drainRate = float64(run.total) / time.Since(start).Seconds()
		}
		res.runs = append(res.runs, run)
	}
	return res, nil
}

// latency sends n Event invokes one at a time, waits for each record and
// takes the percentiles of accept→start.
func (res *asyncResults) latency(c *http.Client, base, invokeURL string, payload []byte, n int) error {
	starts := make([]time.Duration, 0, n)
	picks := make([]time.Duration, 0, n)
	accepts := make([]time.Duration, 0, n)
	for i := range n {
		t0 := time.Now()
		id, err := postEvent(c, invokeURL, payload)
		if err != nil {
			return fmt.Errorf("async latency sample %d: %w", i, err)
		}
		accepts = append(accepts, time.Since(t0))
		rec, err := getRecord(c, base, id, 10*time.Second)
		if err != nil {
			return fmt.Errorf("async latency sample %d: %w", i, err)
		}
		if rec.Status != "SUCCEEDED" || rec.StartedAt == nil {
			return fmt.Errorf("async latency sample %d: record %s is %s, want SUCCEEDED with startedAt", i, id, rec.Status)
		}
		ns, err := strconv.ParseInt(string(bytes.TrimSpace(rec.Result)), 10, 64)
		if err != nil {
			return fmt.Errorf("async latency sample %d: result %q is not a time: %w", i, rec.Result, err)
		}
		starts = append(starts, time.Unix(0, ns).Sub(rec.ReceivedAt))
		picks = append(picks, rec.StartedAt.Sub(rec.ReceivedAt))
	}
	res.startP50, res.startP99 = percentiles(starts)
	res.pickP50, res.pickP99 = percentiles(picks)
	res.acceptP50, res.acceptP99 = percentiles(accepts)
	return nil
}

// postEvent sends one Event invoke and returns its request id; any answer
// but 202 is an error.
func postEvent(c *http.Client, url string, payload []byte) (string, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return "", fmt.Errorf("event request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Invocation-Type", "Event")
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("event invoke: %w", err)
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("event invoke: status %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	id := resp.Header.Get("X-Amzn-Requestid")
	if id == "" {
		return "", errors.New("event invoke: 202 without x-amzn-RequestId")
	}
	return id, nil
}

// getRecord reads the invocation record of id, letting the server wait
// up to wait for it to become final.
func getRecord(c *http.Client, base, id string, wait time.Duration) (*invocationRecord, error) {
	url := fmt.Sprintf("%s/updraft/v1/invocations/%s?wait=%.3f", base, id, wait.Seconds())
	resp, err := c.Get(url)
	if err != nil {
		return nil, fmt.Errorf("read record %s: %w", id, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read record %s: %w", id, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read record %s: status %d: %s", id, resp.StatusCode, bytes.TrimSpace(b))
	}
	rec := new(invocationRecord)
	if err := json.Unmarshal(b, rec); err != nil {
		return nil, fmt.Errorf("read record %s: %w", id, err)
	}
	return rec, nil
}

// acceptRate runs conc workers sending Event invokes to url for d. It
// returns 202s per second, their number, the number of other outcomes
// with the first of them, and the last request id each worker got, a
// sample for the drain to wait on.
func acceptRate(c *http.Client, url string, payload []byte, conc int, d time.Duration) (rate float64, ok, fail int64, firstErr error, last []string) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var nOK, nFail atomic.Int64
	var mu sync.Mutex // guards firstErr and last
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var id string
			for ctx.Err() == nil {
				got, err := postEvent(c, url, payload)
				if err != nil {
					nFail.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				nOK.Add(1)
				id = got
			}
			if id != "" {
				mu.Lock()
				last = append(last, id)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	ok = nOK.Load()
	return float64(ok) / time.Since(start).Seconds(), ok, nFail.Load(), firstErr, last
}

// drain waits until the records of ids are final and the function's
// queue is empty (lambda_async_queue_depth 0 on /metrics), for at most
// limit.
func drain(c *http.Client, base, function string, ids []string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for _, id := range ids {
		for {
			left := time.Until(deadline)
			if left <= 0 {
				return fmt.Errorf("drain: record %s not final after %s", id, limit)
			}
			rec, err := getRecord(c, base, id, min(left, 10*time.Second))
			if err != nil {
				return fmt.Errorf("drain: %w", err)
			}
			if rec.final() {
				break
			}
		}
	}
	for {
		depth, err := queueDepth(c, base, function)
		if err != nil {
			return fmt.Errorf("drain: %w", err)
		}
		if depth == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("drain: %v events of %s still queued after %s", depth, function, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// queueDepth reads lambda_async_queue_depth of function from /metrics; a
// function without the series has nothing queued.
func queueDepth(c *http.Client, base, function string) (float64, error) {
	resp, err := c.Get(metricsURL(base))
	if err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("metrics: status %d", resp.StatusCode)
	}
	prefix := `lambda_async_queue_depth{function="` + function + `"} `
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("metrics: queue depth %q: %w", v, err)
			}
			return f, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("metrics: %w", err)
	}
	return 0, nil
}

// capture starts downloading url (a pprof profile or trace, which the
// server answers when its collection time is over) into path; the
// returned function waits for it.
func capture(c *http.Client, url, path string) func() error {
	done := make(chan error, 1)
	go func() {
		resp, err := c.Get(url)
		if err != nil {
			done <- fmt.Errorf("profile %s: %w", url, err)
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			done <- fmt.Errorf("profile %s: status %d", url, resp.StatusCode)
			return
		}
		f, err := os.Create(path)
		if err != nil {
			done <- fmt.Errorf("profile: %w", err)
			return
		}
		if _, err := io.Copy(f, resp.Body); err != nil {
			f.Close()
			done <- fmt.Errorf("profile %s: %w", path, err)
			return
		}
		done <- f.Close()
	}()
	return func() error { return <-done }
}

// freeLoopbackAddr returns a loopback address with a port free a moment
// ago, for the server's debug listener.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	return addr, nil
}

// printAsync prints the asynchronous rows of the table.
func printAsync(res *asyncResults, samples int, floorP50, floorP99 time.Duration) {
	for _, r := range res.runs {
		fmt.Printf(rowName+" %10.0f/s %10.0f/s %7.0f%%  (non-202: %d)\n", fmt.Sprintf("event accept rate, concurrency %d", r.conc), r.floor, r.accepted, 100*r.accepted/r.floor, r.errors)
		if r.firstErr != nil {
			fmt.Printf("    first non-202: %v\n", r.firstErr)
		}
		errRow("floor", r.floorErrs)
		if r.profiled != "" {
			fmt.Printf("    %s\n", r.profiled)
		}
		if r.drainErr != nil {
			fmt.Printf("    %d events accepted; queue NOT drained: %v\n", r.total, r.drainErr)
		} else {
			fmt.Printf("    %d events accepted; queue drained %s after the run (%.0f events run/s overall)\n", r.total, r.drained.Round(time.Millisecond), r.drainRate)
		}
	}
	fmt.Printf(rowName+" %12s %12s %7.2fx\n", "event 202 latency p50, concurrency 1", fmtDur(floorP50), fmtDur(res.acceptP50), ratio(res.acceptP50, floorP50))
	fmt.Printf(rowName+" %12s %12s %7.2fx\n", "event 202 latency p99, concurrency 1", fmtDur(floorP99), fmtDur(res.acceptP99), ratio(res.acceptP99, floorP99))
	fmt.Printf(rowName+" %12s %12s %7.2fx\n", fmt.Sprintf("event accept→start p50 (%d, warm)", samples), fmtDur(floorP50), fmtDur(res.startP50), ratio(res.startP50, floorP50))
	fmt.Printf(rowName+" %12s %12s %7.2fx\n", fmt.Sprintf("event accept→start p99 (%d, warm)", samples), fmtDur(floorP99), fmtDur(res.startP99), ratio(res.startP99, floorP99))
	fmt.Printf("    of which accept→record startedAt: p50 %s, p99 %s\n", fmtDur(res.pickP50), fmtDur(res.pickP99))
}

// asyncBars reports the asynchronous bars: at least 5,000 accepted Event
// invokes per second at concurrency 32 without errors, and an
// accept→start p50 of at most 5 ms.
func asyncBars(res *asyncResults) string {
	acceptOK := false
	for _, r := range res.runs {
		if r.conc == 32 {
			acceptOK = r.accepted >= 5000 && r.errors == 0
		}
	}
	return fmt.Sprintf("event accept c32 >= 5000/s without errors: %v; event accept→start p50 <= 5ms: %v", acceptOK, res.startP50 <= 5*time.Millisecond)
}
