package api

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/queue"
)

// QueueService is the built-in queue store (internal/queue); see
// queue.Service for the semantics of each method.
type QueueService interface {
	// Send stores a message and returns its id once it is durable.
	Send(ctx context.Context, name string, body []byte, attrs map[string]queue.Attribute) (string, error)
	// Receive takes up to max messages, removing them, long polling up
	// to wait for the first.
	Receive(ctx context.Context, name string, max int, wait time.Duration) ([]queue.Message, error)
	// List returns every queue with its number of waiting messages.
	List(ctx context.Context) ([]queue.QueueInfo, error)
	// ARN returns the ARN of queue name.
	ARN(name string) string
}

// queueRoutes registers the built-in queue operations. Their JSON follows
// SQS's JSON protocol (SendMessage, ReceiveMessage), so that an
// SQS-compatible API can later reuse the shapes.
func (s *Server) queueRoutes(h route) {
	h("GET /updraft/v1/queues", s.listQueues)
	h("POST /updraft/v1/queues/{name}/messages", s.sendQueueMessage)
	h("POST /updraft/v1/queues/{name}/receive", s.receiveQueueMessages)
}

// sendMessageRequest is SendMessage's body, without QueueUrl (the queue
// is in the path) and without the FIFO and delay members.
type sendMessageRequest struct {
	MessageBody       *string                    `json:"MessageBody"`
	MessageAttributes map[string]queue.Attribute `json:"MessageAttributes,omitempty"`
}

// sendMessageResponse is SendMessage's answer. MD5OfMessageAttributes is
// not computed yet.
type sendMessageResponse struct {
	MessageID        string `json:"MessageId"`
	MD5OfMessageBody string `json:"MD5OfMessageBody"`
}

// receivedMessage is one message of ReceiveMessage's answer. Attributes
// carries SentTimestamp (Unix milliseconds) and ApproximateReceiveCount,
// as strings like SQS's system attributes.
type receivedMessage struct {
	MessageID         string                     `json:"MessageId"`
	ReceiptHandle     string                     `json:"ReceiptHandle"`
	MD5OfBody         string                     `json:"MD5OfBody"`
	Body              string                     `json:"Body"`
	Attributes        map[string]string          `json:"Attributes,omitempty"`
	MessageAttributes map[string]queue.Attribute `json:"MessageAttributes,omitempty"`
}

// receiveMessageResponse is ReceiveMessage's answer; Messages is [] when
// nothing was waiting.
type receiveMessageResponse struct {
	Messages []receivedMessage `json:"Messages"`
}

// queueSummary is one queue in GET /updraft/v1/queues.
type queueSummary struct {
	Name                        string `json:"Name"`
	Arn                         string `json:"Arn"`
	ApproximateNumberOfMessages uint64 `json:"ApproximateNumberOfMessages"`
}

// listQueuesResponse is GET /updraft/v1/queues.
type listQueuesResponse struct {
	Queues []queueSummary `json:"Queues"`
}

// queues returns the queue service or the error that says there is none.
func (s *Server) queues() (QueueService, error) {
	if s.deps.Queues == nil {
		return nil, lambdaerr.ServiceUnavailable("Built-in queues are not available on this server.")
	}
	return s.deps.Queues, nil
}

// queueError turns the queue service's errors into client-visible ones:
// an unknown queue is a 404 naming its ARN, a rule broken is a 400 with
// the queue's own message, a full queue a 503; anything else stays
// internal.
func (s *Server) queueError(q QueueService, name string, err error) error {
	var ve *queue.ValidationError
	switch {
	case errors.As(err, &ve):
		return lambdaerr.InvalidParameterValue("%s", ve.Message).WithCause(err)
	case errors.Is(err, queue.ErrNotFound):
		return lambdaerr.ResourceNotFound("Queue not found: %s", q.ARN(name)).WithCause(err)
	case errors.Is(err, queue.ErrFull):
		return lambdaerr.ServiceUnavailable("Queue %s is full; receive some of its messages first.", q.ARN(name)).WithCause(err)
	default:
		return fmt.Errorf("api: queue %s: %w", name, err)
	}
}

