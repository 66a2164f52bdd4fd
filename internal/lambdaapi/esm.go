package lambdaapi

// Event source mapping shapes (Lambda API reference:
// CreateEventSourceMapping, UpdateEventSourceMapping,
// ListEventSourceMappings, EventSourceMappingConfiguration). Only the
// members that apply to SQS queues and Kinesis streams are modelled;
// others are ignored.

// Event source mapping states and the reason Lambda gives for a change
// made through the API.
const (
	ESMStateCreating  = "Creating"
	ESMStateEnabling  = "Enabling"
	ESMStateEnabled   = "Enabled"
	ESMStateDisabling = "Disabling"
	ESMStateDisabled  = "Disabled"
	ESMStateUpdating  = "Updating"
	ESMStateDeleting  = "Deleting"

	// ESMReasonUserInitiated is the reason of a queue mapping;
	// ESMReasonUserAction the reason of a stream mapping (recorded:
	// LocalStack's Lambda SQS and Kinesis integration snapshots).
	ESMReasonUserInitiated = "USER_INITIATED"
	ESMReasonUserAction    = "User action"

	// ReportBatchItemFailures is the only FunctionResponseTypes value.
	ReportBatchItemFailures = "ReportBatchItemFailures"
)

// CreateEventSourceMappingRequest is CreateEventSourceMapping's body.
type CreateEventSourceMappingRequest struct {
	EventSourceArn                 *string   `json:"EventSourceArn,omitempty"`
	FunctionName                   *string   `json:"FunctionName,omitempty"`
	Enabled                        *bool     `json:"Enabled,omitempty"`
	BatchSize                      *int      `json:"BatchSize,omitempty"`
	MaximumBatchingWindowInSeconds *int      `json:"MaximumBatchingWindowInSeconds,omitempty"`
	FunctionResponseTypes          *[]string `json:"FunctionResponseTypes,omitempty"`
	StreamMappingOptions
	// StartingPosition is TRIM_HORIZON, LATEST or AT_TIMESTAMP; required
	// for streams, set at creation only.
	StartingPosition *string `json:"StartingPosition,omitempty"`
	// StartingPositionTimestamp is AT_TIMESTAMP's start, epoch seconds.
	StartingPositionTimestamp *float64 `json:"StartingPositionTimestamp,omitempty"`
	// DestinationConfig is where a stream mapping sends records of
	// batches it gave up on; queue mappings have none.
	DestinationConfig *DestinationConfig `json:"DestinationConfig,omitempty"`
}

// StreamMappingOptions are the members of Create and Update that apply to
// streams only.
type StreamMappingOptions struct {
	MaximumRetryAttempts       *int  `json:"MaximumRetryAttempts,omitempty"`
	MaximumRecordAgeInSeconds  *int  `json:"MaximumRecordAgeInSeconds,omitempty"`
	BisectBatchOnFunctionError *bool `json:"BisectBatchOnFunctionError,omitempty"`
	ParallelizationFactor      *int  `json:"ParallelizationFactor,omitempty"`
}

// UpdateEventSourceMappingRequest is UpdateEventSourceMapping's body; a
// member left out keeps its value.
type UpdateEventSourceMappingRequest struct {
	FunctionName                   *string   `json:"FunctionName,omitempty"`
	Enabled                        *bool     `json:"Enabled,omitempty"`
	BatchSize                      *int      `json:"BatchSize,omitempty"`
	MaximumBatchingWindowInSeconds *int      `json:"MaximumBatchingWindowInSeconds,omitempty"`
	FunctionResponseTypes          *[]string `json:"FunctionResponseTypes,omitempty"`
	StreamMappingOptions
}

// EventSourceMappingConfiguration is the answer of every event source
// mapping operation but List. LastModified is epoch seconds with a
// fraction, as Lambda sends it.
type EventSourceMappingConfiguration struct {
	UUID                           string   `json:"UUID"`
	EventSourceMappingArn          string   `json:"EventSourceMappingArn"`
	EventSourceArn                 string   `json:"EventSourceArn"`
	FunctionArn                    string   `json:"FunctionArn"`
	BatchSize                      int      `json:"BatchSize"`
	MaximumBatchingWindowInSeconds int      `json:"MaximumBatchingWindowInSeconds"`
	FunctionResponseTypes          []string `json:"FunctionResponseTypes"`
	LastModified                   float64  `json:"LastModified"`
	LastProcessingResult           string   `json:"LastProcessingResult,omitempty"`
	State                          string   `json:"State"`
	StateTransitionReason          string   `json:"StateTransitionReason"`

	StartingPosition           string   `json:"StartingPosition,omitempty"`
	StartingPositionTimestamp  *float64 `json:"StartingPositionTimestamp,omitempty"`
	ParallelizationFactor      *int     `json:"ParallelizationFactor,omitempty"`
	MaximumRecordAgeInSeconds  *int     `json:"MaximumRecordAgeInSeconds,omitempty"`
	BisectBatchOnFunctionError *bool    `json:"BisectBatchOnFunctionError,omitempty"`
	MaximumRetryAttempts       *int     `json:"MaximumRetryAttempts,omitempty"`
	TumblingWindowInSeconds    *int     `json:"TumblingWindowInSeconds,omitempty"`
	// DestinationConfig is set for stream mappings: {"OnFailure": {}}
	// when no destination is configured, as Lambda shows it.
	DestinationConfig *DestinationConfig `json:"DestinationConfig,omitempty"`
}

// ListEventSourceMappingsResponse is ListEventSourceMappings' answer.
type ListEventSourceMappingsResponse struct {
	EventSourceMappings []EventSourceMappingConfiguration `json:"EventSourceMappings"`
	NextMarker          string                            `json:"NextMarker,omitempty"`
}
