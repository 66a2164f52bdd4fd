package queue

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers of the SQS options of a message.
const (
	// hdrMessageID is the message id when it differs from the
	// Nats-Msg-Id, which then holds a FIFO deduplication id.
	hdrMessageID = "Updraft-Message-Id"
	hdrGroup     = "Updraft-Group"
	hdrDedup     = "Updraft-Dedup-Id"
	// hdrTrace is the message's AWSTraceHeader system attribute.
	hdrTrace = "Updraft-Trace"
	// hdrVisibleAt is when a delayed message becomes visible, in Unix
	// milliseconds.
	hdrVisibleAt = "Updraft-Visible-At"
	// fifoRetry is how long a FIFO message waits, after it was held back
	// because an earlier message of its group is still in the queue,
	// before it is looked at again.
	fifoRetry = time.Second
	// settleTimeout bounds the wait for the server to read a delete or
	// a visibility change.
	settleTimeout = 5 * time.Second
	// MaxDelay is SQS's longest DelaySeconds: 15 minutes.
	MaxDelay = 15 * time.Minute
	// MaxVisibility is SQS's longest visibility timeout: 12 hours.
	MaxVisibility = 12 * time.Hour
)

// ErrBadHandle is returned for a receipt handle that is not one this
// queue handed out.
var ErrBadHandle = errors.New("queue: invalid receipt handle")

// SendOptions are the SQS options of one message.
type SendOptions struct {
	// ID is the message id; a new UUID when empty.
	ID string
	// DedupID is a FIFO queue's deduplication id: a second message with
	// the same one within DuplicateWindow is accepted but not stored.
	// The message id when empty.
	DedupID string
	// Group is a FIFO queue's MessageGroupId: messages of one group are
	// received in order, one batch of them in flight at a time.
	Group string
	// Delay keeps the message invisible for this long (at most MaxDelay).
	Delay time.Duration
	// Trace is the AWSTraceHeader system attribute (X-Ray's header).
	Trace string
	// MustExist makes Send fail with ErrNotFound rather than create the
	// queue, as the SQS API does.
	MustExist bool
}

// Sent is what SendMessage stored.
type Sent struct {
	// MessageID is the id of the stored message: for a duplicate, the id
	// of the message it duplicates.
	MessageID string
	// Sequence is the message's sequence number in the queue.
	Sequence uint64
	// Duplicate reports a message dropped as a duplicate.
	Duplicate bool
}

