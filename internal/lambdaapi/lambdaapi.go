// Package lambdaapi holds the wire types of Lambda's REST API: request and
// response bodies with the JSON names the AWS CLI and SDKs send and expect,
// and the header names of the invoke path. It has no behaviour; the
// registry and the API layer translate between these and their own types.
package lambdaapi

// Header names of the invoke path.
const (
	HeaderInvocationType  = "X-Amz-Invocation-Type"
	HeaderLogType         = "X-Amz-Log-Type"
	HeaderClientContext   = "X-Amz-Client-Context"
	HeaderLogResult       = "X-Amz-Log-Result"
	HeaderFunctionError   = "X-Amz-Function-Error"
	HeaderExecutedVersion = "X-Amz-Executed-Version"
	HeaderRequestID       = "X-Amzn-Requestid"
	HeaderErrorType       = "X-Amzn-Errortype"
	HeaderTraceID         = "X-Amzn-Trace-Id"
)

// Invocation types.
const (
	InvocationRequestResponse = "RequestResponse"
	InvocationEvent           = "Event"
	InvocationDryRun          = "DryRun"
)

// VersionLatest is the unpublished, mutable version of a function.
const VersionLatest = "$LATEST"

// FunctionCode is the Code member of CreateFunction.
type FunctionCode struct {
	ZipFile         []byte `json:"ZipFile,omitempty"`
	S3Bucket        string `json:"S3Bucket,omitempty"`
	S3Key           string `json:"S3Key,omitempty"`
	S3ObjectVersion string `json:"S3ObjectVersion,omitempty"`
	ImageURI        string `json:"ImageUri,omitempty"`
}

// Environment is a function's environment variables.
type Environment struct {
	Variables map[string]string `json:"Variables"`
}

// EnvironmentResponse is the Environment member of FunctionConfiguration.
type EnvironmentResponse struct {
	Variables map[string]string `json:"Variables,omitempty"`
}

// EphemeralStorage is the size of /tmp in MB.
type EphemeralStorage struct {
	Size int `json:"Size"`
}

// DeadLetterConfig names the queue that receives failed async events.
type DeadLetterConfig struct {
	TargetArn string `json:"TargetArn,omitempty"`
}

// TracingConfig is accepted and echoed; tracing is not performed.
type TracingConfig struct {
	Mode string `json:"Mode,omitempty"`
}

// Layer is a layer version attached to a function.
type Layer struct {
	Arn      string `json:"Arn"`
	CodeSize int64  `json:"CodeSize"`
}

// LoggingConfig is accepted and echoed.
type LoggingConfig struct {
	LogFormat           string `json:"LogFormat,omitempty"`
	ApplicationLogLevel string `json:"ApplicationLogLevel,omitempty"`
	SystemLogLevel      string `json:"SystemLogLevel,omitempty"`
	LogGroup            string `json:"LogGroup,omitempty"`
}

// CreateFunctionRequest is the body of CreateFunction.
type CreateFunctionRequest struct {
	FunctionName     string            `json:"FunctionName"`
	Runtime          string            `json:"Runtime"`
	Role             string            `json:"Role"`
	Handler          string            `json:"Handler"`
	Code             *FunctionCode     `json:"Code"`
	Description      string            `json:"Description"`
	Timeout          *int              `json:"Timeout"`
	MemorySize       *int              `json:"MemorySize"`
	Publish          bool              `json:"Publish"`
	PackageType      string            `json:"PackageType"`
	Environment      *Environment      `json:"Environment"`
	EphemeralStorage *EphemeralStorage `json:"EphemeralStorage"`
	DeadLetterConfig *DeadLetterConfig `json:"DeadLetterConfig"`
	TracingConfig    *TracingConfig    `json:"TracingConfig"`
	LoggingConfig    *LoggingConfig    `json:"LoggingConfig"`
	Tags             map[string]string `json:"Tags"`
	Layers           []string          `json:"Layers"`
	Architectures    []string          `json:"Architectures"`
	KMSKeyArn        string            `json:"KMSKeyArn"`
}

