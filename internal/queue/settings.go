package queue

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A queue's settings live in its stream's metadata, so that every node
// reads the same ones without another store: each SQS queue attribute a
// client set as "updraft.attr.<Name>", each tag as "updraft.tag.<Key>".
const (
	attrMetaPrefix = "updraft.attr."
	tagMetaPrefix  = "updraft.tag."
	// settingsTTL is how long a node trusts its cached copy of a queue's
	// settings; another node's SetQueueAttributes shows within it.
	settingsTTL = 2 * time.Second
)

// Queue attributes the queue itself acts on, by their SQS names.
const (
	// AttrMessageRetentionPeriod (seconds) is the stream's MaxAge.
	AttrMessageRetentionPeriod = "MessageRetentionPeriod"
	// AttrRedrivePolicy moves messages received too often (see admit).
	AttrRedrivePolicy = "RedrivePolicy"
)

// ErrExists is returned by Create for a queue that exists already; the
// State returned with it holds the existing settings.
var ErrExists = errors.New("queue: already exists")

// State is a queue's settings and counters.
type State struct {
	// Name is the queue name.
	Name string
	// Attributes are the queue attributes set by Create and
	// SetAttributes, by SQS name, as the client sent them; the SQS API
	// fills in defaults for the others.
	Attributes map[string]string
	// Tags are the queue's tags.
	Tags map[string]string
	// Created is when the queue was created.
	Created time.Time
	// Messages is how many messages the queue holds, in flight or not.
	Messages uint64
	// InFlight is how many are received but neither deleted nor visible
	// again (delayed messages that were looked at count here too).
	InFlight uint64
}

// FIFO reports whether name is a FIFO queue's (it ends in ".fifo").
func FIFO(name string) bool { return strings.HasSuffix(name, fifoSuffix) }

// Create creates queue name with the given SQS attributes and tags. If
// the queue exists, it returns its State and ErrExists, and changes
// nothing. MessageRetentionPeriod (seconds) becomes the stream's MaxAge.
func (s *Service) Create(ctx context.Context, name string, attrs, tags map[string]string) (*State, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	cfg := s.streamConfig(name)
	cfg.Metadata = make(map[string]string, len(attrs)+len(tags))
	for k, v := range attrs {
		cfg.Metadata[attrMetaPrefix+k] = v
	}
	for k, v := range tags {
		cfg.Metadata[tagMetaPrefix+k] = v
	}
	applyRetention(&cfg, attrs)
	_, err := s.js.CreateStream(ctx, cfg)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		st, serr := s.State(ctx, name)
		if serr != nil {
			return nil, serr
		}
		return st, fmt.Errorf("queue: create %s: %w", name, ErrExists)
	}
	if err != nil {
		return nil, fmt.Errorf("queue: create %s: %w", name, err)
	}
	s.forget(name)
	return &State{Name: name, Attributes: maps.Clone(attrs), Tags: maps.Clone(tags), Created: time.Now()}, nil
}

// applyRetention sets cfg.MaxAge from a MessageRetentionPeriod attribute
// in seconds, if there is a valid one. JetStream refuses a duplicate
// window longer than MaxAge, so a retention under 5 minutes shortens the
// deduplication interval to the retention.
func applyRetention(cfg *jetstream.StreamConfig, attrs map[string]string) {
	if v, ok := attrs[AttrMessageRetentionPeriod]; ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			cfg.MaxAge = time.Duration(n) * time.Second
		}
	}
	cfg.Duplicates = min(DuplicateWindow, cfg.MaxAge)
}

// State returns the settings and counters of queue name; ErrNotFound if
// it does not exist.
func (s *Service) State(ctx context.Context, name string) (*State, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	str, err := s.js.Stream(ctx, streamName(name))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("queue: %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("queue: look up %s: %w", name, err)
	}
	info := str.CachedInfo()
	st := stateOf(name, info)
	if ci, err := str.Consumer(ctx, consumerName); err == nil {
		st.InFlight = uint64(ci.CachedInfo().NumAckPending)
	}
	s.cacheSettings(name, st)
	return st, nil
}

