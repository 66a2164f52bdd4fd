package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// errCount counts the failures of one phase and keeps the first, so the
// table can say how many there were and what went wrong: a failure is
// never only a number.
type errCount struct {
	n     atomic.Int64
	mu    sync.Mutex // guards first
	first error
}

// add counts err and keeps it when it is the first.
func (e *errCount) add(err error) {
	e.n.Add(1)
	e.mu.Lock()
	if e.first == nil {
		e.first = err
	}
	e.mu.Unlock()
}

// count is the number of failures so far.
func (e *errCount) count() int64 { return e.n.Load() }

// firstErr is the first failure, or nil.
func (e *errCount) firstErr() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.first
}

// String is "" without failures, else their count and the first.
func (e *errCount) String() string {
	if e.count() == 0 {
		return ""
	}
	return fmt.Sprintf("%d errors, the first: %v", e.count(), e.firstErr())
}

// post sends one synchronous invoke (or a floor request) and checks for a
// 200 without a function error. The error says what came back and how
// long it took, so a failure can be told apart: a throttle (429), the
// connection cap (503), a function timeout (200 with a function error), a
// dropped connection.
func post(c *http.Client, url string, payload []byte) error {
	start := time.Now()
	resp, err := c.Post(url, "application/json", bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("after %s: %w", time.Since(start).Round(time.Microsecond), err)
	}
	body, readErr := io.ReadAll(resp.Body)
	resp.Body.Close()
	fnErr := resp.Header.Get("X-Amz-Function-Error")
	if resp.StatusCode != http.StatusOK || fnErr != "" {
		return fmt.Errorf("after %s: status %d %s function error %q: %s", time.Since(start).Round(time.Microsecond),
			resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), fnErr, snippet(body))
	}
	if readErr != nil {
		return fmt.Errorf("after %s: read response: %w", time.Since(start).Round(time.Microsecond), readErr)
	}
	return nil
}

// snippet is the start of a response body for an error message.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// latency sends n sequential requests and returns the p50 and p99 of the
// ones that succeeded; failures go to errs. ok is false when none did.
func latency(c *http.Client, url string, payload []byte, n int, errs *errCount) (p50, p99 time.Duration, ok bool) {
	d := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if err := post(c, url, payload); err != nil {
			errs.add(err)
			continue
		}
		d = append(d, time.Since(start))
	}
	if len(d) == 0 {
		return 0, 0, false
	}
	p50, p99 = percentiles(d)
	return p50, p99, true
}

// percentiles sorts d and returns its p50 and p99.
func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	slices.Sort(d)
	return d[len(d)/2], d[len(d)*99/100]
}

// tputRun is one throughput run.
type tputRun struct {
	// rate is successful requests per second; ok is their number.
	rate float64
	ok   int64
	// cpu is the user+system time the server process spent during the
	// run, when one was watched.
	cpu time.Duration
}

// throughput runs conc workers against url for d and returns what they
// achieved. Failures go to errs. When pid is not 0, it also reads the
// CPU time that process spent during the run.
func throughput(c *http.Client, url string, payload []byte, conc int, d time.Duration, pid int, errs *errCount) (tputRun, error) {
	var cpu0 time.Duration
	if pid != 0 {
		var err error
		if cpu0, err = processCPU(pid); err != nil {
			return tputRun{}, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var ok atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := post(c, url, payload); err != nil {
					errs.add(err)
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	run := tputRun{rate: float64(ok.Load()) / time.Since(start).Seconds(), ok: ok.Load()}
	if pid != 0 {
		cpu1, err := processCPU(pid)
		if err != nil {
			return tputRun{}, err
		}
		run.cpu = cpu1 - cpu0
	}
	return run, nil
}
