package kinesis

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/updraft/updraft/internal/stream"
)

// Enhanced fan-out: registered consumers and SubscribeToShard.
const (
	// subscriptionLifetime is how long one SubscribeToShard lasts, as
	// in Kinesis; the client subscribes again with the last
	// ContinuationSequenceNumber.
	subscriptionLifetime = 5 * time.Minute
	// subscribePoll is how often a subscription looks for new records.
	subscribePoll = 200 * time.Millisecond
	// subscribeHeartbeat is the longest gap between two events: an event
	// without records says the subscription is alive.
	subscribeHeartbeat = 5 * time.Second
	// subscribeBatch is the most records one event carries.
	subscribeBatch         = 1000
	contentTypeEventStream = "application/vnd.amazon.eventstream"
)

type (
	consumerRef struct {
		StreamARN    string `json:"StreamARN,omitempty"`
		ConsumerName string `json:"ConsumerName,omitempty"`
		ConsumerARN  string `json:"ConsumerARN,omitempty"`
	}
	listConsumersInput struct {
		StreamARN  string `json:"StreamARN"`
		MaxResults *int   `json:"MaxResults,omitempty"`
		NextToken  string `json:"NextToken,omitempty"`
	}
	subscribeInput struct {
		ConsumerARN      string `json:"ConsumerARN"`
		ShardID          string `json:"ShardId"`
		StartingPosition struct {
			Type           string   `json:"Type"`
			SequenceNumber string   `json:"SequenceNumber,omitempty"`
			Timestamp      *float64 `json:"Timestamp,omitempty"`
		} `json:"StartingPosition"`
	}
	consumerDescription struct {
		ConsumerName              string  `json:"ConsumerName"`
		ConsumerARN               string  `json:"ConsumerARN"`
		ConsumerStatus            string  `json:"ConsumerStatus"`
		ConsumerCreationTimestamp float64 `json:"ConsumerCreationTimestamp"`
		StreamARN                 string  `json:"StreamARN,omitempty"`
	}
)

// consumerARN is arn:aws:kinesis:REGION:ACCOUNT:stream/NAME/consumer/CONSUMER:CREATED.
func (h *Handler) consumerARN(streamName string, c stream.Consumer) string {
	return h.cfg.Streams.ARN(streamName) + "/consumer/" + c.Name + ":" + strconv.FormatInt(c.Created.Unix(), 10)
}

// parseConsumerARN splits a consumer ARN of this server into the stream
// and consumer names.
func (h *Handler) parseConsumerARN(arn string) (streamName, consumer string, err error) {
	i := strings.Index(arn, ":stream/")
	if i < 0 {
		return "", "", kinErr("InvalidArgumentException", "ConsumerARN %s is invalid.", sanitize(arn))
	}
	rest := arn[i+len(":stream/"):]
	streamName, after, ok := strings.Cut(rest, "/consumer/")
	consumer, _, ok2 := strings.Cut(after, ":")
	if !ok || !ok2 || h.cfg.Streams.ARN(streamName) != arn[:i+len(":stream/")]+streamName {
		return "", "", kinErr("InvalidArgumentException", "ConsumerARN %s is invalid.", sanitize(arn))
	}
	return streamName, consumer, nil
}

// findConsumer resolves a consumer named by ConsumerARN or by StreamARN
// and ConsumerName.
func (h *Handler) findConsumer(ctx context.Context, ref *consumerRef) (string, stream.Consumer, error) {
	var name, consumer string
	if ref.ConsumerARN != "" {
		var err error
		if name, consumer, err = h.parseConsumerARN(ref.ConsumerARN); err != nil {
			return "", stream.Consumer{}, err
		}
	} else {
		var err error
		if name, err = h.streamName(&kinesisStreamRef{StreamARN: ref.StreamARN}); err != nil {
			return "", stream.Consumer{}, err
		}
		consumer = ref.ConsumerName
	}
	cs, err := h.cfg.Streams.Consumers(ctx, name)
	if err != nil {
		return "", stream.Consumer{}, h.streamError(name, err)
	}
	for _, c := range cs {
		if c.Name == consumer && (ref.ConsumerARN == "" || h.consumerARN(name, c) == ref.ConsumerARN) {
			return name, c, nil
		}
	}
	return "", stream.Consumer{}, kinErr("ResourceNotFoundException", "Consumer %s under stream %s under account %s not found.", sanitize(consumer), name, h.cfg.Streams.Account())
}

func (h *Handler) describe(name string, c stream.Consumer) consumerDescription {
	return consumerDescription{ConsumerName: c.Name, ConsumerARN: h.consumerARN(name, c), ConsumerStatus: "ACTIVE",
		ConsumerCreationTimestamp: float64(c.Created.Unix()), StreamARN: h.cfg.Streams.ARN(name)}
}

func (h *Handler) registerConsumer(ctx context.Context, in *consumerRef) (any, error) {
	name, err := h.streamName(&kinesisStreamRef{StreamARN: in.StreamARN})
	if err != nil {
		return nil, err
	}
	c, err := h.cfg.Streams.RegisterConsumer(ctx, name, in.ConsumerName)
	if errors.Is(err, stream.ErrInUse) {
		return nil, kinErr("ResourceInUseException", "Consumer %s under stream %s already exists for account %s.", in.ConsumerName, name, h.cfg.Streams.Account())
	}
	if err != nil {
		return nil, h.streamError(name, err)
	}
	d := h.describe(name, c)
	d.StreamARN = ""
	// Registration takes effect at once: the consumer is ACTIVE.
	return map[string]any{"Consumer": d}, nil
}