func stateOf(name string, info *jetstream.StreamInfo) *State {
	st := &State{Name: name, Attributes: map[string]string{}, Tags: map[string]string{}, Created: info.Created, Messages: info.State.Msgs}
	for k, v := range info.Config.Metadata {
		if a, ok := strings.CutPrefix(k, attrMetaPrefix); ok {
			st.Attributes[a] = v
		} else if t, ok := strings.CutPrefix(k, tagMetaPrefix); ok {
			st.Tags[t] = v
		}
	}
	return st
}

// update applies change to the metadata of queue name's stream.
func (s *Service) update(ctx context.Context, name string, change func(cfg *jetstream.StreamConfig)) error {
	if err := ValidName(name); err != nil {
		return err
	}
	str, err := s.js.Stream(ctx, streamName(name))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("queue: %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("queue: look up %s: %w", name, err)
	}
	cfg := str.CachedInfo().Config
	if cfg.Metadata == nil {
		cfg.Metadata = map[string]string{}
	}
	change(&cfg)
	if _, err := s.js.UpdateStream(ctx, cfg); err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("queue: %s: %w", name, ErrNotFound)
		}
		return fmt.Errorf("queue: update %s: %w", name, err)
	}
	s.dropSettings(name)
	return nil
}

// SetAttributes sets (overwrites) the given SQS attributes of queue
// name; an empty value removes one.
func (s *Service) SetAttributes(ctx context.Context, name string, attrs map[string]string) error {
	return s.update(ctx, name, func(cfg *jetstream.StreamConfig) {
		for k, v := range attrs {
			if v == "" {
				delete(cfg.Metadata, attrMetaPrefix+k)
				continue
			}
			cfg.Metadata[attrMetaPrefix+k] = v
		}
		if _, ok := attrs[AttrMessageRetentionPeriod]; ok {
			cfg.MaxAge = Retention
			applyRetention(cfg, attrs)
		}
	})
}

// Tag adds or replaces tags of queue name.
func (s *Service) Tag(ctx context.Context, name string, tags map[string]string) error {
	return s.update(ctx, name, func(cfg *jetstream.StreamConfig) {
		for k, v := range tags {
			cfg.Metadata[tagMetaPrefix+k] = v
		}
	})
}

// Untag removes tags of queue name; keys it does not have are ignored.
func (s *Service) Untag(ctx context.Context, name string, keys []string) error {
	return s.update(ctx, name, func(cfg *jetstream.StreamConfig) {
		for _, k := range keys {
			delete(cfg.Metadata, tagMetaPrefix+k)
		}
	})
}

// Delete deletes queue name and its messages; ErrNotFound if it does not
// exist.
func (s *Service) Delete(ctx context.Context, name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	err := s.js.DeleteStream(ctx, streamName(name))
	s.forget(name)
	s.dropSettings(name)
	s.dropDeferred(name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("queue: %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("queue: delete %s: %w", name, err)
	}
	return nil
}

// Purge deletes every message of queue name, in flight or not.
func (s *Service) Purge(ctx context.Context, name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	str, err := s.js.Stream(ctx, streamName(name))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("queue: %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("queue: look up %s: %w", name, err)
	}
	if err := str.Purge(ctx); err != nil {
		return fmt.Errorf("queue: purge %s: %w", name, err)
	}
	s.dropDeferred(name)
	return nil
}

// settings returns the cached State of queue name, looking it up when
// the cached copy is older than settingsTTL.
func (s *Service) settings(ctx context.Context, name string) (*State, error) {
	s.mu.Lock()
	c, ok := s.states[name]
	s.mu.Unlock()
	if ok && time.Since(c.at) < settingsTTL {
		return c.st, nil
	}
	return s.State(ctx, name)
}

// cachedState is a State and when it was read.
type cachedState struct {
	st *State
	at time.Time
}

func (s *Service) cacheSettings(name string, st *State) {
	s.mu.Lock()
	s.states[name] = cachedState{st: st, at: time.Now()}
	s.mu.Unlock()
}

func (s *Service) dropSettings(name string) {
	s.mu.Lock()
	delete(s.states, name)
	s.mu.Unlock()
}

// dropDeferred forgets the put-back counts of queue name's messages.
func (s *Service) dropDeferred(name string) {
	s.mu.Lock()
	delete(s.deferred, name)
	s.mu.Unlock()
}
