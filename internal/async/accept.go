package async

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/registry"
)

// Request is an Event invocation as the API received it.
type Request struct {
	FunctionName  string // any FunctionName form
	Qualifier     string // the Qualifier query parameter
	ClientContext string // base64 JSON, as sent in X-Amz-Client-Context
	TraceID       string
	Payload       []byte
	// RequestID, when set, is used instead of a new one; accepting the
	// same id twice queues it once.
	RequestID string
}

// Accept validates req, stores it durably and returns its request id. It
// returns only after JetStream acknowledged the record and the event, so
// a 202 built on its answer is a promise kept across crashes.
func (e *Engine) Accept(ctx context.Context, req *Request) (string, error) {
	payload, target, err := e.validate(req.FunctionName, req.Qualifier, req.ClientContext, req.Payload)
	if err != nil {
		return "", err
	}
	id := req.RequestID
	if id == "" {
		id = uuid.NewString()
	}
	ev := &event{
		RequestID:     id,
		RecordKey:     id,
		Function:      target.Version.FunctionName,
		Qualifier:     qualifierOf(target),
		ClientContext: req.ClientContext,
		TraceID:       req.TraceID,
		Received:      time.Now().UTC(),
		Payload:       payload,
	}
	rec := newRecord(ev)
	if req.RequestID == "" {
		// A fresh id cannot exist yet: write record and event at once.
		return id, e.acceptFresh(ctx, ev, rec)
	}
	if _, err := e.records.create(ctx, ev.RecordKey, rec); err != nil {
		if errors.Is(err, errExists) {
			return id, nil // the same request accepted before
		}
		return "", lambdaerr.Service("Could not store the event.").WithCause(err)
	}
	if err := e.publish(ctx, ev); err != nil {
		// Nothing was promised: take the record back.
		_ = e.records.remove(context.WithoutCancel(ctx), ev.RecordKey)
		return "", err
	}
	return id, nil
}

// acceptFresh writes the record and the event of a new request id in
// parallel, so accepting costs one store round trip instead of two. The
// event is what the 202 promises: once it is stored the invocation will
// run, and a worker that finds no record (its write lost, or not yet
// applied) creates one, which is also why a create that finds the record
// already there is not an error.
func (e *Engine) acceptFresh(ctx context.Context, ev *event, rec *Record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("async: encode record %s: %w", ev.RecordKey, err)
	}
	recMsg := nats.NewMsg(recordSubject(ev.RecordKey))
	recMsg.Data = b
	js := e.deps.JetStream
	recAck, recErr := js.PublishMsgAsync(recMsg, jetstream.WithExpectLastSequencePerSubject(0))
	evAck, evErr := js.PublishMsgAsync(ev.message(), jetstream.WithExpectStream(StreamName))
	recErr = errors.Join(recErr, waitAck(ctx, recAck))
	evErr = errors.Join(evErr, waitAck(ctx, evAck))
	if evErr != nil {
		if recErr == nil {
			_ = e.records.remove(context.WithoutCancel(ctx), ev.RecordKey)
		}
		return errQueue(fmt.Errorf("async: publish %s: %w", ev.RequestID, evErr))
	}
	if recErr != nil && !isWrongLastSequence(recErr) {
		e.logger.Warn("async record not written at accept; the worker will write it", "request_id", ev.RequestID, "err", recErr)
	}
	e.accepted(ev.Function)
	return nil
}

// errQueue is the answer to an event that could not be stored: Lambda's
// ServiceException (500), the error of a service that failed, never a
// 202 for an event that is not durable. A store that cannot write (a full
// disk) ends here at once, refused by the store's gate.
func errQueue(cause error) error {
	return lambdaerr.Service("Could not queue the event; retry later.").WithCause(cause)
}

// recordSubject is the subject a KV put of key publishes to.
func recordSubject(key string) string { return "$KV." + RecordsBucket + "." + key }

