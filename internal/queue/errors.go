package queue

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned by Receive for a queue that does not exist:
// nothing was ever sent to it.
var ErrNotFound = errors.New("queue: not found")

// ErrInvalid matches every [*ValidationError] with errors.Is.
var ErrInvalid = errors.New("queue: invalid request")

// ErrFull is returned by Send when the queue holds its maximum number of
// bytes (see [MaxQueueBytes]); the message was not stored.
var ErrFull = errors.New("queue: full")

// ValidationError is a request that breaks one of the queue's rules: a
// bad name, ARN, attribute, body or receive parameter. Message is written
// for clients and safe to show them (an API renders it as a 400).
type ValidationError struct {
	// Message explains the problem, in a full sentence.
	Message string
}

// Error returns the message.
func (e *ValidationError) Error() string { return "queue: " + e.Message }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func invalid(format string, args ...any) *ValidationError {
	return &ValidationError{Message: fmt.Sprintf(format, args...)}
}
