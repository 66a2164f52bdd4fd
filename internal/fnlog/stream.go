package fnlog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/jsname"
)

// Names of the log streams.
const (
	// StreamPrefix starts the name of every function's log stream:
	// UPDRAFT_LOGS_<encoded function name> (see package jsname).
	StreamPrefix = "UPDRAFT_LOGS_"
	// SubjectPrefix is followed by the encoded function name in the
	// subject of a function's records, the only subject of its stream.
	// It differs from the "updraft.logs." of the retired shared stream,
	// whose subjects would otherwise overlap.
	SubjectPrefix = "updraft.fnlogs."
)

// Default budget of one function's log stream.
const (
	// DefaultMaxBytes is a function's default log budget: 64 MiB keeps
	// about 100,000 invocations of a function that prints a line or two.
	DefaultMaxBytes = 64 << 20
	// DefaultMaxMessages is a function's default budget in stored
	// messages (a message is up to 64 KiB of lines written together),
	// about what 64 MiB of one-invocation messages make.
	DefaultMaxMessages = 100_000
	// DefaultMaxAge is how long a record is kept at most.
	DefaultMaxAge = 7 * 24 * time.Hour
)

// Limits is the budget of each function's log stream. When a function
// passes one, JetStream drops the oldest messages of that function's
// stream only; no function's output can evict another's.
type Limits struct {
	// MaxBytes is the most bytes a function's stream keeps; > 0.
	MaxBytes int64
	// MaxMessages is the most messages a function's stream keeps; > 0.
	MaxMessages int64
	// MaxAge is how long a record is kept at most; > 0.
	MaxAge time.Duration
	// Replicas is the replica count of each stream (cluster mode); 0
	// means 1.
	Replicas int
}

// DefaultLimits returns the default budget: 64 MiB, 100,000 messages and 7
// days per function, one replica.
func DefaultLimits() Limits {
	return Limits{MaxBytes: DefaultMaxBytes, MaxMessages: DefaultMaxMessages, MaxAge: DefaultMaxAge, Replicas: 1}
}

// StreamOf returns the name of the JetStream stream holding function's
// records.
func StreamOf(function string) string { return StreamPrefix + token(function) }

// Subject returns the JetStream subject of function's records.
func Subject(function string) string { return SubjectPrefix + token(function) }

// token encodes a function name for stream names and subjects. Lambda
// function names hold only letters, digits, '-' and '_', which jsname
// encodes unambiguously; any other character that would break a stream
// name or a subject token becomes '_'.
func token(function string) string {
	if function == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '*', '>', ' ', '\t', '\r', '\n', '/', '\\':
			return '_'
		}
		return r
	}, jsname.Encode(function))
}

// streamConfig is the definition of function's log stream under lim.
func streamConfig(function string, lim Limits) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        StreamOf(function),
		Description: "updraft logs of function " + function,
		Subjects:    []string{Subject(function)},
		Retention:   jetstream.LimitsPolicy,
		MaxBytes:    lim.MaxBytes,
		MaxMsgs:     lim.MaxMessages,
		MaxAge:      lim.MaxAge,
		Discard:     jetstream.DiscardOld,
		Storage:     jetstream.FileStorage,
		Replicas:    max(lim.Replicas, 1),
	}
}

// ensureStream creates function's log stream, or updates its limits.
func ensureStream(ctx context.Context, js jetstream.JetStream, function string, lim Limits) error {
	if _, err := js.CreateOrUpdateStream(ctx, streamConfig(function, lim)); err != nil {
		return fmt.Errorf("fnlog: create log stream of %s: %w", function, err)
	}
	return nil
}

// openStream returns function's log stream, or nil when it does not exist
// (the function never printed anything).
func openStream(ctx context.Context, js jetstream.JetStream, function string) (jetstream.Stream, error) {
	s, err := js.Stream(ctx, StreamOf(function))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fnlog: log stream of %s: %w", function, err)
	}
	return s, nil
}