// SendMessage stores a message in queue name with SQS's options; see
// Send for the rest of the contract.
func (s *Service) SendMessage(ctx context.Context, name string, body []byte, attrs map[string]Attribute, o SendOptions) (Sent, error) {
	if err := ValidName(name); err != nil {
		return Sent{}, err
	}
	if o.ID == "" {
		o.ID = uuid.NewString()
	}
	if err := validID(o.ID); err != nil {
		return Sent{}, err
	}
	dedup := o.DedupID
	if dedup == "" {
		dedup = o.ID
	}
	if err := validID(dedup); err != nil {
		return Sent{}, err
	}
	if o.Delay < 0 || o.Delay > MaxDelay {
		return Sent{}, invalid("Value %s for the delay is invalid: must be between 0 and %s.", o.Delay, MaxDelay)
	}
	attrSize, err := validateAttributes(attrs)
	if err != nil {
		return Sent{}, err
	}
	if size := len(body) + attrSize; size > s.maxMessage {
		return Sent{}, invalid("The message is %d bytes long (body and attributes); the limit is %d bytes.", size, s.maxMessage)
	}
	subj := subject(name)
	if o.Group != "" {
		subj = groupSubject(name, o.Group)
	}
	msg := nats.NewMsg(subj)
	msg.Data = body
	if err := encodeAttributes(msg.Header, attrs); err != nil {
		return Sent{}, err
	}
	if dedup != o.ID {
		msg.Header.Set(hdrMessageID, o.ID)
		msg.Header.Set(hdrDedup, dedup)
	}
	if o.Group != "" {
		msg.Header.Set(hdrGroup, o.Group)
	}
	if o.Trace != "" {
		if !ValidText(o.Trace) || strings.ContainsAny(o.Trace, "\r\n") {
			return Sent{}, invalid("The AWSTraceHeader system attribute holds characters that are not allowed.")
		}
		msg.Header.Set(hdrTrace, o.Trace)
	}
	if o.Delay > 0 {
		msg.Header.Set(hdrVisibleAt, strconv.FormatInt(time.Now().Add(o.Delay).UnixMilli(), 10))
	}
	// One retry covers a stream deleted behind the cache's back.
	for attempt := 0; ; attempt++ {
		if err := s.ensureStream(ctx, name, o.MustExist); err != nil {
			return Sent{}, err
		}
		ack, err := s.js.PublishMsg(ctx, msg, jetstream.WithMsgID(dedup), jetstream.WithExpectStream(streamName(name)))
		switch {
		case err == nil:
			sent := Sent{MessageID: o.ID, Sequence: ack.Sequence, Duplicate: ack.Duplicate}
			if ack.Duplicate {
				if orig, err := s.messageAt(ctx, name, ack.Sequence); err == nil {
					sent.MessageID = orig
				}
			}
			return sent, nil
		case errors.Is(err, jetstream.ErrNoStreamResponse) && attempt == 0 && ctx.Err() == nil:
			s.forget(name)
			continue
		case errors.Is(err, jetstream.ErrNoStreamResponse) && o.MustExist:
			return Sent{}, fmt.Errorf("queue: %s: %w", name, ErrNotFound)
		case errors.Is(err, nats.ErrMaxPayload):
			return Sent{}, invalid("The message is too large for this server's NATS max_payload (%d bytes with headers).", s.js.Conn().MaxPayload())
		case isMaxBytes(err):
			return Sent{}, fmt.Errorf("queue: send to %s: %w (%d bytes)", name, ErrFull, s.maxBytes)
		default:
			return Sent{}, fmt.Errorf("queue: send to %s: %w", name, err)
		}
	}
}

// messageAt returns the message id of the message at seq in queue name.
func (s *Service) messageAt(ctx context.Context, name string, seq uint64) (string, error) {
	str, err := s.streamHandle(ctx, name)
	if err != nil {
		return "", err
	}
	raw, err := str.GetMsg(ctx, seq)
	if err != nil {
		return "", fmt.Errorf("queue: read message %d of %s: %w", seq, name, err)
	}
	if id := raw.Header.Get(hdrMessageID); id != "" {
		return id, nil
	}
	return raw.Header.Get(jetstream.MsgIDHeader), nil
}

// groupSubject is the subject of the messages of one FIFO group: the
// queue's subject and a digest of the group id, which may hold
// characters a subject token cannot.
func groupSubject(name, group string) string {
	sum := sha256.Sum256([]byte(group))
	return subject(name) + "." + hex.EncodeToString(sum[:16])
}

// Received is a message handed out by ReceiveVisible: still in the
// queue, invisible until its visibility timeout passes, and deleted only
// with its Handle.
type Received struct {
	Message
	// Handle is the receipt handle that deletes the message or changes
	// its visibility.
	Handle string
}

