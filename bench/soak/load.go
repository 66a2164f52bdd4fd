package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The functions, queue and stream the soak deploys.
const (
	fnSync   = "soak-sync"
	fnEvent  = "soak-event"
	fnQueue  = "soak-queue"
	fnStream = "soak-stream"
	fnUpload = "soak-upload"
	queue    = "soak-jobs"
	stream   = "soak-stream"
)

// The kinds of load, in the order they are reported.
var kinds = []string{"sync", "event", "queue", "stream", "upload"}

// phase says which fault was being injected when a request started, so
// that errors can be told apart from errors under steady load.
type phase struct{ v atomic.Value }

func (p *phase) set(s string) { p.v.Store(s) }
func (p *phase) get() string {
	s, _ := p.v.Load().(string)
	return s
}

// accepted is one request the server accepted: the payload id, and for
// Event invokes the request id of the record.
type accepted struct {
	id, requestID string
}

// ledger is what one kind of load sent and what became of it.
type ledger struct {
	kind string

	mu sync.Mutex
	// All fields below are guarded by mu.
	sent, skipped int
	accepted      []accepted
	// wrong counts accepted answers whose body was not what was sent
	// (sync: the echoed id).
	wrong []string
	// errs counts failures by phase and class; examples keeps the first
	// error of each.
	errs     map[string]map[string]int
	examples map[string]string
	// slowest is the longest answer (or failure) per phase.
	slowest map[string]time.Duration
}

func newLedger(kind string) *ledger {
	return &ledger{kind: kind, errs: map[string]map[string]int{}, examples: map[string]string{}, slowest: map[string]time.Duration{}}
}

func (l *ledger) record(ph string, took time.Duration, acc *accepted, class string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent++
	l.slowest[ph] = max(l.slowest[ph], took)
	if acc != nil {
		l.accepted = append(l.accepted, *acc)
		return
	}
	if l.errs[ph] == nil {
		l.errs[ph] = map[string]int{}
	}
	l.errs[ph][class]++
	if _, ok := l.examples[class]; !ok {
		l.examples[class] = err.Error()
	}
}

// errorCount is the number of failed requests.
func (l *ledger) errorCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.errs {
		for _, c := range m {
			n += c
		}
	}
	return n
}

// acceptedIDs returns a copy of the accepted requests.
func (l *ledger) acceptedIDs() []accepted {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.accepted)
}

// classify names an error for counting: the HTTP status and error type of
// an answer, or what happened to the connection.
func classify(resp *response, err error) string {
	if err != nil {
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return "client timeout"
		case strings.Contains(err.Error(), "connection refused"):
			return "connection refused"
		case strings.Contains(err.Error(), "connection reset"), strings.Contains(err.Error(), "EOF"), strings.Contains(err.Error(), "broken pipe"):
			return "connection closed"
		default:
			return "transport error"
		}
	}
	t := resp.header.Get("X-Amzn-Errortype")
	if t == "" {
		var doc struct {
			Type   string `json:"__type"`
			Type2  string `json:"Type"`
			Code   string `json:"code"`
			Reason string `json:"Reason"`
		}
		_ = json.Unmarshal(resp.body, &doc)
		t = firstNonEmpty(doc.Type, doc.Type2, doc.Code)
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s", resp.status, t))
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// loadConfig sizes the load.
type loadConfig struct {
	rate        float64       // requests per second of each kind
	maxInflight int           // per kind; a tick finding them all busy is skipped
	uploadEvery time.Duration // period of the code uploads
	uploadBytes int           // size of each upload's zip
}

// loader runs every kind of load against one server URL.
type loader struct {
	api     *api
	cfg     loadConfig
	phase   *phase
	ledgers map[string]*ledger
	seq     atomic.Int64
	runID   string
	zip     func(n int) ([]byte, error) // a deployment zip of about n bytes
}

// run generates load until ctx ends and waits for requests in flight.
func (l *loader) run(ctx context.Context) {
	var wg sync.WaitGroup
	send := map[string]func(context.Context) (*accepted, string, error){
		"sync": l.syncInvoke, "event": l.eventInvoke, "queue": l.sendMessage, "stream": l.putRecord,
	}
	for kind, f := range send {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.tick(ctx, kind, time.Duration(float64(time.Second)/l.cfg.rate), l.cfg.maxInflight, f)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.tick(ctx, "upload", l.cfg.uploadEvery, 1, l.upload)
	}()
	wg.Wait()
}

// tick starts f every interval, at most inflight at once.
func (l *loader) tick(ctx context.Context, kind string, interval time.Duration, inflight int, f func(context.Context) (*accepted, string, error)) {
	led := l.ledgers[kind]
	sem := make(chan struct{}, inflight)
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			led.mu.Lock()
			led.skipped++
			led.mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ph := l.phase.get()
			start := time.Now()
			// Requests already sent are not cut short when the load
			// ends: their client timeout bounds them.
			acc, class, err := f(context.WithoutCancel(ctx))
			led.record(ph, time.Since(start), acc, class, err)
		}()
	}
}

