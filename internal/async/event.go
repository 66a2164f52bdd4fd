package async

import (
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

// Names of the JetStream objects the engine keeps.
const (
	// StreamName is the stream of accepted events (work-queue retention).
	StreamName = "UPDRAFT_ASYNC"
	// subjectPrefix prefixes the subject of each function's events.
	subjectPrefix = "updraft.async."
	// RecordsBucket is the KV bucket of invocation records.
	RecordsBucket = "updraft-invocations"
)

// Headers carried by an event message; the body is the payload.
const (
	hdrRequestID     = "Updraft-Request-Id"
	hdrRecordKey     = "Updraft-Record-Key"
	hdrFunction      = "Updraft-Function"
	hdrQualifier     = "Updraft-Qualifier"
	hdrClientContext = "Updraft-Client-Context"
	hdrTraceID       = "Updraft-Trace-Id"
	hdrReceived      = "Updraft-Received" // unix nanoseconds
)

func subjectFor(function string) string  { return subjectPrefix + function }
func consumerFor(function string) string { return "async_" + function }

// event is one accepted invocation as the engine stores it.
type event struct {
	RequestID string
	// RecordKey is the key of its record: the request id, or the batch
	// key for the batch endpoint.
	RecordKey     string
	Function      string
	Qualifier     string
	ClientContext string // decoded JSON, as the runtime receives it
	TraceID       string
	Received      time.Time
	Payload       []byte
}

// message builds the stream message of e.
func (e *event) message() *nats.Msg {
	m := nats.NewMsg(subjectFor(e.Function))
	m.Data = e.Payload
	m.Header.Set(hdrRequestID, e.RequestID)
	m.Header.Set(hdrRecordKey, e.RecordKey)
	m.Header.Set(hdrFunction, e.Function)
	if e.Qualifier != "" {
		m.Header.Set(hdrQualifier, e.Qualifier)
	}
	if e.ClientContext != "" {
		m.Header.Set(hdrClientContext, e.ClientContext)
	}
	if e.TraceID != "" {
		m.Header.Set(hdrTraceID, e.TraceID)
	}
	m.Header.Set(hdrReceived, strconv.FormatInt(e.Received.UnixNano(), 10))
	m.Header.Set(nats.MsgIdHdr, e.RequestID)
	return m
}

// decodeEvent reads an event back from a stream message.
func decodeEvent(h nats.Header, data []byte) (*event, error) {
	e := &event{
		RequestID:     h.Get(hdrRequestID),
		RecordKey:     h.Get(hdrRecordKey),
		Function:      h.Get(hdrFunction),
		Qualifier:     h.Get(hdrQualifier),
		ClientContext: h.Get(hdrClientContext),
		TraceID:       h.Get(hdrTraceID),
		Payload:       data,
	}
	if e.RequestID == "" || e.Function == "" {
		return nil, fmt.Errorf("async: event without %s or %s", hdrRequestID, hdrFunction)
	}
	if e.RecordKey == "" {
		e.RecordKey = e.RequestID
	}
	ns, err := strconv.ParseInt(h.Get(hdrReceived), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("async: event %s: bad %s header: %w", e.RequestID, hdrReceived, err)
	}
	e.Received = time.Unix(0, ns)
	return e, nil
}