func (h *Handler) describeConsumer(ctx context.Context, in *consumerRef) (any, error) {
	name, c, err := h.findConsumer(ctx, in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ConsumerDescription": h.describe(name, c)}, nil
}

func (h *Handler) deregisterConsumer(ctx context.Context, in *consumerRef) (any, error) {
	name, c, err := h.findConsumer(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := h.cfg.Streams.DeregisterConsumer(ctx, name, c.Name); err != nil {
		return nil, h.streamError(name, err)
	}
	return nil, nil
}

func (h *Handler) listConsumers(ctx context.Context, in *listConsumersInput) (any, error) {
	name, err := h.streamName(&kinesisStreamRef{StreamARN: in.StreamARN})
	if err != nil {
		return nil, err
	}
	cs, err := h.cfg.Streams.Consumers(ctx, name)
	if err != nil {
		return nil, h.streamError(name, err)
	}
	out := []consumerDescription{}
	for _, c := range cs {
		d := h.describe(name, c)
		d.StreamARN = ""
		out = append(out, d)
	}
	return map[string]any{"Consumers": out}, nil
}

// subscription is SubscribeToShard's answer: written by ServeHTTP as an
// event stream rather than one JSON document.
type subscription struct {
	stream string
	shard  int
	it     iterator
}

// subscribeToShard checks the request and returns the subscription that
// ServeHTTP then runs.
func (h *Handler) subscribeToShard(ctx context.Context, in *subscribeInput) (any, error) {
	name, _, err := h.findConsumer(ctx, &consumerRef{ConsumerARN: in.ConsumerARN})
	if err != nil {
		return nil, err
	}
	gi := &getShardIteratorInput{kinesisStreamRef: kinesisStreamRef{StreamName: name}, ShardID: in.ShardID,
		ShardIteratorType: in.StartingPosition.Type, StartingSequenceNumber: in.StartingPosition.SequenceNumber,
		Timestamp: in.StartingPosition.Timestamp}
	out, err := h.getShardIterator(ctx, gi)
	if err != nil {
		return nil, err
	}
	it, _ := decodeIterator(out.(map[string]string)["ShardIterator"])
	return &subscription{stream: name, shard: it.Shard, it: it}, nil
}

// run writes the subscription's events until it has lasted
// subscriptionLifetime or the client goes away: an initial-response,
// then a SubscribeToShardEvent whenever there are records (and at least
// every subscribeHeartbeat), each with its ContinuationSequenceNumber.
func (sub *subscription) run(h *Handler, w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", contentTypeEventStream)
	w.WriteHeader(http.StatusOK)
	enc := eventstream.NewEncoder()
	send := func(eventType string, payload []byte) error {
		msg := eventstream.Message{
			Headers: eventstream.Headers{
				{Name: ":message-type", Value: eventstream.StringValue("event")},
				{Name: ":event-type", Value: eventstream.StringValue(eventType)},
				{Name: ":content-type", Value: eventstream.StringValue("application/json")},
			},
			Payload: payload,
		}
		if err := enc.Encode(w, msg); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := send("initial-response", []byte("{}")); err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), subscriptionLifetime)
	defer cancel()
	var at time.Time
	if sub.it.At > 0 {
		at = time.UnixMilli(sub.it.At)
	}
	next := sub.it.Seq
	lastSent := time.Time{}
	tick := time.NewTicker(subscribePoll)
	defer tick.Stop()
	for {
		recs, n, err := h.cfg.Streams.ReadShard(ctx, sub.stream, sub.shard, next, at, subscribeBatch)
		if err != nil {
			if ctx.Err() == nil {
				h.cfg.Logger.Warn("SubscribeToShard: read failed; ending the subscription", "stream", sub.stream, "err", err)
			}
			return
		}
		next, at = n, time.Time{}
		if len(recs) > 0 || time.Since(lastSent) >= subscribeHeartbeat {
			ev := struct {
				Records                    []kinesisRecord `json:"Records"`
				ContinuationSequenceNumber string          `json:"ContinuationSequenceNumber"`
				MillisBehindLatest         int64           `json:"MillisBehindLatest"`
				ChildShards                []any           `json:"ChildShards"`
			}{Records: make([]kinesisRecord, 0, len(recs)), ContinuationSequenceNumber: stream.FormatSequence(max(next, 1) - 1), ChildShards: []any{}}
			for _, rec := range recs {
				ev.Records = append(ev.Records, kinesisRecord{SequenceNumber: stream.FormatSequence(rec.Sequence),
					ApproximateArrivalTimestamp: float64(rec.Arrival.UnixMilli()) / 1000, Data: rec.Data, PartitionKey: rec.PartitionKey})
			}
			b, _ := json.Marshal(ev)
			if err := send("SubscribeToShardEvent", b); err != nil {
				return
			}
			lastSent = time.Now()
			if len(recs) == subscribeBatch {
				continue // more are waiting
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
