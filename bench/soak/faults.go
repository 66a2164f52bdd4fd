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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// faulter injects the faults into one server while the load runs. Every
// fault records what it saw in the report and any broken guarantee as a
// violation.
type faulter struct {
	srv     *server
	reap    *reaper
	api     *api
	loader  *loader
	phase   *phase
	mount   string // the tmpfs holding the data dir
	rep     *report
	maxConn int

	fillHold, connHold, recoverWithin time.Duration
}

// killRestart kills the server with SIGKILL while an upload is being
// spooled, starts it again on the same data dir, and notes whether the
// dead server's spool file survived the restart.
func (f *faulter) killRestart(ctx context.Context) error {
	f.phase.set("kill")
	defer f.phase.set("steady")
	k := killReport{}
	stalled, stop, err := f.stalledUpload(ctx)
	if err != nil {
		k.note = "no spooled upload in flight: " + err.Error()
	}
	k.spooledAtKill = stalled
	inc, err := f.srv.kill()
	stop()
	if err != nil {
		return err
	}
	k.pid = inc.pid
	start := time.Now()
	newInc, err := f.srv.start(ctx, f.reap)
	if err != nil {
		return fmt.Errorf("restart after SIGKILL: %w", err)
	}
	k.restart = time.Since(start)
	k.ready = newInc.ready
	ents, _ := os.ReadDir(filepath.Join(f.srv.dataDir, "spool"))
	for _, e := range ents {
		if slices.Contains(stalled, e.Name()) {
			k.spoolLeft = append(k.spoolLeft, e.Name())
		}
	}
	f.rep.mu.Lock()
	f.rep.kills = append(f.rep.kills, k)
	f.rep.mu.Unlock()
	return nil
}

// stalledUpload starts an UpdateFunctionCode whose body stops after 9 MiB
// (more than the 8 MB the server verifies in memory), waits until the
// server spooled it to a file and returns the spool files that appeared;
// stop ends the request.
func (f *faulter) stalledUpload(ctx context.Context) ([]string, func(), error) {
	before, _ := os.ReadDir(filepath.Join(f.srv.dataDir, "spool"))
	body, err := f.loader.uploadBody()
	if err != nil {
		return nil, func() {}, err
	}
	req, err := f.api.signed(ctx, http.MethodPut, "/2015-03-31/functions/"+fnUpload+"/code", "lambda", nil, body)
	if err != nil {
		return nil, func() {}, err
	}
	gate := make(chan struct{})
	const first = 9 << 20
	req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body[:first]), gateReader{gate}, bytes.NewReader(body[first:])))
	req.ContentLength = int64(len(body))
	reqCtx, cancel := context.WithCancel(ctx)
	req = req.WithContext(reqCtx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	stop := func() {
		cancel()
		close(gate)
		<-done
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir(filepath.Join(f.srv.dataDir, "spool"))
		var fresh []string
		for _, e := range ents {
			if !slices.ContainsFunc(before, func(b os.DirEntry) bool { return b.Name() == e.Name() }) {
				fresh = append(fresh, e.Name())
			}
		}
		if len(fresh) > 0 {
			// Let the copy reach the stall.
			time.Sleep(200 * time.Millisecond)
			return fresh, stop, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil, stop, errors.New("no spool file appeared within 10 s")
}

// gateReader blocks until its channel is closed, then reports EOF.
type gateReader struct{ c chan struct{} }

func (g gateReader) Read([]byte) (int, error) {
	<-g.c
	return 0, io.EOF
}

// fillDisk writes a file into the data dir's file system until ENOSPC,
// holds it while the load runs, frees it, and checks that the server
// recovers without a restart: a sync invoke, an Event invoke that runs to
// a final record, a queue message and a stream record all accepted, and
// /healthz ok.
func (f *faulter) fillDisk(ctx context.Context) error {
	fr := fillReport{}
	path := filepath.Join(f.mount, "filler")
	file, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("filler: %w", err)
	}
	f.phase.set("full disk")
	start := time.Now()
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	for {
		n, err := file.Write(chunk)
		fr.filled += int64(n)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			file.Close()
			os.Remove(path)
			f.phase.set("steady")
			return fmt.Errorf("filler: %w", err)
		}
	}
	fr.fillTook = time.Since(start)
	// Whatever the server frees meanwhile is taken too: the file system
	// stays full for the whole hold.
	holdEnd := time.Now().Add(f.fillHold)
	for time.Now().Before(holdEnd) {
		if n, _ := file.Write(chunk[:4096]); n > 0 {
			fr.filled += int64(n)
		}
		if h, err := healthz(ctx, f.srv.url()); err != nil {
			fr.healthDuring = append(fr.healthDuring, "error: "+classify(nil, err))
		} else {
			fr.healthDuring = append(fr.healthDuring, fmt.Sprintf("%d %s", h.code, firstNonEmpty(h.status, h.body)))
		}
		time.Sleep(time.Second)
	}
	file.Close()
	if err := os.Remove(path); err != nil {
		f.phase.set("steady")
		return fmt.Errorf("free the filler: %w", err)
	}
	f.phase.set("after full disk")
	freed := time.Now()
	fr.recovered, fr.stillFailing = f.recovered(ctx, f.recoverWithin)
	if fr.recovered {
		fr.recoverTook = time.Since(freed)
		f.phase.set("steady")
	} else {
		// Until the next fault (a kill restarts the server), errors
		// are those of a server that did not recover.
		f.phase.set("not recovered")
	}
	f.rep.mu.Lock()
	f.rep.fills = append(f.rep.fills, fr)
	f.rep.mu.Unlock()
	return nil
}

