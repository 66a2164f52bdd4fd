package fnlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultBufferBytes is the default [SinkConfig.BufferBytes]: 16 MiB of
// lines waiting to be stored, at most 4 MiB of them from one function.
const DefaultBufferBytes = 16 << 20

// MinBufferBytes is the smallest [SinkConfig.BufferBytes]: a function's
// quarter must hold a few lines of [MaxLineSize].
const MinBufferBytes = 4 << 20

// Reasons a line is dropped, as given to [DropObserver].
const (
	// DropBuffer: the function's share of the sink's buffer was full; it
	// writes faster than the store takes its lines.
	DropBuffer = "buffer"
	// DropStore: JetStream refused the line or did not acknowledge it.
	DropStore = "store"
	// DropClosed: the sink was closing.
	DropClosed = "closed"
)

// DropObserver is told of the lines a [JetStreamSink] drops; the daemon's
// metrics implement it. Calls may come from any goroutine, some with an
// [Env]'s lock held: they must be quick and must not call back into fnlog.
type DropObserver interface {
	// LogLinesDropped reports lines of function lost for reason (one of
	// the Drop constants), and the bytes of their text.
	LogLinesDropped(function, reason string, lines, bytes int)
}

// SinkConfig configures a [JetStreamSink].
type SinkConfig struct {
	// Limits is the budget of each function's log stream, applied when
	// the sink first publishes to it (creating or updating the stream).
	Limits Limits
	// BufferBytes bounds the lines held in memory waiting to be stored,
	// all functions together; one function may hold at most a quarter of
	// it. Lines past either bound are dropped and counted. 0 means
	// [DefaultBufferBytes].
	BufferBytes int
	// Observer, when not nil, is told of every dropped line.
	Observer DropObserver
}

// sinkConfig is the internal tuning of a JetStreamSink; tests shrink it.
type sinkConfig struct {
	batch      int           // records published before waiting for acks
	batchBytes int           // bytes published before waiting for acks
	linger     time.Duration // wait after the first record of a burst for more
	stallWait  time.Duration // longest PublishMsgAsync may block
	ackWait    time.Duration // longest wait for a batch's acks, or a stream's creation
	closeWait  time.Duration // longest Close spends publishing what is queued
	warnEvery  time.Duration // at most one failure warning per period
}

// defaultSinkConfig is the production tuning: batches of up to 1024
// records or 1 MiB, whichever comes first.
var defaultSinkConfig = sinkConfig{
	batch:      1024,
	batchBytes: 1 << 20,
	linger:     20 * time.Millisecond,
	stallWait:  200 * time.Millisecond,
	ackWait:    5 * time.Second,
	closeWait:  2 * time.Second,
	warnEvery:  10 * time.Second,
}

// platformReserve is how far past a function's share platform lines
// (START, END, REPORT) may fill the buffer, so that a function flooding
// its share still gets the REPORT that counts what it lost.
const platformReserve = 64 << 10

// recordOverhead is what a queued record costs beyond its message and
// request ID: the struct and the JSON field names it is stored with.
const recordOverhead = 160

// recordSize is the bytes a queued record is charged.
func recordSize(r Record) int { return recordOverhead + len(r.Message) + len(r.RequestID) }

// errSinkClosed is the cause given when Close gives up on queued records.
var errSinkClosed = errors.New("fnlog: sink closed with records unpublished")