// ReceiveVisible is SQS's ReceiveMessage: it takes up to max (1–10)
// messages from queue name, hides each for visibility (0–12 h), and
// leaves them in the queue until deleted with their handles. It long
// polls up to wait (0–20 s) like Receive. Delayed messages, FIFO
// messages behind an earlier one of their group, and the redrive policy
// apply as in SQS (see admit).
func (s *Service) ReceiveVisible(ctx context.Context, name string, max int, wait, visibility time.Duration) ([]Received, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	if max < 1 || max > MaxReceive {
		return nil, invalid("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and %d, if provided.", max, MaxReceive)
	}
	if wait < 0 || wait > MaxWait {
		return nil, invalid("Value %s for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= %d, if provided.", wait, int(MaxWait/time.Second))
	}
	if visibility < 0 || visibility > MaxVisibility {
		return nil, invalid("Value %s for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= %d, if provided.", visibility, int(MaxVisibility/time.Second))
	}
	deadline := time.Now().Add(wait)
	c, msgs, err := s.first(ctx, name, max)
	if err != nil {
		return nil, err
	}
	got := s.admit(ctx, name, msgs)
	for len(got) == 0 && ctx.Err() == nil {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		msgs, err := s.fetch(ctx, name, c, 1, left)
		if err != nil {
			return nil, err
		}
		got = s.admit(ctx, name, msgs)
		if len(got) > 0 && max > 1 {
			more, err := s.fetch(ctx, name, c, max-1, 0)
			if err != nil {
				s.logger.Warn("receive: second fetch failed", "queue", name, "err", err)
			}
			got = append(got, s.admit(ctx, name, more)...)
		}
	}
	if ctx.Err() != nil {
		for _, a := range got {
			_ = a.m.Nak()
		}
		return nil, fmt.Errorf("queue: receive from %s: %w", name, context.Cause(ctx))
	}
	out := make([]Received, 0, len(got))
	for _, a := range got {
		switch {
		case visibility == 0:
			_ = a.m.Nak()
		case visibility != s.ackWait:
			_ = a.m.NakWithDelay(visibility)
		}
		out = append(out, Received{Message: a.msg, Handle: base64.RawURLEncoding.EncodeToString([]byte(a.m.Reply()))})
	}
	return out, nil
}

// admitted is a fetched message cleared to be handed out.
type admitted struct {
	m   jetstream.Msg
	msg Message
}

// admit decides which of msgs, fetched in order from queue name, are
// handed out now, and puts the others back:
//
//   - a delayed message before its time goes back until then;
//   - a FIFO message goes back for fifoRetry unless it is the oldest of
//     its group left in the queue, or follows one of its group handed out
//     in the same batch: so a group's messages are received in order,
//     and none while an earlier one is in flight;
//   - a message received more often than the queue's redrive policy's
//     maxReceiveCount moves to the dead-letter queue.
//
// Messages put back did not count as received: their
// ApproximateReceiveCount leaves those deliveries out.
func (s *Service) admit(ctx context.Context, name string, msgs []jetstream.Msg) []admitted {
	if len(msgs) == 0 {
		return nil
	}
	now := time.Now()
	redrive := s.redrive(ctx, name)
	last := map[string]uint64{}  // group -> sequence of its last message admitted here
	blocked := map[string]bool{} // groups held back in this batch
	out := make([]admitted, 0, len(msgs))
	for _, m := range msgs {
		md, err := m.Metadata()
		if err != nil {
			_ = m.Nak()
			continue
		}
		seq := md.Sequence.Stream
		if at, err := strconv.ParseInt(m.Headers().Get(hdrVisibleAt), 10, 64); err == nil && now.UnixMilli() < at {
			s.deferOne(name, seq)
			_ = m.NakWithDelay(time.UnixMilli(at).Sub(now))
			continue
		}
		if g := m.Headers().Get(hdrGroup); g != "" {
			if blocked[g] || !s.firstOfGroup(ctx, name, m.Subject(), seq, last[g]) {
				blocked[g] = true
				s.deferOne(name, seq)
				_ = m.NakWithDelay(fifoRetry)
				continue
			}
			last[g] = seq
		}
		msg := s.convert(name, m)
		msg.ReceiveCount = max(1, md.NumDelivered-s.deferrals(name, seq))
		if redrive.max > 0 && msg.ReceiveCount > uint64(redrive.max) {
			s.deadLetter(ctx, name, redrive.dlq, m, msg)
			continue
		}
		out = append(out, admitted{m: m, msg: msg})
	}
	return out
}

