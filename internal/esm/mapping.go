package esm

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/queue"
)

// Limits of a mapping's settings (Lambda API reference,
// CreateEventSourceMapping).
const (
	// DefaultBatchSize is BatchSize for SQS when none is given.
	DefaultBatchSize = 10
	// MaxBatchSize is the largest BatchSize of a standard queue.
	MaxBatchSize = 10000
	// MaxFIFOBatchSize is the largest BatchSize of a FIFO queue.
	MaxFIFOBatchSize = 10
	// MaxBatchingWindow is the largest MaximumBatchingWindowInSeconds.
	MaxBatchingWindow = 300
	// maxUnbatchedSize is the largest BatchSize allowed without a
	// batching window.
	maxUnbatchedSize = 10
)

// Mapping is one event source mapping as stored.
type Mapping struct {
	UUID           string `json:"uuid"`
	EventSourceArn string `json:"eventSourceArn"`
	// Queue is the name of the queue in EventSourceArn.
	Queue string `json:"queue"`
	// Function and Qualifier are what is invoked; FunctionArn is how
	// Lambda shows it (qualified when a qualifier was given).
	Function       string    `json:"function"`
	Qualifier      string    `json:"qualifier,omitempty"`
	FunctionArn    string    `json:"functionArn"`
	BatchSize      int       `json:"batchSize"`
	BatchingWindow int       `json:"batchingWindow"` // seconds
	ResponseTypes  []string  `json:"responseTypes,omitempty"`
	Enabled        bool      `json:"enabled"`
	LastModified   time.Time `json:"lastModified"`
}

// reportsFailures reports whether the function answers with a partial
// batch response.
func (m *Mapping) reportsFailures() bool {
	return slices.Contains(m.ResponseTypes, lambdaapi.ReportBatchItemFailures)
}

// state is the state a mapping has reached.
func (m *Mapping) state() string {
	if m.Enabled {
		return lambdaapi.ESMStateEnabled
	}
	return lambdaapi.ESMStateDisabled
}

// sameWork reports whether a poller of m would behave as one of o: the
// settings a poller reads are equal.
func (m *Mapping) sameWork(o *Mapping) bool {
	return m.Queue == o.Queue && m.EventSourceArn == o.EventSourceArn && m.Function == o.Function &&
		m.Qualifier == o.Qualifier && m.BatchSize == o.BatchSize && m.BatchingWindow == o.BatchingWindow &&
		slices.Equal(m.ResponseTypes, o.ResponseTypes) && m.Enabled == o.Enabled
}

// Configuration is m in Lambda's shape, in the given state ("" for the
// state reached).
func (m *Mapping) Configuration(state string) *lambdaapi.EventSourceMappingConfiguration {
	if state == "" {
		state = m.state()
	}
	types := m.ResponseTypes
	if types == nil {
		types = []string{}
	}
	return &lambdaapi.EventSourceMappingConfiguration{
		UUID:                           m.UUID,
		EventSourceArn:                 m.EventSourceArn,
		FunctionArn:                    m.FunctionArn,
		BatchSize:                      m.BatchSize,
		MaximumBatchingWindowInSeconds: m.BatchingWindow,
		FunctionResponseTypes:          types,
		LastModified:                   float64(m.LastModified.UnixMilli()) / 1000,
		State:                          state,
		StateTransitionReason:          lambdaapi.ESMReasonUserInitiated,
	}
}

// validationError is Lambda's model-validation message for one member.
func validationError(value any, member, constraint string) error {
	return lambdaerr.Validation("1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: %s", value, member, constraint)
}

// checkRanges applies the API model's ranges to the members given.
func checkRanges(batchSize, window *int, types *[]string) error {
	if batchSize != nil {
		switch {
		case *batchSize < 1:
			return validationError(*batchSize, "batchSize", "Member must have value greater than or equal to 1")
		case *batchSize > MaxBatchSize:
			return validationError(*batchSize, "batchSize", fmt.Sprintf("Member must have value less than or equal to %d", MaxBatchSize))
		}
	}
	if window != nil {
		switch {
		case *window < 0:
			return validationError(*window, "maximumBatchingWindowInSeconds", "Member must have value greater than or equal to 0")
		case *window > MaxBatchingWindow:
			return validationError(*window, "maximumBatchingWindowInSeconds", fmt.Sprintf("Member must have value less than or equal to %d", MaxBatchingWindow))
		}
	}
	if types != nil {
		if len(*types) > 1 {
			return validationError("["+strings.Join(*types, ", ")+"]", "functionResponseTypes", "Member must have length less than or equal to 1")
		}
		for _, t := range *types {
			if t != lambdaapi.ReportBatchItemFailures {
				return validationError("["+strings.Join(*types, ", ")+"]", "functionResponseTypes",
					"Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]")
			}
		}
	}
	return nil
}

// checkCombination applies the rules that span members, to a mapping
// with every member set: SQS's batching-window rule and the FIFO limits.
func checkCombination(m *Mapping) error {
	if m.BatchSize > maxUnbatchedSize && m.BatchingWindow < 1 {
		return lambdaerr.InvalidParameterValue("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
	}
	if strings.HasSuffix(m.Queue, ".fifo") {
		if m.BatchSize > MaxFIFOBatchSize {
			return lambdaerr.InvalidParameterValue("Batch size for FIFO queues must be between 1 and %d.", MaxFIFOBatchSize)
		}
		if m.BatchingWindow > 0 {
			return lambdaerr.InvalidParameterValue("Batching window is not supported for FIFO queues.")
		}
	}
	return nil
}

// parseSource checks that arn names a built-in queue of this server and
// returns the queue's name.
func parseSource(arn, region, account string) (string, error) {
	if arn == "" {
		return "", lambdaerr.InvalidParameterValue("Unrecognized event source, must be an SQS queue ARN (arn:aws:sqs:%s:%s:NAME) of a built-in queue.", region, account)
	}
	r, a, name, err := queue.ParseARN(arn)
	if err != nil {
		return "", lambdaerr.InvalidParameterValue("Unrecognized event source %s: only built-in queues (arn:aws:sqs:%s:%s:NAME) are supported.", arn, region, account).WithCause(err)
	}
	if r != region || a != account {
		return "", lambdaerr.InvalidParameterValue("Unrecognized event source %s: built-in queues are in region %s and account %s.", arn, region, account)
	}
	return name, nil
}