// JetStreamSink is the [Sink] that stores records as JSON in each
// function's own JetStream stream ([StreamOf]), created on the function's
// first record with the budget of [SinkConfig.Limits].
//
// Publish never blocks: it appends the record to its function's queue in
// memory and returns. Each function may queue a quarter of
// [SinkConfig.BufferBytes], all together the whole of it; a record past
// either bound is dropped and counted (per function, for the next REPORT,
// see [DropCounter], and for the [DropObserver]). So a function that
// floods stdout costs the server a bounded amount of memory, loses its
// own lines rather than anyone else's, and cannot crowd the others out of
// the buffer.
//
// One goroutine, owned by the sink and stopped by Close, waits 20 ms after
// the first record of a burst, then takes the queues in turn, up to 64
// KiB of one function at a time and 1 MiB or 1024 records per batch,
// publishes the batch with the async publish API and waits for its acks
// before taking the next.
type JetStreamSink struct {
	js       jetstream.JetStream
	logger   *slog.Logger
	cfg      sinkConfig
	limits   Limits
	observer DropObserver // may be nil
	buffer   int          // bytes queued at most, all functions
	fnBuffer int          // bytes queued at most, one function

	mu     sync.Mutex // a leaf lock, taken under Env.mu
	queues map[string]*fnQueue
	ready  []*fnQueue // functions with queued records, in turn order
	queued int        // bytes queued, all functions
	closed bool

	wake      chan struct{} // capacity 1: records were queued
	stop      chan struct{} // closed by Close
	done      chan struct{} // closed when run returns
	closeOnce sync.Once

	dropped   atomic.Uint64
	failed    atomic.Uint64
	published atomic.Uint64

	streams  map[string]bool // used by run only: streams made or updated
	lastWarn time.Time       // used by run only
}

// fnQueue is one function's records waiting to be stored. All fields are
// guarded by JetStreamSink.mu.
type fnQueue struct {
	function   string
	recs       []Record
	bytes      int    // sum of recordSize(recs)
	ready      bool   // in JetStreamSink.ready
	unreported uint64 // lines dropped since the last TakeDropped
}

// NewJetStreamSink starts a sink publishing with js. Call Close to stop it.
func NewJetStreamSink(js jetstream.JetStream, cfg SinkConfig, logger *slog.Logger) *JetStreamSink {
	return newJetStreamSink(js, cfg, logger, defaultSinkConfig)
}

func newJetStreamSink(js jetstream.JetStream, cfg SinkConfig, logger *slog.Logger, tune sinkConfig) *JetStreamSink {
	if cfg.BufferBytes <= 0 {
		cfg.BufferBytes = DefaultBufferBytes
	}
	s := &JetStreamSink{
		js:       js,
		logger:   logger.With("component", "fnlog"),
		cfg:      tune,
		limits:   cfg.Limits,
		observer: cfg.Observer,
		buffer:   cfg.BufferBytes,
		fnBuffer: cfg.BufferBytes / 4,
		queues:   make(map[string]*fnQueue),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		streams:  make(map[string]bool),
	}
	go s.run()
	return s
}

// Publish queues rec without blocking; it drops rec when its function's
// share of the buffer, or the buffer, is full, or the sink is closed.
func (s *JetStreamSink) Publish(rec Record) {
	size := recordSize(rec)
	s.mu.Lock()
	reason := s.admitLocked(rec, size)
	s.mu.Unlock()
	if reason == "" {
		select {
		case s.wake <- struct{}{}:
		default:
		}
		return
	}
	s.dropped.Add(1)
	if s.observer != nil {
		s.observer.LogLinesDropped(rec.Function, reason, 1, len(rec.Message))
	}
}

// admitLocked queues rec, or counts it as dropped and returns why.
func (s *JetStreamSink) admitLocked(rec Record, size int) (reason string) {
	q := s.queueLocked(rec.Function)
	fnMax, allMax := s.fnBuffer, s.buffer
	if rec.platform {
		fnMax, allMax = fnMax+platformReserve, allMax+platformReserve
	}
	switch {
	case s.closed:
		reason = DropClosed
	case q.bytes+size > fnMax || s.queued+size > allMax:
		reason = DropBuffer
	default:
		q.recs = append(q.recs, rec)
		q.bytes += size
		s.queued += size
		if !q.ready {
			q.ready = true
			s.ready = append(s.ready, q)
		}
		return ""
	}
	q.unreported += 1 + rec.reports
	return reason
}

// queueLocked returns function's queue, making it if needed.
func (s *JetStreamSink) queueLocked(function string) *fnQueue {
	q := s.queues[function]
	if q == nil {
		q = &fnQueue{function: function}
		s.queues[function] = q
	}
	return q
}

// forgetLocked removes q from the map when it holds nothing to remember.
func (s *JetStreamSink) forgetLocked(q *fnQueue) {
	if !q.ready && len(q.recs) == 0 && q.unreported == 0 {
		delete(s.queues, q.function)
	}
}

