package fnlog

import (
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

// sinkConfig sizes a JetStreamSink; tests shrink it.
type sinkConfig struct {
	buffer    int           // records queued before Publish drops
	batch     int           // records published before waiting for acks
	linger    time.Duration // wait after the first record of a batch for more
	stallWait time.Duration // longest PublishMsgAsync may block
	ackWait   time.Duration // longest wait for a batch's acks
	closeWait time.Duration // longest Close spends publishing what is queued
	warnEvery time.Duration // at most one failure warning per period
}

// defaultSinkConfig is the production sizing: 8192 queued records (a few MB
// at most), batches of 256.
var defaultSinkConfig = sinkConfig{
	buffer:    8192,
	batch:     256,
	linger:    20 * time.Millisecond,
	stallWait: 200 * time.Millisecond,
	ackWait:   5 * time.Second,
	closeWait: 2 * time.Second,
	warnEvery: 10 * time.Second,
}

// errSinkClosed is the cause given when Close gives up on queued records.
var errSinkClosed = errors.New("fnlog: sink closed with records unpublished")

// JetStreamSink is the [Sink] that publishes records to the [LogsStream]
// JetStream stream, subject [Subject](function), as JSON. Publish puts the
// record on a bounded channel and returns; one goroutine, owned by the sink
// and stopped by Close, waits 20 ms after the first record of a batch, takes
// up to 256 records at a time, publishes them with the async publish API and
// waits for their acks. When the channel is
// full, Publish drops the record and counts it ([JetStreamSink.Dropped]).
type JetStreamSink struct {
	js     jetstream.JetStream
	logger *slog.Logger
	cfg    sinkConfig

	ch        chan Record
	stop      chan struct{} // closed by Close
	done      chan struct{} // closed when run returns
	closeOnce sync.Once
	closed    atomic.Bool

	dropped   atomic.Uint64
	failed    atomic.Uint64
	published atomic.Uint64

	lastWarn time.Time // used by run only
}

// NewJetStreamSink starts a sink publishing with js. Call Close to stop it.
func NewJetStreamSink(js jetstream.JetStream, logger *slog.Logger) *JetStreamSink {
	return newJetStreamSink(js, logger, defaultSinkConfig)
}

func newJetStreamSink(js jetstream.JetStream, logger *slog.Logger, cfg sinkConfig) *JetStreamSink {
	s := &JetStreamSink{
		js:     js,
		logger: logger.With("component", "fnlog"),
		cfg:    cfg,
		ch:     make(chan Record, cfg.buffer),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	go s.run()
	return s
}

// Publish queues rec without blocking; it drops rec when the queue is full
// or the sink is closed.
func (s *JetStreamSink) Publish(rec Record) {
	if s.closed.Load() {
		s.dropped.Add(1)
		return
	}
	select {
	case s.ch <- rec:
	default:
		s.dropped.Add(1)
	}
}

// Dropped returns how many records Publish dropped because the queue was
// full or the sink closed, plus those still queued when Close gave up.
func (s *JetStreamSink) Dropped() uint64 { return s.dropped.Load() }

// Failed returns how many records were handed to JetStream but not stored:
// publish errors and acks not received within 5 s.
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
		s.closed.Store(true)
		close(s.stop)
		t := time.NewTimer(s.cfg.closeWait + s.cfg.stallWait + time.Second)
		defer t.Stop()
		select {
		case <-s.done:
		case <-t.C:
			err = fmt.Errorf("fnlog: close sink: publisher did not stop: %w", errSinkClosed)
			return
		}
		if n := len(s.ch); n > 0 {
			for range n {
				<-s.ch
			}
			s.dropped.Add(uint64(n))
			err = fmt.Errorf("fnlog: close sink: %d records: %w", n, errSinkClosed)
		}
	})
	return err
}

// run is the publishing goroutine.
func (s *JetStreamSink) run() {
	defer close(s.done)
	batch := make([]Record, 0, s.cfg.batch)
	for {
		select {
		case rec := <-s.ch:
			// Linger so that the records of many invocations go out
			// together, and so that publishing (JetStream work on the
			// same CPUs) does not run in the middle of the invocation
			// that wrote the record; sends to the buffered channel wake
			// nobody meanwhile.
			if s.cfg.linger > 0 {
				t := time.NewTimer(s.cfg.linger)
				select {
				case <-t.C:
				case <-s.stop:
					t.Stop()
				}
			}
			batch = s.fill(append(batch[:0], rec))
			s.publish(batch, time.Now().Add(s.cfg.ackWait))
		case <-s.stop:
			deadline := time.Now().Add(s.cfg.closeWait)
			for time.Now().Before(deadline) {
				batch = s.fill(batch[:0])
				if len(batch) == 0 {
					return
				}
				s.publish(batch, deadline)
			}
			return
		}
	}
}

// fill adds queued records to batch without waiting, up to the batch size.
func (s *JetStreamSink) fill(batch []Record) []Record {
	for len(batch) < s.cfg.batch {
		select {
		case rec := <-s.ch:
			batch = append(batch, rec)
		default:
			return batch
		}
	}
	return batch
}

// maxMessageBytes bounds one stored message; records of one function that
// arrive together share a message, one JSON record per line, so that a
// busy function costs JetStream one write per batch rather than per line.
const maxMessageBytes = 64 << 10

// publish sends batch asynchronously and waits for the acks until deadline.
func (s *JetStreamSink) publish(batch []Record, deadline time.Time) {
	type pending struct {
		future  jetstream.PubAckFuture
		records int
	}
	futures := make([]pending, 0, 4)
	var failed int
	var lastErr error
	send := func(function string, data []byte, records int) {
		msg := &nats.Msg{Subject: Subject(function), Data: data}
		f, err := s.js.PublishMsgAsync(msg, jetstream.WithStallWait(s.cfg.stallWait))
		if err != nil {
			failed += records
			lastErr = fmt.Errorf("fnlog: publish %s: %w", msg.Subject, err)
			return
		}
		futures = append(futures, pending{f, records})
	}
	var buf []byte
	var function string
	var inBuf int
	for _, rec := range batch {
		data, err := json.Marshal(rec)
		if err != nil {
			failed++
			lastErr = fmt.Errorf("fnlog: encode record: %w", err)
			continue
		}
		if inBuf > 0 && (rec.Function != function || len(buf)+len(data)+1 > maxMessageBytes) {
			send(function, buf, inBuf)
			buf, inBuf = nil, 0
		}
		function = rec.Function
		buf = append(append(buf, data...), '\n')
		inBuf++
	}
	if inBuf > 0 {
		send(function, buf, inBuf)
	}
	if len(futures) > 0 {
		t := time.NewTimer(time.Until(deadline))
	wait:
		for i, p := range futures {
			select {
			case <-p.future.Ok():
				s.published.Add(uint64(p.records))
			case err := <-p.future.Err():
				failed += p.records
				lastErr = fmt.Errorf("fnlog: publish %s: %w", p.future.Msg().Subject, err)
			case <-t.C:
				for _, rest := range futures[i:] {
					failed += rest.records
				}
				lastErr = fmt.Errorf("fnlog: publish: %d acks not received in time", len(futures)-i)
				break wait
			}
		}
		t.Stop()
	}
	if failed > 0 {
		s.failed.Add(uint64(failed))
		if now := time.Now(); now.Sub(s.lastWarn) >= s.cfg.warnEvery {
			s.lastWarn = now
			s.logger.Warn("function log records lost", "failed", failed,
				"failed_total", s.failed.Load(), "dropped_total", s.dropped.Load(), "err", lastErr)
		}
	}
}
