package sfn

import (
	"fmt"
	"net/http"
)

// Error is a client-visible Step Functions error: its type goes out as
// __type, its message as message (the JSON 1.0 protocol's error shape).
type Error struct {
	Type    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

func apiErr(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

// The errors of the Step Functions API reference, with its messages.
func errMachineNotFound(arn string) *Error {
	return apiErr("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
}

func errExecutionNotFound(arn string) *Error {
	return apiErr("ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn)
}

func errInvalidArn(arn string) *Error { return apiErr("InvalidArn", "Invalid Arn: '%s'", arn) }

func errValidation(format string, args ...any) *Error {
	return apiErr("ValidationException", format, args...)
}
