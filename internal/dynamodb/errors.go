package dynamodb

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/updraft/updraft/internal/dynamodb/attr"
)

// errPrefix is the namespace of DynamoDB's error types on the wire.
const errPrefix = "com.amazonaws.dynamodb.v20120810#"

// apiError is an error in DynamoDB's shape.
type apiError struct {
	Type    string
	Message string
	Status  int
	// Item is the item a failed condition saw, with
	// ReturnValuesOnConditionCheckFailure ALL_OLD.
	Item attr.Item
	// Reasons are a cancelled transaction's CancellationReasons.
	Reasons []cancelReason
}

type cancelReason struct {
	Code    string    `json:"Code"`
	Message string    `json:"Message,omitempty"`
	Item    attr.Item `json:"Item,omitempty"`
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

// MarshalJSON writes the error body DynamoDB sends.
func (e *apiError) MarshalJSON() ([]byte, error) {
	m := map[string]any{"__type": errPrefix + e.Type, "message": e.Message}
	if e.Item != nil {
		m["Item"] = e.Item
	}
	if e.Reasons != nil {
		m["CancellationReasons"] = e.Reasons
	}
	return json.Marshal(m)
}

func validation(format string, args ...any) *apiError {
	return &apiError{Type: "ValidationException", Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func notFound(msg string) *apiError {
	return &apiError{Type: "ResourceNotFoundException", Message: msg, Status: http.StatusBadRequest}
}

func tableNotFound() *apiError { return notFound("Requested resource not found") }

func inUse(format string, args ...any) *apiError {
	return &apiError{Type: "ResourceInUseException", Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func conditionFailed(item attr.Item) *apiError {
	return &apiError{Type: "ConditionalCheckFailedException", Message: "The conditional request failed", Status: http.StatusBadRequest, Item: item}
}

func serialization(msg string) *apiError {
	return &apiError{Type: "SerializationException", Message: msg, Status: http.StatusBadRequest}
}

// AccessDenied is the refusal an Authorize function returns; its message
// is AWS's "User: ... is not authorized to perform: ...".
type AccessDenied struct{ Message string }

func (e *AccessDenied) Error() string { return e.Message }