// firstOfGroup reports whether the message at seq on subj is the oldest
// message of its group still in queue name, or the next after prev (a
// message of the group admitted in the same batch).
func (s *Service) firstOfGroup(ctx context.Context, name, subj string, seq, prev uint64) bool {
	str, err := s.streamHandle(ctx, name)
	if err != nil {
		return false
	}
	raw, err := str.GetMsg(ctx, max(prev+1, 1), jetstream.WithGetMsgSubject(subj))
	if err != nil {
		return false
	}
	return raw.Sequence == seq
}

// redrivePolicy is a queue's parsed RedrivePolicy.
type redrivePolicy struct {
	max int
	dlq string
}

// redrive reads the redrive policy of queue name; none when it has none
// or it cannot be read.
func (s *Service) redrive(ctx context.Context, name string) redrivePolicy {
	st, err := s.settings(ctx, name)
	if err != nil || st.Attributes[AttrRedrivePolicy] == "" {
		return redrivePolicy{}
	}
	p, err := ParseRedrivePolicy(st.Attributes[AttrRedrivePolicy])
	if err != nil {
		s.logger.Warn("unreadable redrive policy ignored", "queue", name, "err", err)
		return redrivePolicy{}
	}
	_, _, dlq, _ := ParseARN(p.DeadLetterTargetArn)
	return redrivePolicy{max: p.MaxReceiveCount, dlq: dlq}
}

// RedrivePolicy is SQS's RedrivePolicy queue attribute.
type RedrivePolicy struct {
	DeadLetterTargetArn string
	MaxReceiveCount     int
}

// ParseRedrivePolicy reads a RedrivePolicy attribute, JSON whose
// maxReceiveCount may be a number or a string of one, as SQS accepts.
// The error is a [*ValidationError].
func ParseRedrivePolicy(s string) (RedrivePolicy, error) {
	var raw struct {
		DeadLetterTargetArn string          `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return RedrivePolicy{}, invalid("Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.")
	}
	n, err := strconv.Atoi(strings.Trim(string(raw.MaxReceiveCount), `"`))
	if err != nil || n < 1 || n > 1000 {
		return RedrivePolicy{}, invalid("Value %s for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: %s, valid values are from 1 to 1000 both inclusive.", s, string(raw.MaxReceiveCount))
	}
	if _, _, _, err := ParseARN(raw.DeadLetterTargetArn); err != nil {
		return RedrivePolicy{}, invalid("Value %s for parameter RedrivePolicy is invalid. Reason: Invalid value for deadLetterTargetArn.", s)
	}
	return RedrivePolicy{DeadLetterTargetArn: raw.DeadLetterTargetArn, MaxReceiveCount: n}, nil
}

// deadLetter moves m to queue dlq: it stores a copy (same id, body and
// attributes) and then deletes m. If the copy fails, m stays and comes
// back after its visibility timeout.
func (s *Service) deadLetter(ctx context.Context, name, dlq string, m jetstream.Msg, msg Message) {
	o := SendOptions{ID: msg.MessageID, MustExist: true}
	if FIFO(dlq) {
		o.Group = msg.Group
		if o.Group == "" {
			o.Group = name
		}
	}
	if _, err := s.SendMessage(ctx, dlq, msg.Body, msg.Attributes, o); err != nil {
		s.logger.Warn("move a message to its dead-letter queue; it stays", "queue", name, "dlq", dlq, "err", err)
		return
	}
	if err := m.DoubleAck(ctx); err != nil {
		s.logger.Warn("delete a message moved to its dead-letter queue; it may be delivered again", "queue", name, "err", err)
	}
	s.settled(name, msg.Sequence)
	s.logger.Debug("message moved to its dead-letter queue", "queue", name, "dlq", dlq, "receives", msg.ReceiveCount)
}

// deferOne counts a delivery of the message at seq that was put back
// without being handed out.
func (s *Service) deferOne(name string, seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.deferred[name]
	if q == nil {
		q = map[uint64]uint64{}
		s.deferred[name] = q
	}
	q[seq]++
}

// deferrals returns how many deliveries of the message at seq were put
// back.
func (s *Service) deferrals(name string, seq uint64) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deferred[name][seq]
}