// nextID returns a payload id unique to this run.
func (l *loader) nextID(kind string) string {
	return fmt.Sprintf("%s-%s-%d", kind, l.runID, l.seq.Add(1))
}

func (l *loader) syncInvoke(ctx context.Context) (*accepted, string, error) {
	return l.syncInvokeVia(ctx, l.api)
}

// syncInvokeVia is syncInvoke through another client.
func (l *loader) syncInvokeVia(ctx context.Context, a *api) (*accepted, string, error) {
	id := l.nextID("s")
	body, _ := json.Marshal(map[string]string{"id": id})
	resp, err := a.do(ctx, http.MethodPost, "/2015-03-31/functions/"+fnSync+"/invocations", "lambda", nil, body)
	if err != nil || resp.status != http.StatusOK || resp.header.Get("X-Amz-Function-Error") != "" {
		return nil, classifyInvoke(resp, err), errOf(resp, err)
	}
	var got struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(resp.body, &got); err != nil || got.ID != id {
		led := l.ledgers["sync"]
		led.mu.Lock()
		led.wrong = append(led.wrong, fmt.Sprintf("sent id %s, answer %s", id, resp))
		led.mu.Unlock()
	}
	return &accepted{id: id}, "", nil
}

func (l *loader) eventInvoke(ctx context.Context) (*accepted, string, error) {
	id := l.nextID("e")
	body, _ := json.Marshal(map[string]string{"id": id})
	h := http.Header{}
	h.Set("X-Amz-Invocation-Type", "Event")
	resp, err := l.api.do(ctx, http.MethodPost, "/2015-03-31/functions/"+fnEvent+"/invocations", "lambda", h, body)
	if err != nil || resp.status != http.StatusAccepted {
		return nil, classify(resp, err), errOf(resp, err)
	}
	rid := resp.header.Get("X-Amzn-Requestid")
	if rid == "" {
		return nil, "202 without a request id", errors.New("202 without X-Amzn-RequestId")
	}
	return &accepted{id: id, requestID: rid}, "", nil
}

func (l *loader) sendMessage(ctx context.Context) (*accepted, string, error) {
	id := l.nextID("q")
	body, _ := json.Marshal(map[string]string{"MessageBody": id})
	resp, err := l.api.do(ctx, http.MethodPost, "/updraft/v1/queues/"+queue+"/messages", "lambda", nil, body)
	if err != nil || resp.status != http.StatusOK {
		return nil, classify(resp, err), errOf(resp, err)
	}
	return &accepted{id: id}, "", nil
}

func (l *loader) putRecord(ctx context.Context) (*accepted, string, error) {
	id := l.nextID("k")
	body, _ := json.Marshal(map[string]string{"StreamName": stream, "PartitionKey": id, "Data": base64.StdEncoding.EncodeToString([]byte(id))})
	resp, err := l.api.kinesis(ctx, "PutRecord", body)
	if err != nil || resp.status != http.StatusOK {
		return nil, classify(resp, err), errOf(resp, err)
	}
	return &accepted{id: id}, "", nil
}

// upload replaces soak-upload's code with a zip larger than what the
// server keeps in memory while it checks a signature, so the body is
// spooled to <data-dir>/spool.
func (l *loader) upload(ctx context.Context) (*accepted, string, error) {
	body, err := l.uploadBody()
	if err != nil {
		return nil, "soak error", err
	}
	resp, err := l.api.do(ctx, http.MethodPut, "/2015-03-31/functions/"+fnUpload+"/code", "lambda", nil, body)
	if err != nil || resp.status != http.StatusOK {
		return nil, classify(resp, err), errOf(resp, err)
	}
	return &accepted{id: "upload"}, "", nil
}

// uploadBody is an UpdateFunctionCode request with a fresh zip.
func (l *loader) uploadBody() ([]byte, error) {
	z, err := l.zip(l.cfg.uploadBytes)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"ZipFile": base64.StdEncoding.EncodeToString(z)})
}

// classifyInvoke is classify for a sync invoke, where a function error
// is a 200.
func classifyInvoke(resp *response, err error) string {
	if err == nil && resp.status == http.StatusOK {
		return "function error " + resp.header.Get("X-Amz-Function-Error")
	}
	return classify(resp, err)
}

// errOf turns a failed request into an error.
func errOf(resp *response, err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("answer %s", resp)
}

// mustDo is a signed request that must answer one of want.
func (a *api) mustDo(ctx context.Context, method, path, service string, body any, want ...int) (*response, error) {
	var b []byte
	switch v := body.(type) {
	case nil:
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	resp, err := a.do(ctx, method, path, service, nil, b)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if !slices.Contains(want, resp.status) {
		return resp, fmt.Errorf("%s %s: answer %s", method, path, resp)
	}
	return resp, nil
}
