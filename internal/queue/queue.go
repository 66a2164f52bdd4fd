package queue

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Limits of a queue and its messages.
const (
	// MaxMessageBytes bounds a message: body plus attribute names, types
	// and values, as SQS counts them. It is SQS's limit since August 2025
	// (1 MiB; it was 256 KiB before) and matches Lambda's asynchronous
	// payload limit, so a dead-lettered event always fits.
	MaxMessageBytes = 1 << 20
	// MaxQueueBytes bounds the bytes one queue keeps. SQS queues are
	// unbounded; updraft bounds each so one forgotten dead-letter queue
	// cannot fill the disk. A full queue refuses new messages (ErrFull)
	// instead of dropping old ones.
	MaxQueueBytes = 1 << 30
	// Retention is how long a message waits to be received: 14 days, the
	// longest MessageRetentionPeriod SQS allows.
	Retention = 14 * 24 * time.Hour
	// DuplicateWindow is how long a message id is remembered to drop a
	// retried Send: 5 minutes, SQS's FIFO deduplication interval.
	DuplicateWindow = 5 * time.Minute
	// MaxReceive is the most messages one Receive returns (SQS's
	// MaxNumberOfMessages).
	MaxReceive = 10
	// MaxWait is the longest long poll (SQS's WaitTimeSeconds).
	MaxWait = 20 * time.Second
	// defaultAckWait is how long JetStream waits for the acknowledgement
	// of a message it delivered before it delivers it again (SQS's default
	// visibility timeout); see WithVisibilityTimeout. Receive acknowledges
	// at once, so for it this only matters when a receiver vanished.
	defaultAckWait = 30 * time.Second
	// maxIDLen bounds a caller's message id (SQS's
	// MessageDeduplicationId is at most 128 characters).
	maxIDLen = 128
)

// Message is one message taken from a queue.
type Message struct {
	// MessageID is the id Send returned (a UUID unless SendWithID chose
	// another).
	MessageID string
	// Body is the message body, byte for byte as sent.
	Body []byte
	// Attributes are the message attributes; nil when there are none.
	Attributes map[string]Attribute
	// SentAt is when JetStream stored the message.
	SentAt time.Time
	// MD5OfBody is the hex MD5 digest of Body, as SQS reports it.
	MD5OfBody string
	// Sequence is the message's sequence number in the queue's stream.
	Sequence uint64
	// ReceiveCount is how many times the message was delivered, this
	// delivery included (SQS's ApproximateReceiveCount); above 1 only
	// after a receiver vanished before acknowledging it.
	ReceiveCount uint64
	// Group is a FIFO message's MessageGroupId; "" for others.
	Group string
	// DedupID is a FIFO message's deduplication id when it differs from
	// MessageID.
	DedupID string
	// Trace is the AWSTraceHeader system attribute, if one was sent.
	Trace string
}

// QueueInfo describes one queue for List.
type QueueInfo struct {
	// Name is the queue name.
	Name string
	// ARN is arn:aws:sqs:REGION:ACCOUNT:NAME for the service's region
	// and account (see WithAccount).
	ARN string
	// ApproximateNumberOfMessages is the number of messages waiting.
	ApproximateNumberOfMessages uint64
}

// Option configures a Service.
type Option func(*Service)

// WithAccount sets the region and account id shown in queue ARNs; the
// default is us-east-1 and 000000000000, updraft's defaults.
func WithAccount(region, account string) Option {
	return func(s *Service) { s.region, s.account = region, account }
}

// WithMaxMessageBytes raises the message limit above SQS's
// MaxMessageBytes. The server uses it so that an invocation record with a
// 6 MB response still fits a destination queue; the store's message size
// (NATS max_payload) is the real ceiling.
func WithMaxMessageBytes(n int) Option {
	return func(s *Service) { s.maxMessage = max(n, MaxMessageBytes) }
}

