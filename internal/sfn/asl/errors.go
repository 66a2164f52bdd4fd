package asl

import "fmt"

// The error names Step Functions defines ("Error names" in the
// developer guide's error handling chapter).
const (
	ErrALL                   = "States.ALL"
	ErrTaskFailed            = "States.TaskFailed"
	ErrTimeout               = "States.Timeout"
	ErrHeartbeatTimeout      = "States.HeartbeatTimeout"
	ErrRuntime               = "States.Runtime"
	ErrPermissions           = "States.Permissions"
	ErrResultPathMatch       = "States.ResultPathMatchFailure"
	ErrParameterPathFailure  = "States.ParameterPathFailure"
	ErrBranchFailed          = "States.BranchFailed"
	ErrNoChoiceMatched       = "States.NoChoiceMatched"
	ErrIntrinsicFailure      = "States.IntrinsicFailure"
	ErrExceedToleratedFail   = "States.ExceedToleratedFailureThreshold"
	ErrItemReaderFailed      = "States.ItemReaderFailed"
	ErrResultWriterFailed    = "States.ResultWriterFailed"
	ErrDataLimitExceeded     = "States.DataLimitExceeded"
	ErrQueryEvaluationFailed = "States.QueryEvaluationError"
)

// StateError is a state's failure: an error name and a cause, the pair
// Retry and Catch match on and a failed execution reports.
type StateError struct {
	// Name is the error name, e.g. States.Runtime or a function's
	// errorType.
	Name string
	// Cause is the human-readable detail.
	Cause string
}

func (e *StateError) Error() string { return e.Name + ": " + e.Cause }

// Terminal reports whether no Retry or Catch may handle the error:
// States.Runtime and States.DataLimitExceeded always fail the execution
// ("States.ALL ... can't catch States.DataLimitExceeded or
// States.Runtime").
func (e *StateError) Terminal() bool {
	return e.Name == ErrRuntime || e.Name == ErrDataLimitExceeded
}

// runtimeErr builds a StateError.
func runtimeErr(name, format string, args ...any) *StateError {
	return &StateError{Name: name, Cause: fmt.Sprintf(format, args...)}
}