// sendQueueMessage is POST /updraft/v1/queues/{name}/messages: SQS's
// SendMessage. The queue is created by its first message. The answer
// comes once the message is durable.
func (s *Server) sendQueueMessage(w http.ResponseWriter, r *http.Request) error {
	q, err := s.queues()
	if err != nil {
		return err
	}
	var req sendMessageRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.MessageBody == nil || *req.MessageBody == "" {
		// SQS's rule; the store itself keeps empty bodies (dead-lettered
		// events may be empty).
		return lambdaerr.InvalidParameterValue("The request must contain the parameter MessageBody.")
	}
	name := r.PathValue("name")
	body := []byte(*req.MessageBody)
	id, err := q.Send(r.Context(), name, body, req.MessageAttributes)
	if err != nil {
		return s.queueError(q, name, err)
	}
	writeJSON(w, http.StatusOK, sendMessageResponse{MessageID: id, MD5OfMessageBody: md5Hex(body)})
	return nil
}

// receiveQueueMessages is POST /updraft/v1/queues/{name}/receive?max=N&wait=S:
// SQS's ReceiveMessage with MaxNumberOfMessages N (1–10, default 1) and
// WaitTimeSeconds S (0–20, default 0; fractions allowed). Unlike SQS, the
// returned messages are already deleted from the queue: there is no
// visibility timeout and no DeleteMessage to call, and the ReceiptHandle
// is informational. It is a POST because it changes the queue.
func (s *Server) receiveQueueMessages(w http.ResponseWriter, r *http.Request) error {
	q, err := s.queues()
	if err != nil {
		return err
	}
	n, wait, err := receiveParams(r)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	msgs, err := q.Receive(r.Context(), name, n, wait)
	if err != nil {
		if r.Context().Err() != nil {
			return nil // the client went away while waiting; nobody reads an answer
		}
		return s.queueError(q, name, err)
	}
	out := receiveMessageResponse{Messages: make([]receivedMessage, 0, len(msgs))}
	for _, m := range msgs {
		rm := receivedMessage{
			MessageID:     m.MessageID,
			ReceiptHandle: strconv.FormatUint(m.Sequence, 10) + ":" + m.MessageID,
			MD5OfBody:     m.MD5OfBody,
			Body:          string(m.Body),
			Attributes: map[string]string{
				"ApproximateReceiveCount": strconv.FormatUint(m.ReceiveCount, 10),
			},
			MessageAttributes: m.Attributes,
		}
		if !m.SentAt.IsZero() {
			rm.Attributes["SentTimestamp"] = strconv.FormatInt(m.SentAt.UnixMilli(), 10)
		}
		out.Messages = append(out.Messages, rm)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// md5Hex is the hex MD5 digest SQS reports for a message body.
func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// receiveParams reads ?max= and ?wait=; their ranges are the queue
// service's to check.
func receiveParams(r *http.Request) (int, time.Duration, error) {
	query := r.URL.Query()
	n := 1
	if v := query.Get("max"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			return 0, 0, lambdaerr.InvalidParameterValue("Value %q for parameter max is invalid: want a whole number from 1 to %d.", sanitize(v), queue.MaxReceive)
		}
	}
	var wait time.Duration
	if v := query.Get("wait"); v != "" {
		sec, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(sec) || math.IsInf(sec, 0) || sec < 0 || sec > queue.MaxWait.Seconds() {
			return 0, 0, lambdaerr.InvalidParameterValue("Value %q for parameter wait is invalid: want seconds from 0 to %d.", sanitize(v), int(queue.MaxWait.Seconds()))
		}
		wait = time.Duration(sec * float64(time.Second))
	}
	return n, wait, nil
}

// listQueues is GET /updraft/v1/queues: every queue, by name, with the
// number of messages waiting in it.
func (s *Server) listQueues(w http.ResponseWriter, r *http.Request) error {
	q, err := s.queues()
	if err != nil {
		return err
	}
	infos, err := q.List(r.Context())
	if err != nil {
		return fmt.Errorf("api: list queues: %w", err)
	}
	out := listQueuesResponse{Queues: make([]queueSummary, 0, len(infos))}
	for _, in := range infos {
		out.Queues = append(out.Queues, queueSummary{Name: in.Name, Arn: in.ARN, ApproximateNumberOfMessages: in.ApproximateNumberOfMessages})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
