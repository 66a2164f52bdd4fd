package sqs

import (
	"fmt"
	"net/http"
)

// Error is a client-visible SQS error: the error shape's name (the JSON
// protocol's __type is com.amazonaws.sqs#Shape), the query protocol's code
// (also sent in the JSON protocol's x-amzn-query-error header), the HTTP
// status and a message.
type Error struct {
	Shape   string
	Code    string
	Status  int
	Message string
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// fault is "Sender" for client errors and "Receiver" for the service's.
func (e *Error) fault() string {
	if e.Status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

// errorKind is one entry of the catalogue: shape, query code and status,
// from the SQS API reference and botocore's sqs model (awsQueryError).
type errorKind struct {
	shape, code string
	status      int
}

func (k errorKind) err(format string, args ...any) *Error {
	return &Error{Shape: k.shape, Code: k.code, Status: k.status, Message: fmt.Sprintf(format, args...)}
}

// The catalogue of errors the API answers with.
var (
	errNoQueue          = errorKind{"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", http.StatusBadRequest}
	errQueueExists      = errorKind{"QueueNameExists", "QueueAlreadyExists", http.StatusBadRequest}
	errAttrName         = errorKind{"InvalidAttributeName", "InvalidAttributeName", http.StatusBadRequest}
	errAttrValue        = errorKind{"InvalidAttributeValue", "InvalidAttributeValue", http.StatusBadRequest}
	errBadHandle        = errorKind{"ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", http.StatusNotFound}
	errEmptyBatch       = errorKind{"EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", http.StatusBadRequest}
	errTooManyEntries   = errorKind{"TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", http.StatusBadRequest}
	errIDsNotDistinct   = errorKind{"BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", http.StatusBadRequest}
	errBadBatchID       = errorKind{"InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId", http.StatusBadRequest}
	errBatchTooLong     = errorKind{"BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong", http.StatusBadRequest}
	errMessageContents  = errorKind{"InvalidMessageContents", "InvalidMessageContents", http.StatusBadRequest}
	errInvalidParameter = errorKind{"InvalidParameterValueException", "InvalidParameterValue", http.StatusBadRequest}
	errMissingParameter = errorKind{"MissingParameter", "MissingParameter", http.StatusBadRequest}
	errInvalidAction    = errorKind{"InvalidAction", "InvalidAction", http.StatusBadRequest}
	errInvalidAddress   = errorKind{"InvalidAddress", "InvalidAddress", http.StatusNotFound}
	errMalformed        = errorKind{"MalformedQueryString", "MalformedQueryString", http.StatusBadRequest}
	errSerialization    = errorKind{"SerializationException", "SerializationException", http.StatusBadRequest}
	errAccessDenied     = errorKind{"AccessDeniedException", "AccessDenied", http.StatusForbidden}
	errOverLimit        = errorKind{"OverLimit", "OverLimit", http.StatusForbidden}
	errInternal         = errorKind{"InternalError", "InternalError", http.StatusInternalServerError}
)

// noQueue is QueueDoesNotExist with the message of the protocol: the
// JSON protocol's is shorter than the query protocol's, which still says
// "for this wsdl version".
func noQueue() *Error {
	return errNoQueue.err("The specified queue does not exist.")
}

// missing is MissingParameter for parameter p.
func missing(p string) *Error {
	return errMissingParameter.err("The request must contain the parameter %s.", p)
}

// invalidValue is InvalidParameterValue with SQS's wording.
func invalidValue(p string, v any, reason string) *Error {
	return errInvalidParameter.err("Value %v for parameter %s is invalid. Reason: %s", v, p, reason)
}