// settled forgets the put-back count of the message at seq, deleted.
func (s *Service) settled(name string, seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.deferred[name]; q != nil {
		delete(q, seq)
		if len(q) == 0 {
			delete(s.deferred, name)
		}
	}
}

// streamHandle returns the stream of queue name, looked up once.
func (s *Service) streamHandle(ctx context.Context, name string) (jetstream.Stream, error) {
	s.mu.Lock()
	str := s.handles[name]
	s.mu.Unlock()
	if str != nil {
		return str, nil
	}
	str, err := s.js.Stream(ctx, streamName(name))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("queue: %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("queue: look up %s: %w", name, err)
	}
	s.mu.Lock()
	s.handles[name] = str
	s.mu.Unlock()
	return str, nil
}

// ackSubject decodes a receipt handle of queue name into the JetStream
// acknowledgement subject it carries: $JS.ACK.[domain.hash.]STREAM.CONSUMER.…
func ackSubject(name, handle string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(handle)
	if err != nil || len(b) == 0 {
		return "", ErrBadHandle
	}
	subj := string(b)
	for i := 0; i < len(subj); i++ {
		if subj[i] <= ' ' || subj[i] > '~' || subj[i] == '*' || subj[i] == '>' {
			return "", ErrBadHandle
		}
	}
	tokens := strings.Split(subj, ".")
	if len(tokens) < 9 || tokens[0] != "$JS" || tokens[1] != "ACK" {
		return "", ErrBadHandle
	}
	for i := 2; i+1 < len(tokens); i++ {
		if tokens[i] == streamName(name) && tokens[i+1] == consumerName {
			return subj, nil
		}
	}
	return "", ErrBadHandle
}

// handleSequence is the stream sequence of the message of a receipt
// handle: the second token after the stream and consumer names
// (delivery count, stream sequence, consumer sequence, time, pending).
func handleSequence(name, handle string) (uint64, bool) {
	subj, err := ackSubject(name, handle)
	if err != nil {
		return 0, false
	}
	tokens := strings.Split(subj, ".")
	for i := 2; i+3 < len(tokens); i++ {
		if tokens[i] == streamName(name) && tokens[i+1] == consumerName {
			n, err := strconv.ParseUint(tokens[i+3], 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// DeleteMessage deletes the message a receipt handle of queue name
// stands for. A handle of a message already deleted, or received again
// since, deletes nothing and is no error, as in SQS.
func (s *Service) DeleteMessage(ctx context.Context, name, handle string) error {
	if err := s.settle(ctx, name, handle, []byte("+ACK")); err != nil {
		return err
	}
	if seq, ok := handleSequence(name, handle); ok {
		s.settled(name, seq)
	}
	return nil
}

// ChangeVisibility makes the message of a receipt handle of queue name
// visible again after d (at once when d is 0).
func (s *Service) ChangeVisibility(ctx context.Context, name, handle string, d time.Duration) error {
	if d < 0 || d > MaxVisibility {
		return invalid("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= %d, if provided.", int(d/time.Second), int(MaxVisibility/time.Second))
	}
	body := []byte("-NAK")
	if d > 0 {
		body = []byte(fmt.Sprintf(`-NAK {"delay":%d}`, d.Nanoseconds()))
	}
	return s.settle(ctx, name, handle, body)
}

// settle sends an acknowledgement to the subject of handle and waits
// until the server has read it.
func (s *Service) settle(ctx context.Context, name, handle string, body []byte) error {
	if err := ValidName(name); err != nil {
		return err
	}
	subj, err := ackSubject(name, handle)
	if err != nil {
		return err
	}
	nc := s.js.Conn()
	if err := nc.Publish(subj, body); err != nil {
		return fmt.Errorf("queue: settle a message of %s: %w", name, err)
	}
	if err := nc.FlushTimeout(settleTimeout); err != nil {
		return fmt.Errorf("queue: settle a message of %s: %w", name, err)
	}
	return nil
}