// UpdateFunctionCodeRequest is the body of UpdateFunctionCode.
type UpdateFunctionCodeRequest struct {
	ZipFile         []byte   `json:"ZipFile"`
	S3Bucket        string   `json:"S3Bucket"`
	S3Key           string   `json:"S3Key"`
	S3ObjectVersion string   `json:"S3ObjectVersion"`
	ImageURI        string   `json:"ImageUri"`
	Publish         bool     `json:"Publish"`
	DryRun          bool     `json:"DryRun"`
	RevisionID      string   `json:"RevisionId"`
	Architectures   []string `json:"Architectures"`
}

// UpdateFunctionConfigurationRequest is the body of
// UpdateFunctionConfiguration; nil members are left unchanged.
type UpdateFunctionConfigurationRequest struct {
	Runtime          *string           `json:"Runtime"`
	Role             *string           `json:"Role"`
	Handler          *string           `json:"Handler"`
	Description      *string           `json:"Description"`
	Timeout          *int              `json:"Timeout"`
	MemorySize       *int              `json:"MemorySize"`
	Environment      *Environment      `json:"Environment"`
	EphemeralStorage *EphemeralStorage `json:"EphemeralStorage"`
	DeadLetterConfig *DeadLetterConfig `json:"DeadLetterConfig"`
	TracingConfig    *TracingConfig    `json:"TracingConfig"`
	LoggingConfig    *LoggingConfig    `json:"LoggingConfig"`
	Layers           []string          `json:"Layers"`
	RevisionID       string            `json:"RevisionId"`
	KMSKeyArn        *string           `json:"KMSKeyArn"`
}

// FunctionConfiguration is what Lambda returns for a function or version.
type FunctionConfiguration struct {
	FunctionName               string               `json:"FunctionName"`
	FunctionArn                string               `json:"FunctionArn"`
	Runtime                    string               `json:"Runtime,omitempty"`
	Role                       string               `json:"Role"`
	Handler                    string               `json:"Handler,omitempty"`
	CodeSize                   int64                `json:"CodeSize"`
	Description                string               `json:"Description"`
	Timeout                    int                  `json:"Timeout"`
	MemorySize                 int                  `json:"MemorySize"`
	LastModified               string               `json:"LastModified"`
	CodeSha256                 string               `json:"CodeSha256"`
	Version                    string               `json:"Version"`
	Environment                *EnvironmentResponse `json:"Environment,omitempty"`
	TracingConfig              TracingConfig        `json:"TracingConfig"`
	DeadLetterConfig           *DeadLetterConfig    `json:"DeadLetterConfig,omitempty"`
	RevisionID                 string               `json:"RevisionId"`
	Layers                     []Layer              `json:"Layers,omitempty"`
	State                      string               `json:"State"`
	StateReason                string               `json:"StateReason,omitempty"`
	StateReasonCode            string               `json:"StateReasonCode,omitempty"`
	LastUpdateStatus           string               `json:"LastUpdateStatus,omitempty"`
	LastUpdateStatusReason     string               `json:"LastUpdateStatusReason,omitempty"`
	LastUpdateStatusReasonCode string               `json:"LastUpdateStatusReasonCode,omitempty"`
	PackageType                string               `json:"PackageType"`
	Architectures              []string             `json:"Architectures"`
	EphemeralStorage           EphemeralStorage     `json:"EphemeralStorage"`
	LoggingConfig              *LoggingConfig       `json:"LoggingConfig,omitempty"`
	KMSKeyArn                  string               `json:"KMSKeyArn,omitempty"`
	SnapStart                  SnapStartResponse    `json:"SnapStart"`
}

// SnapStartResponse is a function's SnapStart setting as Lambda reports
// it. updraft has no SnapStart, so it is always {"ApplyOn": "None",
// "OptimizationStatus": "Off"}, which is what Lambda reports for a
// function without it (recorded: LocalStack's test_function_arns,
// create-function-arn-response).
type SnapStartResponse struct {
	ApplyOn            string `json:"ApplyOn"`
	OptimizationStatus string `json:"OptimizationStatus"`
}

// FunctionCodeLocation is the Code member of GetFunction.
type FunctionCodeLocation struct {
	RepositoryType string `json:"RepositoryType"`
	Location       string `json:"Location"`
}

// Concurrency is a function's reserved concurrency.
type Concurrency struct {
	ReservedConcurrentExecutions *int `json:"ReservedConcurrentExecutions,omitempty"`
}

