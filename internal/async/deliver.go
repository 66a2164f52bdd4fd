package async

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/updraft/updraft/internal/lambdaerr"
)

// DestinationRecord is Lambda's invocation record, as destinations
// receive it (the message body of a queue, the event of a function, the
// body of a webhook POST).
type DestinationRecord struct {
	Version         string           `json:"version"`
	Timestamp       string           `json:"timestamp"`
	RequestContext  RequestContext   `json:"requestContext"`
	RequestPayload  json.RawMessage  `json:"requestPayload"`
	ResponseContext *ResponseContext `json:"responseContext,omitempty"`
	ResponsePayload json.RawMessage  `json:"responsePayload,omitempty"`
}

// RequestContext is the requestContext of a DestinationRecord.
type RequestContext struct {
	RequestID              string `json:"requestId"`
	FunctionArn            string `json:"functionArn"`
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

// ResponseContext is the responseContext of a DestinationRecord: present
// when the function ran.
type ResponseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError,omitempty"`
}

// destinationRecord builds Lambda's record of a final invocation.
func destinationRecord(rec *Record, ev *event) *DestinationRecord {
	ts := time.Now().UTC()
	if rec.FinishedAt != nil {
		ts = *rec.FinishedAt
	}
	out := &DestinationRecord{
		Version:   "1.0",
		Timestamp: ts.Format("2006-01-02T15:04:05.000Z"),
		RequestContext: RequestContext{
			RequestID:              rec.RequestID,
			FunctionArn:            rec.FunctionARN,
			Condition:              rec.Condition,
			ApproximateInvokeCount: rec.Attempts + rec.Throttles,
		},
		RequestPayload: json.RawMessage(ev.Payload),
	}
	switch {
	case rec.Status == StatusSucceeded:
		out.ResponseContext = &ResponseContext{StatusCode: 200, ExecutedVersion: rec.ExecutedVersion}
		out.ResponsePayload = rec.Result
	case rec.FunctionError != "":
		out.ResponseContext = &ResponseContext{StatusCode: 200, ExecutedVersion: rec.ExecutedVersion, FunctionError: rec.FunctionError}
		out.ResponsePayload = rec.ErrorPayload
	}
	if len(out.ResponsePayload) == 0 && out.ResponseContext != nil {
		out.ResponsePayload = json.RawMessage("null")
	}
	return out
}

// maxErrorMessageAttr is the limit of the DLQ's ErrorMessage attribute.
const maxErrorMessageAttr = 1024

// deliver sends one delivery of a final record.
func (e *Engine) deliver(ctx context.Context, rec *Record, ev *event, d *Delivery) error {
	dedup := rec.RequestID + ":" + d.Kind
	if d.Kind == KindDeadLetter {
		// The dead-letter queue gets the event itself, with attributes.
		status, msg := 200, ""
		if rec.Error != nil {
			msg = rec.Error.ErrorMessage
			if rec.FunctionError == "" {
				status = statusOf(rec.Error.ErrorType)
			}
		}
		if len(msg) > maxErrorMessageAttr {
			msg = msg[:maxErrorMessageAttr]
		}
		return e.sendQueue(ctx, d.Target, dedup, ev.Payload, map[string]Attribute{
			"RequestID":    {DataType: "String", StringValue: rec.RequestID},
			"ErrorCode":    {DataType: "Number", StringValue: strconv.Itoa(status)},
			"ErrorMessage": {DataType: "String", StringValue: msg},
		})
	}
	body, err := json.Marshal(destinationRecord(rec, ev))
	if err != nil {
		return fmt.Errorf("async: encode destination record: %w", err)
	}
	switch kind := targetKind(d.Target); kind {
	case "sqs":
		return e.sendQueue(ctx, d.Target, dedup, body, nil)
	case "lambda":
		// A function destination is invoked asynchronously, under a
		// request id derived from this one so a retried delivery is
		// accepted once.
		id := uuid.NewSHA1(uuid.NameSpaceURL, []byte("updraft:destination:"+dedup)).String()
		_, err := e.Accept(ctx, &Request{FunctionName: d.Target, Payload: body, RequestID: id})
		return err
	case "http":
		return e.post(ctx, d.Target, body, rec)
	default:
		return fmt.Errorf("async: unsupported destination %q", d.Target)
	}
}

func (e *Engine) sendQueue(ctx context.Context, queueARN, dedup string, body []byte, attrs map[string]Attribute) error {
	if e.deps.Queues == nil {
		return errors.New("async: built-in queues are not available")
	}
	return e.deps.Queues.Send(ctx, queueARN, dedup, body, attrs)
}

// post delivers to a webhook: any 2xx is success.
func (e *Engine) post(ctx context.Context, url string, body []byte, rec *Record) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("async: webhook %s: %w", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Updraft-Request-Id", rec.RequestID)
	req.Header.Set("X-Updraft-Condition", rec.Condition)
	resp, err := e.http.Do(req)
	if err != nil {
		return fmt.Errorf("async: webhook %s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("async: webhook %s answered %s", url, resp.Status)
	}
	return nil
}

// targetKind classifies a destination: "lambda", "sqs", "http" or "".
func targetKind(target string) string {
	switch {
	case strings.HasPrefix(target, "http://"), strings.HasPrefix(target, "https://"):
		return "http"
	case strings.HasPrefix(target, "arn:") && strings.Contains(target, ":lambda:"):
		return "lambda"
	case strings.HasPrefix(target, "arn:") && strings.Contains(target, ":sqs:"):
		return "sqs"
	}
	return ""
}

// statusOf is the HTTP status of a platform error type, for the DLQ's
// ErrorCode attribute.
func statusOf(errorType string) int {
	switch errorType {
	case lambdaerr.TypeTooManyRequests:
		return 429
	case lambdaerr.TypeResourceNotFound:
		return 404
	case ConditionEventAgeExceeded:
		return 200
	}
	return 500
}
