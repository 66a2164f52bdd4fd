package stream

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned for a stream that does not exist.
var ErrNotFound = errors.New("stream: not found")

// ErrInUse is returned by Create for a stream that exists already.
var ErrInUse = errors.New("stream: already exists")

// ErrInvalid matches every [*ValidationError] with errors.Is.
var ErrInvalid = errors.New("stream: invalid request")

// ValidationError is a request that breaks one of Kinesis's rules: a bad
// name, shard count, partition key, hash key or record size. Message is
// written for clients and safe to show them.
type ValidationError struct {
	// Message explains the problem, in a full sentence.
	Message string
}

// Error returns the message.
func (e *ValidationError) Error() string { return "stream: " + e.Message }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func invalid(format string, args ...any) *ValidationError {
	return &ValidationError{Message: fmt.Sprintf(format, args...)}
}