// GetFunctionResponse is the body of GetFunction.
type GetFunctionResponse struct {
	Configuration FunctionConfiguration `json:"Configuration"`
	Code          FunctionCodeLocation  `json:"Code"`
	Tags          map[string]string     `json:"Tags,omitempty"`
	Concurrency   *Concurrency          `json:"Concurrency,omitempty"`
}

// ListFunctionsResponse is the body of ListFunctions.
type ListFunctionsResponse struct {
	Functions  []FunctionConfiguration `json:"Functions"`
	NextMarker string                  `json:"NextMarker,omitempty"`
}

// ListVersionsByFunctionResponse is the body of ListVersionsByFunction.
type ListVersionsByFunctionResponse struct {
	Versions   []FunctionConfiguration `json:"Versions"`
	NextMarker string                  `json:"NextMarker,omitempty"`
}

// PublishVersionRequest is the body of PublishVersion.
type PublishVersionRequest struct {
	CodeSha256  string `json:"CodeSha256"`
	Description string `json:"Description"`
	RevisionID  string `json:"RevisionId"`
}

// AliasRoutingConfiguration sends a share of an alias's traffic to a
// second version.
type AliasRoutingConfiguration struct {
	AdditionalVersionWeights map[string]float64 `json:"AdditionalVersionWeights,omitempty"`
}

// CreateAliasRequest is the body of CreateAlias.
type CreateAliasRequest struct {
	Name            string                     `json:"Name"`
	FunctionVersion string                     `json:"FunctionVersion"`
	Description     string                     `json:"Description"`
	RoutingConfig   *AliasRoutingConfiguration `json:"RoutingConfig"`
}

// UpdateAliasRequest is the body of UpdateAlias; empty members are kept.
type UpdateAliasRequest struct {
	FunctionVersion string                     `json:"FunctionVersion"`
	Description     *string                    `json:"Description"`
	RoutingConfig   *AliasRoutingConfiguration `json:"RoutingConfig"`
	RevisionID      string                     `json:"RevisionId"`
}

// AliasConfiguration is what Lambda returns for an alias.
type AliasConfiguration struct {
	AliasArn        string                     `json:"AliasArn"`
	Name            string                     `json:"Name"`
	FunctionVersion string                     `json:"FunctionVersion"`
	Description     string                     `json:"Description"`
	RevisionID      string                     `json:"RevisionId"`
	RoutingConfig   *AliasRoutingConfiguration `json:"RoutingConfig,omitempty"`
}

// ListAliasesResponse is the body of ListAliases.
type ListAliasesResponse struct {
	Aliases    []AliasConfiguration `json:"Aliases"`
	NextMarker string               `json:"NextMarker,omitempty"`
}

// PutFunctionConcurrencyRequest is the body of PutFunctionConcurrency.
type PutFunctionConcurrencyRequest struct {
	ReservedConcurrentExecutions *int `json:"ReservedConcurrentExecutions"`
}

// Asynchronous invocation configuration (PutFunctionEventInvokeConfig and
// its siblings, API version 2019-09-25).
type (
	// EventDestination is the OnSuccess or OnFailure member of a
	// DestinationConfig: a destination ARN (or, on updraft, a webhook URL).
	EventDestination struct {
		Destination string `json:"Destination,omitempty"`
	}

	// DestinationConfig names where the record of an asynchronous
	// invocation goes. In a request a nil member is left out; in a
	// response both members are always present, {} when unset, as Lambda
	// sends them.
	DestinationConfig struct {
		OnSuccess *EventDestination `json:"OnSuccess,omitempty"`
		OnFailure *EventDestination `json:"OnFailure,omitempty"`
	}

	// EventInvokeConfigRequest is the body of PutFunctionEventInvokeConfig
	// and UpdateFunctionEventInvokeConfig; nil members are not given.
	EventInvokeConfigRequest struct {
		MaximumRetryAttempts     *int               `json:"MaximumRetryAttempts"`
		MaximumEventAgeInSeconds *int               `json:"MaximumEventAgeInSeconds"`
		DestinationConfig        *DestinationConfig `json:"DestinationConfig"`
	}

	// FunctionEventInvokeConfig is what Lambda returns for one qualifier's
	// asynchronous invocation configuration. LastModified is in epoch
	// seconds (a JSON number, as the SDKs parse it); FunctionArn is always
	// qualified ($LATEST, a version or an alias).
	FunctionEventInvokeConfig struct {
		LastModified             float64           `json:"LastModified"`
		FunctionArn              string            `json:"FunctionArn"`
		MaximumRetryAttempts     *int              `json:"MaximumRetryAttempts,omitempty"`
		MaximumEventAgeInSeconds *int              `json:"MaximumEventAgeInSeconds,omitempty"`
		DestinationConfig        DestinationConfig `json:"DestinationConfig"`
	}

	// ListFunctionEventInvokeConfigsResponse is the body of
	// ListFunctionEventInvokeConfigs.
	ListFunctionEventInvokeConfigsResponse struct {
		FunctionEventInvokeConfigs []FunctionEventInvokeConfig `json:"FunctionEventInvokeConfigs"`
		NextMarker                 string                      `json:"NextMarker,omitempty"`
	}
)

