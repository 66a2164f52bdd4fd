package async

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Status is where an invocation stands.
type Status string

// Statuses of an invocation record.
const (
	StatusQueued    Status = "QUEUED"
	StatusRunning   Status = "RUNNING"
	StatusSucceeded Status = "SUCCEEDED"
	StatusFailed    Status = "FAILED"
)

// Final reports whether s is an end state.
func (s Status) Final() bool { return s == StatusSucceeded || s == StatusFailed }

// Conditions of a finished invocation, as Lambda's destination records
// name them.
const (
	ConditionSuccess          = "Success"
	ConditionRetriesExhausted = "RetriesExhausted"
	ConditionEventAgeExceeded = "EventAgeExceeded"
)

// Kinds of delivery.
const (
	KindOnSuccess  = "OnSuccess"
	KindOnFailure  = "OnFailure"
	KindDeadLetter = "DeadLetter"
)

// ErrorInfo is a failed invocation's error.
type ErrorInfo struct {
	ErrorType    string `json:"errorType"`
	ErrorMessage string `json:"errorMessage"`
}

// Delivery is one place an outcome is sent to.
type Delivery struct {
	Kind      string `json:"kind"`
	Target    string `json:"target"`
	Delivered bool   `json:"delivered"`
	Attempts  int    `json:"attempts"`
	LastError string `json:"lastError,omitempty"`
}

// Record is the state of one asynchronous invocation, kept in the
// updraft-invocations bucket until it expires (or, for a batch, until its
// result is read).
type Record struct {
	RequestID    string `json:"requestId"`
	FunctionName string `json:"functionName"`
	Qualifier    string `json:"qualifier,omitempty"`
	// FunctionARN is the ARN that ran, qualified (":$LATEST" when the
	// invocation named no qualifier), as destination records show it.
	FunctionARN string `json:"functionArn,omitempty"`
	BatchID     string `json:"batchId,omitempty"`
	Status      Status `json:"status"`
	// Attempts counts runs of the function; Throttles counts attempts
	// refused for lack of concurrency (retried without limit until the
	// event's maximum age).
	Attempts        int        `json:"attempts"`
	Throttles       int        `json:"throttles,omitempty"`
	ReceivedAt      time.Time  `json:"receivedAt"`
	StartedAt       *time.Time `json:"startedAt,omitempty"`
	UpdatedAt       time.Time  `json:"updatedAt"`
	FinishedAt      *time.Time `json:"finishedAt,omitempty"`
	NextAttemptAt   *time.Time `json:"nextAttemptAt,omitempty"`
	ExecutedVersion string     `json:"executedVersion,omitempty"`
	// Condition is set when the record is final.
	Condition string `json:"condition,omitempty"`
	// Result is the function's response when it succeeded.
	Result json.RawMessage `json:"result,omitempty"`
	// Error is the last failure; FunctionError ("Unhandled") is set when
	// the function itself failed, and ErrorPayload holds its error
	// document as the runtime reported it.
	Error         *ErrorInfo      `json:"error,omitempty"`
	FunctionError string          `json:"functionError,omitempty"`
	ErrorPayload  json.RawMessage `json:"errorPayload,omitempty"`
	Deliveries    []Delivery      `json:"deliveries,omitempty"`
}

// pendingDeliveries reports whether some delivery has not succeeded yet.
func (r *Record) pendingDeliveries() bool {
	for _, d := range r.Deliveries {
		if !d.Delivered {
			return true
		}
	}
	return false
}

// records is the KV bucket of invocation records.
type records struct {
	kv jetstream.KeyValue
}

// get returns the record under key and its revision; nil when absent.
func (s *records) get(ctx context.Context, key string) (*Record, uint64, error) {
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("async: read record %s: %w", key, err)
	}
	rec, err := decodeRecord(key, e.Value())
	if err != nil {
		return nil, 0, err
	}
	return rec, e.Revision(), nil
}

func decodeRecord(key string, b []byte) (*Record, error) {
	rec := new(Record)
	if err := json.Unmarshal(b, rec); err != nil {
		return nil, fmt.Errorf("async: decode record %s: %w", key, err)
	}
	return rec, nil
}

// create writes rec under key unless the key exists (errExists).
func (s *records) create(ctx context.Context, key string, rec *Record) (uint64, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return 0, fmt.Errorf("async: encode record %s: %w", key, err)
	}
	rev, err := s.kv.Create(ctx, key, b)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return 0, errExists
	}
	if err != nil {
		return 0, fmt.Errorf("async: create record %s: %w", key, err)
	}
	return rev, nil
}

// update replaces the record under key if its revision is still rev
// (errConflict otherwise).
func (s *records) update(ctx context.Context, key string, rec *Record, rev uint64) (uint64, error) {
	rec.UpdatedAt = time.Now().UTC()
	b, err := json.Marshal(rec)
	if err != nil {
		return 0, fmt.Errorf("async: encode record %s: %w", key, err)
	}
	nrev, err := s.kv.Update(ctx, key, b, rev)
	if err != nil {
		if isWrongLastSequence(err) || errors.Is(err, jetstream.ErrKeyExists) {
			return 0, errConflict
		}
		return 0, fmt.Errorf("async: update record %s: %w", key, err)
	}
	return nrev, nil
}

// remove deletes the record under key.
func (s *records) remove(ctx context.Context, key string) error {
	if err := s.kv.Purge(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("async: remove record %s: %w", key, err)
	}
	return nil
}

// wait returns the record under key once it is final or ctx ends (then
// the latest state); nil when there is no such record.
func (s *records) wait(ctx context.Context, key string) (*Record, error) {
	w, err := s.kv.Watch(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("async: watch record %s: %w", key, err)
	}
	defer w.Stop()
	var last *Record
	for {
		select {
		case <-ctx.Done():
			return last, nil
		case e, ok := <-w.Updates():
			if !ok {
				return last, nil
			}
			if e == nil { // end of the current values
				if last == nil {
					return nil, nil
				}
				continue
			}
			if e.Operation() != jetstream.KeyValuePut {
				return last, nil
			}
			rec, err := decodeRecord(key, e.Value())
			if err != nil {
				return nil, err
			}
			last = rec
			if rec.Status.Final() {
				return rec, nil
			}
		}
	}
}

var (
	errExists   = errors.New("async: record exists")
	errConflict = errors.New("async: record changed concurrently")
)

// isWrongLastSequence reports a compare-and-set write that found another
// revision (or, for a create, any record) under its key.
func isWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}