// recovered probes every path that writes to the store until all work
// or within passes; it returns what still failed last.
func (f *faulter) recovered(ctx context.Context, within time.Duration) (bool, []string) {
	deadline := time.Now().Add(within)
	var failing []string
	for time.Now().Before(deadline) {
		failing = nil
		probe := func(name string, f func(context.Context) error) {
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := f(pctx); err != nil {
				failing = append(failing, name+": "+err.Error())
			}
		}
		probe("sync invoke", func(ctx context.Context) error { _, _, err := f.loader.syncInvoke(ctx); return err })
		probe("Event invoke", func(ctx context.Context) error {
			acc, _, err := f.loader.eventInvoke(ctx)
			if err != nil {
				return err
			}
			rec, err := waitRecord(ctx, f.api, acc.requestID, 8*time.Second)
			if err != nil {
				return fmt.Errorf("accepted, but %w", err)
			}
			if rec.Status != "SUCCEEDED" {
				return fmt.Errorf("accepted, but its record is %s %s", rec.Status, rec.Condition)
			}
			return nil
		})
		probe("queue send", func(ctx context.Context) error { _, _, err := f.loader.sendMessage(ctx); return err })
		probe("PutRecord", func(ctx context.Context) error { _, _, err := f.loader.putRecord(ctx); return err })
		probe("/healthz", func(ctx context.Context) error {
			h, err := healthz(ctx, f.srv.url())
			if err != nil {
				return err
			}
			if h.code != http.StatusOK || h.status != "ok" {
				return fmt.Errorf("%d %s", h.code, h.body)
			}
			return nil
		})
		if len(failing) == 0 {
			return true, nil
		}
		time.Sleep(time.Second)
	}
	return false, failing
}