// Service reads and writes the built-in queues. Its methods are safe for
// concurrent use; see the package documentation for the design.
type Service struct {
	js       jetstream.JetStream
	replicas int
	logger   *slog.Logger
	region   string
	account  string
	maxBytes int64 // per queue; MaxQueueBytes except in tests
	// maxMessage is the message limit: MaxMessageBytes unless raised.
	maxMessage int
	// ackWait is the consumer's AckWait, the visibility timeout of Fetch.
	ackWait time.Duration

	mu        sync.Mutex
	streams   map[string]bool               // queues whose stream is known to exist; guarded by mu
	consumers map[string]jetstream.Consumer // the consumer of each queue; guarded by mu
	handles   map[string]jetstream.Stream   // the stream of each queue; guarded by mu
	states    map[string]cachedState        // recently read settings; guarded by mu
	// deferred counts, per queue and message sequence, deliveries put
	// back unseen (see admit); guarded by mu.
	deferred map[string]map[uint64]uint64
}

// New returns a Service over js that creates queue streams with the given
// number of replicas (at least 1).
func New(js jetstream.JetStream, replicas int, logger *slog.Logger, opts ...Option) *Service {
	s := &Service{
		js:         js,
		replicas:   max(replicas, 1),
		logger:     logger.With("component", "queue"),
		region:     "us-east-1",
		account:    "000000000000",
		maxBytes:   MaxQueueBytes,
		maxMessage: MaxMessageBytes,
		ackWait:    defaultAckWait,
		streams:    make(map[string]bool),
		consumers:  make(map[string]jetstream.Consumer),
		handles:    make(map[string]jetstream.Stream),
		states:     make(map[string]cachedState),
		deferred:   make(map[string]map[uint64]uint64),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// ARN returns the ARN of queue name in the service's region and account.
func (s *Service) ARN(name string) string { return ARN(s.region, s.account, name) }

// Send stores a message in queue name, creating the queue on first use,
// and returns its id, a new UUID. It returns once JetStream acknowledged
// the write. Bad input is a [*ValidationError]; a full queue is ErrFull.
// An empty body is stored as it is (SQS refuses one; that rule belongs
// to an API in front, since a dead-lettered event may well be empty).
func (s *Service) Send(ctx context.Context, name string, body []byte, attrs map[string]Attribute) (string, error) {
	return s.SendWithID(ctx, name, uuid.NewString(), body, attrs)
}

// SendWithID is Send with a message id chosen by the caller (1–128
// printable ASCII characters), for callers that retry: a second Send with
// the same id within DuplicateWindow is acknowledged but stores nothing.
func (s *Service) SendWithID(ctx context.Context, name, id string, body []byte, attrs map[string]Attribute) (string, error) {
	if err := validID(id); err != nil {
		return "", err
	}
	sent, err := s.SendMessage(ctx, name, body, attrs, SendOptions{ID: id})
	if err != nil {
		return "", err
	}
	return sent.MessageID, nil
}

// isMaxBytes reports whether a publish failed because the stream is at
// its byte limit. nats-server answers with the generic "store failed"
// code, JSStreamStoreFailedF, and the store's error text as the
// description; the text is the only thing that tells a full stream apart.
func isMaxBytes(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeStoreFailed &&
		strings.Contains(apiErr.Description, "maximum bytes exceeded")
}

// errCodeStoreFailed is nats-server's JSStreamStoreFailedF.
const errCodeStoreFailed jetstream.ErrorCode = 10077

// validID checks a caller's message id: it becomes the Nats-Msg-Id
// header, which cannot carry spaces or line breaks.
func validID(id string) error {
	if id == "" || len(id) > maxIDLen {
		return invalid("Message id must be 1 to %d characters long.", maxIDLen)
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return invalid("Message id %q is invalid: only printable ASCII characters without spaces are allowed.", trunc(id))
		}
	}
	return nil
}

// streamConfig is the definition of the stream of queue name.
func (s *Service) streamConfig(name string) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        streamName(name),
		Description: "updraft queue " + name,
		Subjects:    subjects(name),
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    s.replicas,
		MaxAge:      Retention,
		MaxBytes:    s.maxBytes,
		Discard:     jetstream.DiscardNew,
		Duplicates:  DuplicateWindow,
	}
}

// subjects are the subjects of queue name's stream: its subject, and for
// a FIFO queue the subjects of its message groups below it.
func subjects(name string) []string {
	if FIFO(name) {
		return []string{subject(name), subject(name) + ".*"}
	}
	return []string{subject(name)}
}