// waitAck waits for an asynchronous publish's acknowledgement.
func waitAck(ctx context.Context, f jetstream.PubAckFuture) error {
	if f == nil {
		return nil
	}
	select {
	case <-f.Ok():
		return nil
	case err := <-f.Err():
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// validate applies the Event limits and resolves the function.
func (e *Engine) validate(name, qualifier, clientContext string, payload []byte) ([]byte, *registry.Target, error) {
	if len(payload) > e.cfg.MaxPayloadBytes {
		return nil, nil, lambdaerr.RequestTooLarge("Request must be smaller than %d bytes for the InvokeFunction operation", e.cfg.MaxPayloadBytes)
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	} else if !json.Valid(payload) {
		return nil, nil, lambdaerr.InvalidRequestContent("Could not parse request body into json: Could not parse payload into json: Unexpected character: was expecting a JSON value")
	}
	if _, err := invoke.DecodeClientContext(clientContext); err != nil {
		return nil, nil, err
	}
	target, err := e.deps.Resolver.Resolve(name, qualifier)
	if err != nil {
		return nil, nil, err
	}
	return payload, target, nil
}

// qualifierOf returns the qualifier to resolve again when the event runs:
// the alias, the version number, "$LATEST" when named, or "".
func qualifierOf(t *registry.Target) string {
	switch {
	case t.Alias != "":
		return t.Alias
	case t.InvokedARN == t.Version.FunctionARN:
		return ""
	default:
		return t.Version.Version
	}
}

func newRecord(ev *event) *Record {
	return &Record{
		RequestID:    ev.RequestID,
		FunctionName: ev.Function,
		Qualifier:    ev.Qualifier,
		Status:       StatusQueued,
		ReceivedAt:   ev.Received,
		UpdatedAt:    ev.Received,
	}
}

// publish writes ev to the stream and starts the function's workers on
// this node if they are not running yet.
func (e *Engine) publish(ctx context.Context, ev *event) error {
	if _, err := e.deps.JetStream.PublishMsg(ctx, ev.message(), jetstream.WithExpectStream(StreamName)); err != nil {
		return errQueue(fmt.Errorf("async: publish %s: %w", ev.RequestID, err))
	}
	e.accepted(ev.Function)
	return nil
}

// accepted counts an accepted event and makes sure this node runs the
// function's workers; when it had to start them (the function's first
// event in a while), it tells the other nodes to start theirs.
func (e *Engine) accepted(function string) {
	if e.deps.Metrics != nil {
		e.deps.Metrics.EventsReceived.WithLabelValues(function).Inc()
	}
	if e.wakeUp(function) {
		e.announce(function)
	}
}

// Record returns the record of an Event invocation, waiting up to wait
// for it to become final.
func (e *Engine) Record(ctx context.Context, requestID string, wait time.Duration) (*Record, error) {
	if _, err := uuid.Parse(requestID); err != nil {
		return nil, lambdaerr.InvalidParameterValue("%q is not a request id: want a UUID such as the x-amzn-RequestId of an Event invocation.", requestID)
	}
	var rec *Record
	var err error
	if wait > 0 {
		wctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		rec, err = e.records.wait(wctx, requestID)
	} else {
		rec, _, err = e.records.get(ctx, requestID)
	}
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, lambdaerr.ResourceNotFound("No invocation record for request id %s: it was never accepted as an Event, or it expired (records are kept for %s).", requestID, e.cfg.RecordTTL)
	}
	return rec, nil
}

// Batch ids: the remote-service protocol's headers.
const (
	// HeaderBatchID is the batch id header data warehouses send.
	HeaderBatchID = "sf-external-function-query-batch-id"
	// HeaderUpdraftBatchID is updraft's own name for it.
	HeaderUpdraftBatchID = "X-Updraft-Batch-Id"
	// maxBatchIDLen bounds the batch id.
	maxBatchIDLen = 1024
)

// batchKey is the record key of a batch: a digest, because batch ids hold
// characters keys may not.
func batchKey(function, qualifier, batchID string) string {
	sum := sha256.Sum256([]byte(function + "\x00" + qualifier + "\x00" + batchID))
	return "batch." + hex.EncodeToString(sum[:20])
}

func checkBatchID(batchID string) error {
	if batchID == "" {
		return lambdaerr.InvalidParameterValue("Missing batch id: send the %s (or %s) header.", HeaderBatchID, HeaderUpdraftBatchID)
	}
	if len(batchID) > maxBatchIDLen || strings.ContainsAny(batchID, "\r\n") {
		return lambdaerr.InvalidParameterValue("The batch id must be at most %d bytes on one line.", maxBatchIDLen)
	}
	return nil
}

// SubmitBatch queues a batch: body becomes the event of function (any
// FunctionName form, with an optional ":qualifier"). Submitting a batch id
// that exists queues nothing new, so a caller may repeat a POST safely.
func (e *Engine) SubmitBatch(ctx context.Context, function, batchID string, body []byte) error {
	if err := checkBatchID(batchID); err != nil {
		return err
	}
	if len(body) == 0 {
		return lambdaerr.InvalidRequestContent("The batch body is empty: send a JSON document such as {\"data\": [[0, ...]]}.")
	}
	payload, target, err := e.validate(function, "", "", body)
	if err != nil {
		return err
	}
	qual := qualifierOf(target)
	key := batchKey(target.Version.FunctionName, qual, batchID)
	rec, _, err := e.records.get(ctx, key)
	if err != nil {
		return lambdaerr.ServiceUnavailable("Could not read the batch state; retry.").WithCause(err)
	}
	ev := &event{
		RecordKey: key,
		Function:  target.Version.FunctionName,
		Qualifier: qual,
		Received:  time.Now().UTC(),
		Payload:   payload,
	}
	if rec != nil {
		if rec.Status != StatusQueued {
			return nil // running or done: the caller polls
		}
		// Queued, but the POST that queued it may have died before its
		// event was written: write it again under the same request id
		// (JetStream drops the copy within its duplicate window, the
		// worker skips a second run after it).
		ev.RequestID, ev.Received = rec.RequestID, rec.ReceivedAt
		return e.publish(ctx, ev)
	}
	ev.RequestID = uuid.NewString()
	rec = newRecord(ev)
	rec.BatchID = batchID
	if _, err := e.records.create(ctx, key, rec); err != nil {
		if errors.Is(err, errExists) {
			return nil // a concurrent POST of the same batch won
		}
		return lambdaerr.ServiceUnavailable("Could not store the batch; retry.").WithCause(err)
	}
	if err := e.publish(ctx, ev); err != nil {
		_ = e.records.remove(context.WithoutCancel(ctx), key)
		return err
	}
	return nil
}

// PollBatch returns the state of a batch. A final record is removed as it
// is returned: the result is read once.
func (e *Engine) PollBatch(ctx context.Context, function, batchID string) (*Record, error) {
	if err := checkBatchID(batchID); err != nil {
		return nil, err
	}
	target, err := e.deps.Resolver.Resolve(function, "")
	if err != nil {
		return nil, err
	}
	key := batchKey(target.Version.FunctionName, qualifierOf(target), batchID)
	rec, _, err := e.records.get(ctx, key)
	if err != nil {
		return nil, lambdaerr.ServiceUnavailable("Could not read the batch state; retry.").WithCause(err)
	}
	if rec == nil {
		return nil, lambdaerr.ResourceNotFound("No batch %q for function %s: it was never submitted, its result was already read, or it expired (unread results are kept for %s).", batchID, target.Version.FunctionName, e.cfg.RecordTTL)
	}
	if rec.Status.Final() && !rec.pendingDeliveries() {
		if err := e.records.remove(ctx, key); err != nil {
			e.logger.Warn("could not remove a read batch result", "batch", batchID, "err", err)
		}
	}
	return rec, nil
}