// floodConnections opens as many connections as the server's cap allows
// — idle keep-alive ones, ones that send half a request header slowly,
// and ones that send a body a byte a second — holds them while the load
// runs, and meanwhile checks that a new client's signed sync invoke is
// still answered, as the connection cap promises.
func (f *faulter) floodConnections(ctx context.Context) error {
	prev := f.phase.get()
	f.phase.set("connection flood")
	defer f.phase.set(prev)
	cr := connReport{}
	addr := strings.TrimPrefix(f.srv.url(), "http://")
	var closed atomic.Int64
	var conns []net.Conn
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < f.maxConn; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			cr.dialErrors++
			cr.dialExample = err.Error()
			continue
		}
		conns = append(conns, c)
		switch i % 5 {
		case 0, 1: // an idle keep-alive connection: one request answered, then nothing
			cr.idle++
			if _, err := fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr); err == nil {
				br := bufio.NewReader(c)
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if resp, err := http.ReadResponse(br, nil); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				c.SetReadDeadline(time.Time{})
			}
		case 2, 3: // slowloris: a request line, then a header byte every 2 s
			cr.slowHeader++
			wg.Add(1)
			go func() {
				defer wg.Done()
				trickle(c, fmt.Sprintf("POST /2015-03-31/functions/%s/invocations HTTP/1.1\r\nHost: %s\r\n", fnSync, addr), "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 2*time.Second, stop)
			}()
		case 4: // a whole header, then a body a byte every second
			cr.slowBody++
			wg.Add(1)
			go func() {
				defer wg.Done()
				trickle(c, fmt.Sprintf("PUT /2015-03-31/functions/%s/code HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", fnUpload, addr), strings.Repeat("{", 1000), time.Second, stop)
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Whatever the server closes shows as EOF or a reset here.
			buf := make([]byte, 4096)
			for {
				if _, err := c.Read(buf); err != nil {
					select {
					case <-stop:
					default:
						closed.Add(1)
					}
					return
				}
			}
		}()
	}
	cr.opened = len(conns)
	// Probe from fresh connections, each a new client, while the flood
	// holds.
	probeClient := newAPI(f.srv.url(), 5*time.Second)
	probeClient.http.Transport = &http.Transport{DisableKeepAlives: true}
	holdEnd := time.Now().Add(f.connHold)
	for time.Now().Before(holdEnd) {
		start := time.Now()
		_, _, err := f.loader.syncInvokeVia(ctx, probeClient)
		took := time.Since(start)
		cr.probes = append(cr.probes, took)
		if err != nil {
			cr.probeFailures = append(cr.probeFailures, err.Error())
		}
		time.Sleep(500 * time.Millisecond)
	}
	cr.closedByServer = int(closed.Load())
	close(stop)
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
	f.rep.mu.Lock()
	f.rep.floods = append(f.rep.floods, cr)
	f.rep.mu.Unlock()
	return nil
}

// trickle writes head, then one byte of tail every interval, until stop
// or an error.
func trickle(c net.Conn, head, tail string, interval time.Duration, stop chan struct{}) {
	if _, err := io.WriteString(c, head); err != nil {
		return
	}
	for i := 0; ; i = (i + 1) % len(tail) {
		select {
		case <-stop:
			return
		case <-time.After(interval):
		}
		if _, err := c.Write([]byte{tail[i]}); err != nil {
			return
		}
	}
}

// record is the part of an invocation record the soak reads.
type record struct {
	Status    string          `json:"status"`
	Condition string          `json:"condition"`
	Attempts  int             `json:"attempts"`
	Result    json.RawMessage `json:"result"`
	Error     json.RawMessage `json:"error"`
}

// final reports whether the record reached an end state.
func (r *record) final() bool { return r.Status == "SUCCEEDED" || r.Status == "FAILED" }

// waitRecord long-polls GET /updraft/v1/invocations/{id} until the record
// is final or within passes.
func waitRecord(ctx context.Context, a *api, requestID string, within time.Duration) (*record, error) {
	deadline := time.Now().Add(within)
	var last string
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("record %s not final within %s (last: %s)", requestID, within, last)
		}
		wait := min(left, 20*time.Second)
		rctx, cancel := context.WithTimeout(ctx, wait+10*time.Second)
		resp, err := a.do(rctx, http.MethodGet, fmt.Sprintf("/updraft/v1/invocations/%s?wait=%d", requestID, max(1, int(wait.Seconds()))), "lambda", nil, nil)
		cancel()
		switch {
		case err != nil:
			last = err.Error()
			time.Sleep(500 * time.Millisecond)
		case resp.status == http.StatusOK:
			var rec record
			if err := json.Unmarshal(resp.body, &rec); err != nil {
				return nil, fmt.Errorf("record %s: %w: %s", requestID, err, resp.body)
			}
			if rec.final() {
				return &rec, nil
			}
			last = rec.Status
		default:
			last = resp.String()
			if resp.status == http.StatusNotFound {
				return nil, fmt.Errorf("record %s: %s", requestID, resp)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}