// TakeDropped returns how many of function's lines were dropped since the
// last call (in Publish, or refused by JetStream) and resets the count;
// see [DropCounter].
func (s *JetStreamSink) TakeDropped(function string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[function]
	if q == nil {
		return 0
	}
	n := q.unreported
	q.unreported = 0
	s.forgetLocked(q)
	return n
}

// Dropped returns how many records Publish dropped because a buffer was
// full or the sink closed, plus those still queued when Close gave up.
func (s *JetStreamSink) Dropped() uint64 { return s.dropped.Load() }

// Failed returns how many records were handed to JetStream but not stored:
// publish errors, acks not received within 5 s, streams not created.
func (s *JetStreamSink) Failed() uint64 { return s.failed.Load() }

// Published returns how many records JetStream acknowledged.
func (s *JetStreamSink) Published() uint64 { return s.published.Load() }

// Close stops accepting records, publishes what is queued for up to 2 s,
// waiting for acks, and stops the goroutine. Records it could not publish in
// time are counted as dropped and reported in the error. Close is
// idempotent.
func (s *JetStreamSink) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.stop)
		t := time.NewTimer(s.cfg.closeWait + s.cfg.stallWait + s.cfg.ackWait + time.Second)
		defer t.Stop()
		select {
		case <-s.done:
		case <-t.C:
			err = fmt.Errorf("fnlog: close sink: publisher did not stop: %w", errSinkClosed)
			return
		}
		if n := s.discardQueued(); n > 0 {
			err = fmt.Errorf("fnlog: close sink: %d records: %w", n, errSinkClosed)
		}
	})
	return err
}

// discardQueued drops every queued record, counting them, and returns
// how many there were.
func (s *JetStreamSink) discardQueued() int {
	type lost struct {
		function     string
		lines, bytes int
	}
	var losses []lost
	total := 0
	s.mu.Lock()
	for _, q := range s.ready {
		l := lost{function: q.function, lines: len(q.recs)}
		for _, r := range q.recs {
			l.bytes += len(r.Message)
			q.unreported += 1 + r.reports
		}
		losses = append(losses, l)
		total += l.lines
		q.recs, q.bytes, q.ready = nil, 0, false
	}
	s.ready, s.queued = nil, 0
	s.mu.Unlock()
	s.dropped.Add(uint64(total))
	if s.observer != nil {
		for _, l := range losses {
			s.observer.LogLinesDropped(l.function, DropClosed, l.lines, l.bytes)
		}
	}
	return total
}

// run is the publishing goroutine.
func (s *JetStreamSink) run() {
	defer close(s.done)
	var batch []Record
	for {
		select {
		case <-s.wake:
			// Linger so that the records of many invocations go out
			// together, and so that publishing (JetStream work on the
			// same CPUs) does not run in the middle of the invocation
			// that wrote the record; queuing wakes nobody meanwhile.
			if s.cfg.linger > 0 {
				t := time.NewTimer(s.cfg.linger)
				select {
				case <-t.C:
				case <-s.stop:
					t.Stop()
				}
			}
			for {
				select {
				case <-s.wake: // what follows takes those records
				default:
				}
				select {
				case <-s.stop:
					s.drain()
					return
				default:
				}
				batch = s.take(batch[:0])
				if len(batch) == 0 {
					break
				}
				s.publish(batch, time.Now().Add(s.cfg.ackWait))
			}
		case <-s.stop:
			s.drain()
			return
		}
	}
}

// drain publishes what is queued, for at most closeWait.
func (s *JetStreamSink) drain() {
	deadline := time.Now().Add(s.cfg.closeWait)
	var batch []Record
	for time.Now().Before(deadline) {
		batch = s.take(batch[:0])
		if len(batch) == 0 {
			return
		}
		s.publish(batch, deadline)
	}
}

