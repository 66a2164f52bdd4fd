package stream

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// metaConsumerPrefix prefixes the stream metadata key of each registered
// (enhanced fan-out) consumer; the value is its creation time in Unix
// seconds.
const metaConsumerPrefix = "updraft.consumer."

// MaxConsumers is the most consumers one stream may register (Kinesis's
// limit is 20).
const MaxConsumers = 20

// Consumer is a registered stream consumer.
type Consumer struct {
	Name    string
	Created time.Time
}

// validConsumerName applies Kinesis's rule: 1–128 of [a-zA-Z0-9_.-].
func validConsumerName(name string) error {
	if name == "" || len(name) > 128 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != "" {
		return invalid("ConsumerName %q is invalid: 1 to 128 letters, digits, '_', '.' and '-'.", trunc(name))
	}
	return nil
}

// Consumers lists the consumers registered on stream name, by name.
func (s *Service) Consumers(ctx context.Context, name string) ([]Consumer, error) {
	in, _, err := s.info(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []Consumer
	for k, v := range in.Config.Metadata {
		if c, ok := strings.CutPrefix(k, metaConsumerPrefix); ok {
			secs, _ := strconv.ParseInt(v, 10, 64)
			out = append(out, Consumer{Name: c, Created: time.Unix(secs, 0)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RegisterConsumer registers consumer on stream name; ErrInUse if it is
// registered already.
func (s *Service) RegisterConsumer(ctx context.Context, name, consumer string) (Consumer, error) {
	if err := validConsumerName(consumer); err != nil {
		return Consumer{}, err
	}
	c := Consumer{Name: consumer, Created: time.Now().Truncate(time.Second)}
	err := s.updateMeta(ctx, name, func(md map[string]string) error {
		if _, ok := md[metaConsumerPrefix+consumer]; ok {
			return ErrInUse
		}
		n := 0
		for k := range md {
			if strings.HasPrefix(k, metaConsumerPrefix) {
				n++
			}
		}
		if n >= MaxConsumers {
			return invalid("Stream %s has %d consumers, the most it may have.", name, MaxConsumers)
		}
		md[metaConsumerPrefix+consumer] = strconv.FormatInt(c.Created.Unix(), 10)
		return nil
	})
	return c, err
}

// DeregisterConsumer removes consumer from stream name; ErrNotFound if it
// is not registered.
func (s *Service) DeregisterConsumer(ctx context.Context, name, consumer string) error {
	return s.updateMeta(ctx, name, func(md map[string]string) error {
		if _, ok := md[metaConsumerPrefix+consumer]; !ok {
			return ErrNotFound
		}
		delete(md, metaConsumerPrefix+consumer)
		return nil
	})
}

// updateMeta applies change to the metadata of stream name's JetStream
// stream.
func (s *Service) updateMeta(ctx context.Context, name string, change func(map[string]string) error) error {
	in, _, err := s.info(ctx, name)
	if err != nil {
		return err
	}
	cfg := in.Config
	md := make(map[string]string, len(cfg.Metadata)+1)
	for k, v := range cfg.Metadata {
		md[k] = v
	}
	if err := change(md); err != nil {
		return err
	}
	cfg.Metadata = md
	if _, err := s.js.UpdateStream(ctx, cfg); err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return ErrNotFound
		}
		return fmt.Errorf("stream: update %s: %w", name, err)
	}
	return nil
}