// Layers (PublishLayerVersion and its siblings, API version 2018-10-31).
type (
	// LayerVersionContentInput is the Content member of
	// PublishLayerVersion; updraft takes only ZipFile.
	LayerVersionContentInput struct {
		ZipFile         []byte `json:"ZipFile,omitempty"`
		S3Bucket        string `json:"S3Bucket,omitempty"`
		S3Key           string `json:"S3Key,omitempty"`
		S3ObjectVersion string `json:"S3ObjectVersion,omitempty"`
	}

	// PublishLayerVersionRequest is the body of PublishLayerVersion.
	PublishLayerVersionRequest struct {
		Content                 *LayerVersionContentInput `json:"Content"`
		Description             string                    `json:"Description"`
		CompatibleRuntimes      []string                  `json:"CompatibleRuntimes"`
		CompatibleArchitectures []string                  `json:"CompatibleArchitectures"`
		LicenseInfo             string                    `json:"LicenseInfo"`
	}

	// LayerVersionContentOutput is where a layer version's zip is and
	// what it is: Location serves the zip, CodeSha256 is base64.
	LayerVersionContentOutput struct {
		Location   string `json:"Location"`
		CodeSha256 string `json:"CodeSha256"`
		CodeSize   int64  `json:"CodeSize"`
	}

	// LayerVersion is the body of PublishLayerVersion (201),
	// GetLayerVersion and GetLayerVersionByArn. CreatedDate has
	// LastModified's format.
	LayerVersion struct {
		Content                 *LayerVersionContentOutput `json:"Content"`
		LayerArn                string                     `json:"LayerArn"`
		LayerVersionArn         string                     `json:"LayerVersionArn"`
		Description             string                     `json:"Description"`
		CreatedDate             string                     `json:"CreatedDate"`
		Version                 int64                      `json:"Version"`
		CompatibleRuntimes      []string                   `json:"CompatibleRuntimes,omitempty"`
		CompatibleArchitectures []string                   `json:"CompatibleArchitectures,omitempty"`
		LicenseInfo             string                     `json:"LicenseInfo,omitempty"`
	}

	// LayerVersionsListItem is one version in ListLayerVersions and the
	// LatestMatchingVersion of ListLayers.
	LayerVersionsListItem struct {
		LayerVersionArn         string   `json:"LayerVersionArn"`
		Version                 int64    `json:"Version"`
		Description             string   `json:"Description"`
		CreatedDate             string   `json:"CreatedDate"`
		CompatibleRuntimes      []string `json:"CompatibleRuntimes,omitempty"`
		CompatibleArchitectures []string `json:"CompatibleArchitectures,omitempty"`
		LicenseInfo             string   `json:"LicenseInfo,omitempty"`
	}

	// LayersListItem is one layer in ListLayers.
	LayersListItem struct {
		LayerName             string                 `json:"LayerName"`
		LayerArn              string                 `json:"LayerArn"`
		LatestMatchingVersion *LayerVersionsListItem `json:"LatestMatchingVersion"`
	}

	// ListLayersResponse is the body of ListLayers.
	ListLayersResponse struct {
		Layers     []LayersListItem `json:"Layers"`
		NextMarker string           `json:"NextMarker,omitempty"`
	}

	// ListLayerVersionsResponse is the body of ListLayerVersions.
	ListLayerVersionsResponse struct {
		LayerVersions []LayerVersionsListItem `json:"LayerVersions"`
		NextMarker    string                  `json:"NextMarker,omitempty"`
	}
)