// take moves queued records to batch: the functions in turn, at most one
// message's worth (maxMessageBytes) of each per turn, until the batch
// holds batch records or batchBytes bytes.
func (s *JetStreamSink) take(batch []Record) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	taken := 0
	for len(s.ready) > 0 && len(batch) < s.cfg.batch && taken < s.cfg.batchBytes {
		q := s.ready[0]
		s.ready[0] = nil
		s.ready = s.ready[1:]
		n, turn := 0, 0
		for n < len(q.recs) && turn < maxMessageBytes && len(batch) < s.cfg.batch {
			batch = append(batch, q.recs[n])
			turn += recordSize(q.recs[n])
			n++
		}
		clear(q.recs[:n]) // release the strings
		q.recs = q.recs[n:]
		q.bytes -= turn
		s.queued -= turn
		taken += turn
		if len(q.recs) > 0 {
			s.ready = append(s.ready, q)
		} else {
			q.recs, q.ready = nil, false
			s.forgetLocked(q)
		}
	}
	return batch
}

// maxMessageBytes bounds one stored message; records of one function that
// are taken together share a message, one JSON record per line, so that a
// busy function costs JetStream one write per 64 KiB rather than per line.
const maxMessageBytes = 64 << 10

// message is one stored message being published.
type message struct {
	function string
	records  int
	reports  uint64 // dropped lines its records report
	bytes    int    // text bytes of its records
	future   jetstream.PubAckFuture
}

// publish sends batch asynchronously and waits for the acks until deadline.
func (s *JetStreamSink) publish(batch []Record, deadline time.Time) {
	var sent []message
	var lastErr error
	fail := func(m message, err error) {
		lastErr = err
		s.lose(m)
	}
	send := func(m message, data []byte) {
		if !s.streams[m.function] {
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			err := ensureStream(ctx, s.js, m.function, s.limits)
			cancel()
			if err != nil {
				fail(m, err)
				return
			}
			s.streams[m.function] = true
		}
		msg := &nats.Msg{Subject: Subject(m.function), Data: data}
		f, err := s.js.PublishMsgAsync(msg, jetstream.WithStallWait(s.cfg.stallWait))
		if err != nil {
			fail(m, fmt.Errorf("fnlog: publish %s: %w", msg.Subject, err))
			return
		}
		m.future = f
		sent = append(sent, m)
	}
	var buf []byte
	var cur message
	for _, rec := range batch {
		data, err := json.Marshal(rec)
		if err != nil {
			fail(message{function: rec.Function, records: 1, reports: rec.reports, bytes: len(rec.Message)},
				fmt.Errorf("fnlog: encode record: %w", err))
			continue
		}
		if cur.records > 0 && (rec.Function != cur.function || len(buf)+len(data)+1 > maxMessageBytes) {
			send(cur, buf)
			buf, cur = nil, message{}
		}
		cur.function = rec.Function
		cur.records++
		cur.reports += rec.reports
		cur.bytes += len(rec.Message)
		buf = append(append(buf, data...), '\n')
	}
	if cur.records > 0 {
		send(cur, buf)
	}
	if len(sent) > 0 {
		t := time.NewTimer(time.Until(deadline))
	wait:
		for i, m := range sent {
			select {
			case <-m.future.Ok():
				s.published.Add(uint64(m.records))
			case err := <-m.future.Err():
				if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) {
					delete(s.streams, m.function) // deleted behind our back: make it again
				}
				fail(m, fmt.Errorf("fnlog: publish %s: %w", m.future.Msg().Subject, err))
			case <-t.C:
				for _, rest := range sent[i:] {
					s.lose(rest)
				}
				lastErr = fmt.Errorf("fnlog: publish: %d acks not received in time", len(sent)-i)
				break wait
			}
		}
		t.Stop()
	}
	if lastErr != nil {
		if now := time.Now(); now.Sub(s.lastWarn) >= s.cfg.warnEvery {
			s.lastWarn = now
			s.logger.Warn("function log records lost", "failed_total", s.failed.Load(),
				"dropped_total", s.dropped.Load(), "err", lastErr)
		}
	}
}

// lose counts the records of m as not stored: for the sink's totals, for
// the next REPORT of m's function and for the observer.
func (s *JetStreamSink) lose(m message) {
	s.failed.Add(uint64(m.records))
	s.mu.Lock()
	s.queueLocked(m.function).unreported += uint64(m.records) + m.reports
	s.mu.Unlock()
	if s.observer != nil {
		s.observer.LogLinesDropped(m.function, DropStore, m.records, m.bytes)
	}
}