// ensureStream makes sure the stream of queue name exists, once per
// Service: it looks it up and, unless mustExist (then a missing queue is
// ErrNotFound), creates it with the default settings. It never changes
// an existing stream, whose settings CreateQueue and SetQueueAttributes
// own.
func (s *Service) ensureStream(ctx context.Context, name string, mustExist bool) error {
	s.mu.Lock()
	known := s.streams[name]
	s.mu.Unlock()
	if known {
		return nil
	}
	_, err := s.js.Stream(ctx, streamName(name))
	switch {
	case err == nil:
	case errors.Is(err, jetstream.ErrStreamNotFound) && mustExist:
		return fmt.Errorf("queue: %s: %w", name, ErrNotFound)
	case errors.Is(err, jetstream.ErrStreamNotFound):
		_, err = s.js.CreateStream(ctx, s.streamConfig(name))
		if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return fmt.Errorf("queue: create stream of %s: %w", name, err)
		}
		s.logger.Debug("queue stream ready", "queue", name, "stream", streamName(name))
	default:
		return fmt.Errorf("queue: look up stream of %s: %w", name, err)
	}
	s.mu.Lock()
	s.streams[name] = true
	s.mu.Unlock()
	return nil
}

// forget drops what the caches know about queue name.
func (s *Service) forget(name string) {
	s.mu.Lock()
	delete(s.streams, name)
	delete(s.consumers, name)
	delete(s.handles, name)
	s.mu.Unlock()
}

