package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Limits of Fetch, the reader of event source mappings.
const (
	// MaxFetch is the most messages one Fetch returns: Lambda's largest
	// BatchSize for a standard SQS queue. The consumer's MaxAckPending
	// (JetStream's default, 1000) bounds a batch further.
	MaxFetch = 10000
	// MaxWindow is the longest batching window (Lambda's
	// MaximumBatchingWindowInSeconds: 300).
	MaxWindow = 300 * time.Second
)

// WithVisibilityTimeout sets how long a fetched message stays invisible
// before JetStream delivers it again (the consumer's AckWait; default 30
// s, SQS's default visibility timeout). Every node on one JetStream
// should use the same value: the last to look up a consumer sets it.
func WithVisibilityTimeout(d time.Duration) Option {
	return func(s *Service) {
		if d > 0 {
			s.ackWait = d
		}
	}
}

// VisibilityTimeout is how long a fetched, unacknowledged message stays
// invisible.
func (s *Service) VisibilityTimeout() time.Duration { return s.ackWait }

// Delivery is a message handed out by Fetch that is still in the queue,
// invisible to other receivers until it is acknowledged (deleted),
// released, or its visibility timeout passes.
type Delivery struct {
	Message
	msg jetstream.Msg
	// settled forgets the message's put-back count once it is deleted.
	settled func()
}

// Ack deletes the message from the queue. It waits for JetStream to
// confirm; an unconfirmed ack may leave the message to be delivered again.
func (d *Delivery) Ack(ctx context.Context) error {
	if err := d.msg.DoubleAck(ctx); err != nil {
		return fmt.Errorf("queue: ack message %s: %w", d.MessageID, err)
	}
	if d.settled != nil {
		d.settled()
	}
	return nil
}

// Release makes the message visible again after delay (at once when
// delay is 0). It is best effort: a lost release means the message comes
// back after the visibility timeout instead.
func (d *Delivery) Release(delay time.Duration) error {
	var err error
	if delay <= 0 {
		err = d.msg.Nak()
	} else {
		err = d.msg.NakWithDelay(delay)
	}
	if err != nil {
		return fmt.Errorf("queue: release message %s: %w", d.MessageID, err)
	}
	return nil
}

// Extend restarts the message's visibility timeout, for a batch whose
// function runs longer than the timeout.
func (d *Delivery) Extend() error {
	if err := d.msg.InProgress(); err != nil {
		return fmt.Errorf("queue: extend message %s: %w", d.MessageID, err)
	}
	return nil
}

// Fetch takes up to max (1–MaxFetch) messages from queue name without
// removing them, through the same durable consumer as Receive, so that
// Fetch and Receive callers on every node compete for messages as SQS
// consumers do. With none waiting it long polls up to wait (0–20 s) for
// the first. Once it has one it keeps gathering until it has max or
// window (0–MaxWindow; 0 takes only what is already waiting) has passed
// since the first arrived. The caller must Ack or Release every
// Delivery; one it forgets comes back after the visibility timeout. A
// queue that does not exist is ErrNotFound.
func (s *Service) Fetch(ctx context.Context, name string, max int, wait, window time.Duration) ([]*Delivery, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	if max < 1 || max > MaxFetch {
		return nil, invalid("Value %d for the batch size is invalid: must be between 1 and %d.", max, MaxFetch)
	}
	if wait < 0 || wait > MaxWait {
		return nil, invalid("Value %s for the wait is invalid: must be >= 0 and <= %s.", wait, MaxWait)
	}
	if window < 0 || window > MaxWindow {
		return nil, invalid("Value %s for the batching window is invalid: must be >= 0 and <= %s.", window, MaxWindow)
	}
	c, msgs, err := s.first(ctx, name, max)
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 && wait > 0 {
		if msgs, err = s.fetch(ctx, name, c, 1, wait); err != nil {
			return nil, err
		}
	}
	if len(msgs) > 0 && len(msgs) < max {
		// Gather the rest: within the window, or what is waiting now.
		more, err := s.fetch(ctx, name, c, max-len(msgs), window)
		if err != nil {
			s.logger.Warn("fetch: gathering the rest of a batch failed", "queue", name, "err", err)
		}
		msgs = append(msgs, more...)
	}
	if ctx.Err() != nil {
		nakAll(msgs)
		return nil, fmt.Errorf("queue: fetch from %s: %w", name, context.Cause(ctx))
	}
	got := s.admit(ctx, name, msgs)
	out := make([]*Delivery, 0, len(got))
	for _, a := range got {
		seq := a.msg.Sequence
		out = append(out, &Delivery{Message: a.msg, msg: a.m, settled: func() { s.settled(name, seq) }})
	}
	return out, nil
}
