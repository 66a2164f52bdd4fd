package esm

import (
	"fmt"
	"github.com/updraft/updraft/internal/dynamodb"
	"slices"
	"strings"
	"time"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/queue"
	"github.com/updraft/updraft/internal/stream"
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
	// DefaultStreamBatchSize is BatchSize for streams when none is given.
	DefaultStreamBatchSize = 100
	// MaxRetryAttempts is the largest MaximumRetryAttempts (-1 is
	// infinite, the default).
	MaxRetryAttempts = 10000
	// MinRecordAge and MaxRecordAge bound MaximumRecordAgeInSeconds (-1
	// is infinite, the default: records are retried until they expire).
	MinRecordAge = 60
	MaxRecordAge = 604800
	// MaxParallelization is the largest ParallelizationFactor.
	MaxParallelization = 10
)

// Mapping is one event source mapping as stored.
type Mapping struct {
	UUID           string `json:"uuid"`
	EventSourceArn string `json:"eventSourceArn"`
	// Queue is the name of the queue in EventSourceArn; "" for a stream.
	Queue string `json:"queue"`
	// Stream is the name of the stream in EventSourceArn; "" for a queue.
	Stream string `json:"stream,omitempty"`
	// The stream settings (Lambda's names): StartingPosition and its
	// timestamp, MaximumRetryAttempts, MaximumRecordAgeInSeconds,
	// BisectBatchOnFunctionError and ParallelizationFactor.
	StartingPosition  string     `json:"startingPosition,omitempty"`
	StartingTimestamp *time.Time `json:"startingTimestamp,omitempty"`
	MaxRetry          int        `json:"maxRetry,omitempty"`
	MaxRecordAge      int        `json:"maxRecordAge,omitempty"`
	Bisect            bool       `json:"bisect,omitempty"`
	Parallelization   int        `json:"parallelization,omitempty"`
	// Role is the function's execution role when the mapping was made,
	// shown as a stream record's invokeIdentityArn.
	Role string `json:"role,omitempty"`
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
	return m.Queue == o.Queue && m.Stream == o.Stream && m.MaxRetry == o.MaxRetry && m.MaxRecordAge == o.MaxRecordAge &&
		m.Bisect == o.Bisect && m.EventSourceArn == o.EventSourceArn && m.Function == o.Function &&
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
	c := &lambdaapi.EventSourceMappingConfiguration{
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
	// The mapping's ARN is in the function's region and account:
	// arn:aws:lambda:REGION:ACCOUNT:event-source-mapping:UUID.
	if prefix, _, ok := strings.Cut(m.FunctionArn, ":function:"); ok {
		c.EventSourceMappingArn = prefix + ":event-source-mapping:" + m.UUID
	}
	if m.Stream != "" {
		c.StateTransitionReason = lambdaapi.ESMReasonUserAction
		c.DestinationConfig = &lambdaapi.DestinationConfig{OnFailure: &lambdaapi.EventDestination{}}
		c.StartingPosition = m.StartingPosition
		if m.StartingTimestamp != nil {
			ts := float64(m.StartingTimestamp.UnixMilli()) / 1000
			c.StartingPositionTimestamp = &ts
		}
		zero := 0
		c.ParallelizationFactor, c.MaximumRecordAgeInSeconds, c.MaximumRetryAttempts = &m.Parallelization, &m.MaxRecordAge, &m.MaxRetry
		c.BisectBatchOnFunctionError, c.TumblingWindowInSeconds = &m.Bisect, &zero
	}
	return c
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

// checkStreamRanges applies the API model's ranges to the stream members
// given.
func checkStreamRanges(o lambdaapi.StreamMappingOptions) error {
	if v := o.MaximumRetryAttempts; v != nil && (*v < -1 || *v > MaxRetryAttempts) {
		return validationError(*v, "maximumRetryAttempts", fmt.Sprintf("Member must have value between -1 and %d", MaxRetryAttempts))
	}
	if v := o.MaximumRecordAgeInSeconds; v != nil && (*v < -1 || *v > MaxRecordAge) {
		return validationError(*v, "maximumRecordAgeInSeconds", fmt.Sprintf("Member must have value between -1 and %d", MaxRecordAge))
	}
	if v := o.ParallelizationFactor; v != nil && (*v < 1 || *v > MaxParallelization) {
		return validationError(*v, "parallelizationFactor", fmt.Sprintf("Member must have value between 1 and %d", MaxParallelization))
	}
	return nil
}

// setsStreamOptions reports whether o sets any stream-only member.
func setsStreamOptions(o lambdaapi.StreamMappingOptions) bool {
	return o.MaximumRetryAttempts != nil || o.MaximumRecordAgeInSeconds != nil || o.BisectBatchOnFunctionError != nil || o.ParallelizationFactor != nil
}

// applyStreamOptions copies the members of o that are set into m.
func applyStreamOptions(m *Mapping, o lambdaapi.StreamMappingOptions) {
	if o.MaximumRetryAttempts != nil {
		m.MaxRetry = *o.MaximumRetryAttempts
	}
	if o.MaximumRecordAgeInSeconds != nil {
		m.MaxRecordAge = *o.MaximumRecordAgeInSeconds
	}
	if o.BisectBatchOnFunctionError != nil {
		m.Bisect = *o.BisectBatchOnFunctionError
	}
	if o.ParallelizationFactor != nil {
		m.Parallelization = *o.ParallelizationFactor
	}
}

// checkCombination applies the rules that span members, to a mapping
// with every member set: SQS's batching-window rule and the FIFO limits;
// for streams, the record age's lower bound and the response types.
func checkCombination(m *Mapping) error {
	if m.Stream != "" {
		if m.MaxRecordAge != -1 && m.MaxRecordAge < MinRecordAge {
			return lambdaerr.InvalidParameterValue("MaximumRecordAgeInSeconds must be -1 or between %d and %d.", MinRecordAge, MaxRecordAge)
		}
		if len(m.ResponseTypes) > 0 {
			return lambdaerr.InvalidParameterValue("FunctionResponseTypes (ReportBatchItemFailures) is not supported for built-in streams yet.")
		}
		return nil
	}
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

// parseSource checks that arn names a built-in queue or stream of this
// server and returns the queue's or the stream's name.
func parseSource(arn, region, account string) (queueName, streamName string, err error) {
	if strings.HasPrefix(arn, "arn:aws:dynamodb:") {
		r, a, table, label, err := dynamodb.ParseStreamARN(arn)
		if err != nil {
			return "", "", lambdaerr.InvalidParameterValue("Unrecognized event source %s: only table streams (arn:aws:dynamodb:%s:%s:table/NAME/stream/LABEL) are supported.", arn, region, account).WithCause(err)
		}
		if r != region || a != account {
			return "", "", lambdaerr.InvalidParameterValue("Unrecognized event source %s: tables are in region %s and account %s.", arn, region, account)
		}
		return "", dynamodb.StreamName(table, label), nil
	}
	if strings.HasPrefix(arn, "arn:aws:kinesis:") {
		r, a, name, err := stream.ParseARN(arn)
		if err != nil {
			return "", "", lambdaerr.InvalidParameterValue("Unrecognized event source %s: only built-in streams (arn:aws:kinesis:%s:%s:stream/NAME) are supported.", arn, region, account).WithCause(err)
		}
		if r != region || a != account {
			return "", "", lambdaerr.InvalidParameterValue("Unrecognized event source %s: built-in streams are in region %s and account %s.", arn, region, account)
		}
		return "", name, nil
	}
	name, err := parseQueue(arn, region, account)
	return name, "", err
}

// parseQueue checks that arn names a built-in queue of this server and
// returns the queue's name.
func parseQueue(arn, region, account string) (string, error) {
	if arn == "" {
		// Lambda's words (recorded: test_event_source_mapping_exceptions,
		// create_no_event_source_arn).
		return "", lambdaerr.InvalidParameterValue("Unrecognized event source.")
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