// consumer returns the durable consumer of queue name, creating it on
// first use; ErrNotFound if the queue's stream does not exist.
func (s *Service) consumer(ctx context.Context, name string) (jetstream.Consumer, error) {
	s.mu.Lock()
	c := s.consumers[name]
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	c, err := s.js.CreateOrUpdateConsumer(ctx, streamName(name), jetstream.ConsumerConfig{
		Durable:       consumerName,
		Description:   "updraft queue receivers",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.ackWait,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("queue: %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("queue: consumer of %s: %w", name, err)
	}
	s.mu.Lock()
	s.consumers[name] = c
	s.mu.Unlock()
	return c, nil
}

// Receive takes up to max (1–10) messages from queue name and removes
// them from the queue before returning them. With none waiting it long
// polls: it waits up to wait (0–20 s) for the first to arrive and returns
// as soon as one does, with any others then waiting. An empty result is
// not an error. A queue that does not exist is ErrNotFound; a bad name,
// max or wait is a [*ValidationError].
func (s *Service) Receive(ctx context.Context, name string, max int, wait time.Duration) ([]Message, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	if max < 1 || max > MaxReceive {
		return nil, invalid("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and %d, if provided.", max, MaxReceive)
	}
	if wait < 0 || wait > MaxWait {
		return nil, invalid("Value %s for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= %d, if provided.", wait, int(MaxWait/time.Second))
	}
	c, msgs, err := s.first(ctx, name, max)
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 && wait > 0 {
		if msgs, err = s.fetch(ctx, name, c, 1, wait); err != nil {
			return nil, err
		}
		if len(msgs) == 0 && ctx.Err() != nil {
			// The server may end the pull just before ctx does.
			return nil, fmt.Errorf("queue: receive from %s: %w", name, context.Cause(ctx))
		}
		if len(msgs) == 1 && max > 1 {
			more, err := s.fetch(ctx, name, c, max-1, 0)
			if err != nil {
				s.logger.Warn("receive: second fetch failed", "queue", name, "err", err)
			}
			msgs = append(msgs, more...)
		}
	}
	if ctx.Err() != nil {
		// The receiver is gone: hand the messages back at once rather
		// than delete messages nobody will see.
		nakAll(msgs)
		return nil, fmt.Errorf("queue: receive from %s: %w", name, context.Cause(ctx))
	}
	got := s.admit(ctx, name, msgs)
	out := make([]Message, 0, len(got))
	for _, a := range got {
		out = append(out, s.take(ctx, name, a.m, a.msg))
	}
	return out, nil
}

// first looks up the consumer of queue name and takes what is waiting,
// without waiting. A cached consumer whose stream was deleted fails its
// fetch; first then looks the queue up once more, which finds it gone
// (ErrNotFound) or recreated.
func (s *Service) first(ctx context.Context, name string, n int) (jetstream.Consumer, []jetstream.Msg, error) {
	for attempt := 0; ; attempt++ {
		c, err := s.consumer(ctx, name)
		if err != nil {
			return nil, nil, err
		}
		msgs, err := s.fetch(ctx, name, c, n, 0)
		if err != nil && attempt == 0 && ctx.Err() == nil {
			continue // fetch forgot the cached consumer
		}
		return c, msgs, err
	}
}

// fetch pulls up to n messages, waiting up to wait for the batch to fill
// (not at all when wait is 0).
func (s *Service) fetch(ctx context.Context, name string, c jetstream.Consumer, n int, wait time.Duration) ([]jetstream.Msg, error) {
	var (
		batch jetstream.MessageBatch
		err   error
	)
	if wait == 0 {
		batch, err = c.FetchNoWait(n)
	} else {
		wctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		batch, err = c.Fetch(n, jetstream.FetchContext(wctx))
	}
	if err != nil {
		return nil, fmt.Errorf("queue: receive from %s: %w", name, err)
	}
	msgs := make([]jetstream.Msg, 0, n)
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if err := batch.Error(); err != nil {
		if ctx.Err() != nil {
			nakAll(msgs)
			return nil, fmt.Errorf("queue: receive from %s: %w", name, context.Cause(ctx))
		}
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) {
			s.forget(name) // the consumer or stream may be gone; look it up again next time
			if len(msgs) == 0 {
				return nil, fmt.Errorf("queue: receive from %s: %w", name, err)
			}
			s.logger.Warn("receive: fetch ended early", "queue", name, "err", err)
		}
	}
	return msgs, nil
}

// nakAll hands msgs back to the queue for immediate redelivery. It is
// best effort: a message whose nak is lost comes back after the AckWait.
func nakAll(msgs []jetstream.Msg) {
	for _, m := range msgs {
		_ = m.Nak()
	}
}

// take acknowledges m, which removes it from the queue, and returns its
// conversion msg.
// A message whose acknowledgement JetStream did not confirm is returned
// all the same: it may be delivered again, but it is never lost.
func (s *Service) take(ctx context.Context, name string, m jetstream.Msg, msg Message) Message {
	if err := m.DoubleAck(ctx); err != nil {
		s.logger.Warn("receive: acknowledgement not confirmed; the message may be delivered again", "queue", name, "err", err)
	}
	s.settled(name, msg.Sequence)
	return msg
}

// convert turns a delivered JetStream message into a Message.
func (s *Service) convert(name string, m jetstream.Msg) Message {
	sum := md5.Sum(m.Data())
	h := m.Headers()
	out := Message{
		MessageID: h.Get(jetstream.MsgIDHeader),
		Body:      m.Data(),
		MD5OfBody: hex.EncodeToString(sum[:]),
		Group:     h.Get(hdrGroup),
		DedupID:   h.Get(hdrDedup),
		Trace:     h.Get(hdrTrace),
	}
	if id := h.Get(hdrMessageID); id != "" {
		out.MessageID = id
	}
	attrs, err := decodeAttributes(m.Headers())
	if err != nil {
		s.logger.Warn("receive: message attributes unreadable; returning the body without them", "queue", name, "err", err)
	}
	out.Attributes = attrs
	if md, err := m.Metadata(); err == nil {
		out.SentAt = md.Timestamp
		out.Sequence = md.Sequence.Stream
		out.ReceiveCount = md.NumDelivered
	}
	return out
}

// List returns every queue, sorted by name, with the number of messages
// waiting in each.
func (s *Service) List(ctx context.Context) ([]QueueInfo, error) {
	lister := s.js.ListStreams(ctx, jetstream.WithStreamListSubject(SubjectPrefix+">"))
	var out []QueueInfo
	for info := range lister.Info() {
		name, ok := nameOfStream(info.Config.Name)
		if !ok {
			continue
		}
		out = append(out, QueueInfo{Name: name, ARN: s.ARN(name), ApproximateNumberOfMessages: info.State.Msgs})
	}
	if err := lister.Err(); err != nil {
		return nil, fmt.Errorf("queue: list streams: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
