package kinesis

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/updraft/updraft/internal/store"
	"github.com/updraft/updraft/internal/stream"
)

// Kinesis's JSON protocol (Kinesis Data Streams API reference): every
// operation is a POST to "/" naming itself in X-Amz-Target, with
// application/x-amz-json-1.1 bodies both ways; errors are
// {"__type":"<Exception>","message":"..."}.
const (
	kinesisTargetPrefix = "Kinesis_20131202."
	contentTypeAmzJSON  = "application/x-amz-json-1.1"
	// maxKinesisBody bounds a request: 500 records of PutRecords at
	// Kinesis's 5 MiB per request, in base64, and the JSON around them.
	maxKinesisBody = 8 << 20
	// maxListShards is ListShards' largest MaxResults.
	maxListShards = 10000
	// onDemandShards is how many shards CreateStream without a
	// ShardCount makes: an on-demand stream starts with four.
	onDemandShards = 4
)

// Streams is the built-in stream store (internal/stream); see
// stream.Service for the semantics of each method.
type Streams interface {
	Create(ctx context.Context, name string, shards int) error
	Delete(ctx context.Context, name string) error
	Describe(ctx context.Context, name string) (*stream.Info, error)
	Put(ctx context.Context, name string, recs []stream.Record) ([]stream.PutResult, error)
	ReadShard(ctx context.Context, name string, shard int, from uint64, at time.Time, limit int) ([]stream.StoredRecord, uint64, error)
	ShardEnd(ctx context.Context, name string, shard int) (uint64, time.Time, error)
	LastSequence(ctx context.Context, name string) (uint64, error)
	List(ctx context.Context) ([]string, error)
	Consumers(ctx context.Context, name string) ([]stream.Consumer, error)
	RegisterConsumer(ctx context.Context, name, consumer string) (stream.Consumer, error)
	DeregisterConsumer(ctx context.Context, name, consumer string) error
	ARN(name string) string
	Account() string
}

// kinesisError is an error in Kinesis's shape.
type kinesisError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
	status  int
}

func (e *kinesisError) Error() string { return e.Type + ": " + e.Message }

func kinErr(typ, format string, args ...any) *kinesisError {
	return &kinesisError{Type: typ, Message: fmt.Sprintf(format, args...), status: http.StatusBadRequest}
}

// Kinesis request shapes. Data members are blobs: base64 in JSON, which
// []byte decodes. Every client, the aws CLI v1 and v2 included, sends the
// bytes base64-encoded once (v1 encodes the --data text; v2 decodes
// --data from base64 first unless cli_binary_format is raw-in-base64-out,
// then encodes it again).
type (
	kinesisStreamRef struct {
		StreamName string `json:"StreamName,omitempty"`
		StreamARN  string `json:"StreamARN,omitempty"`
	}
	createStreamInput struct {
		StreamName        string `json:"StreamName"`
		ShardCount        *int   `json:"ShardCount,omitempty"`
		StreamModeDetails *struct {
			StreamMode string `json:"StreamMode"`
		} `json:"StreamModeDetails,omitempty"`
	}
	putRecordInput struct {
		kinesisStreamRef
		Data                      []byte  `json:"Data"`
		PartitionKey              *string `json:"PartitionKey"`
		ExplicitHashKey           string  `json:"ExplicitHashKey,omitempty"`
		SequenceNumberForOrdering string  `json:"SequenceNumberForOrdering,omitempty"`
	}
	putRecordsEntry struct {
		Data            []byte  `json:"Data"`
		PartitionKey    *string `json:"PartitionKey"`
		ExplicitHashKey string  `json:"ExplicitHashKey,omitempty"`
	}
	putRecordsInput struct {
		kinesisStreamRef
		Records []putRecordsEntry `json:"Records"`
	}
	listShardsInput struct {
		kinesisStreamRef
		NextToken             string `json:"NextToken,omitempty"`
		ExclusiveStartShardID string `json:"ExclusiveStartShardId,omitempty"`
		MaxResults            *int   `json:"MaxResults,omitempty"`
	}
)

// Kinesis response shapes.
type (
	putRecordOutput struct {
		ShardID        string `json:"ShardId"`
		SequenceNumber string `json:"SequenceNumber"`
	}
	putRecordsOutput struct {
		FailedRecordCount int               `json:"FailedRecordCount"`
		Records           []putRecordOutput `json:"Records"`
	}
	streamSummary struct {
		StreamName        string `json:"StreamName"`
		StreamARN         string `json:"StreamARN"`
		StreamStatus      string `json:"StreamStatus"`
		StreamModeDetails struct {
			StreamMode string `json:"StreamMode"`
		} `json:"StreamModeDetails"`
		RetentionPeriodHours    int     `json:"RetentionPeriodHours"`
		StreamCreationTimestamp float64 `json:"StreamCreationTimestamp"`
		EnhancedMonitoring      []struct {
			ShardLevelMetrics []string `json:"ShardLevelMetrics"`
		} `json:"EnhancedMonitoring"`
		EncryptionType string `json:"EncryptionType"`
		OpenShardCount int    `json:"OpenShardCount"`
		ConsumerCount  int    `json:"ConsumerCount"`
	}
	kinesisShard struct {
		ShardID      string `json:"ShardId"`
		HashKeyRange struct {
			StartingHashKey string `json:"StartingHashKey"`
			EndingHashKey   string `json:"EndingHashKey"`
		} `json:"HashKeyRange"`
		SequenceNumberRange struct {
			StartingSequenceNumber string `json:"StartingSequenceNumber"`
		} `json:"SequenceNumberRange"`
	}
	listShardsOutput struct {
		Shards    []kinesisShard `json:"Shards"`
		NextToken string         `json:"NextToken,omitempty"`
	}
)

// kinesisOps maps each operation to a new value of its input shape.
var kinesisOps = map[string]func() any{
	"CreateStream":             func() any { return new(createStreamInput) },
	"DeleteStream":             func() any { return new(kinesisStreamRef) },
	"DescribeStreamSummary":    func() any { return new(kinesisStreamRef) },
	"ListShards":               func() any { return new(listShardsInput) },
	"PutRecord":                func() any { return new(putRecordInput) },
	"PutRecords":               func() any { return new(putRecordsInput) },
	"GetShardIterator":         func() any { return new(getShardIteratorInput) },
	"GetRecords":               func() any { return new(getRecordsInput) },
	"ListStreams":              func() any { return new(listStreamsInput) },
	"DescribeStream":           func() any { return new(describeStreamInput) },
	"RegisterStreamConsumer":   func() any { return new(consumerRef) },
	"DescribeStreamConsumer":   func() any { return new(consumerRef) },
	"DeregisterStreamConsumer": func() any { return new(consumerRef) },
	"ListStreamConsumers":      func() any { return new(listConsumersInput) },
	"SubscribeToShard":         func() any { return new(subscribeInput) },
}

// decodeKinesis reads the operation named by target and its body: the
// input shape of that operation, or a Kinesis error. The body is the
// client's: any bytes are safe.
func decodeKinesis(target string, body []byte) (string, any, *kinesisError) {
	op, ok := strings.CutPrefix(target, kinesisTargetPrefix)
	newIn, known := kinesisOps[op]
	if !ok || !known {
		return "", nil, kinErr("UnknownOperationException", "Operation %q is not supported by updraft's built-in streams.", sanitize(op))
	}
	in := newIn()
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, in); err != nil {
		return "", nil, kinErr("SerializationException", "Could not parse the request body: %s", sanitize(err.Error()))
	}
	return op, in, nil
}

// IsKinesis reports whether r is a Kinesis API request.
func IsKinesis(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), kinesisTargetPrefix)
}

// ServeHTTP serves POST / with a Kinesis X-Amz-Target.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out, err := h.kinesisOp(r)
	if err != nil {
		var ke *kinesisError
		if errors.Is(err, store.ErrUnavailable) {
			ke = &kinesisError{Type: "InternalFailure", Message: "The service cannot store data right now. Retry later.", status: http.StatusInternalServerError}
		} else if !errors.As(err, &ke) {
			h.cfg.Logger.Error("kinesis: internal error", "target", r.Header.Get("X-Amz-Target"), "err", err)
			ke = &kinesisError{Type: "InternalFailure", Message: "An internal error occurred.", status: http.StatusInternalServerError}
		}
		writeAmzJSON(w, ke.status, ke)
		return
	}
	if sub, ok := out.(*subscription); ok {
		sub.run(h, w, r)
		return
	}
	writeAmzJSON(w, http.StatusOK, out)
}

func writeAmzJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"__type":"InternalFailure","message":"response encoding failed"}`)
	}
	if v == nil {
		b = nil
	}
	w.Header().Set("Content-Type", contentTypeAmzJSON)
	w.Header().Set("X-Amzn-RequestId", uuid.NewString())
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// kinesisOp runs one operation and returns its output (nil for none).
func (h *Handler) kinesisOp(r *http.Request) (any, error) {
	svc := h.cfg.Streams
	if svc == nil {
		return nil, &kinesisError{Type: "ServiceUnavailable", Message: "Built-in streams are not available on this server.", status: http.StatusServiceUnavailable}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxKinesisBody+1))
	if err != nil {
		return nil, kinErr("SerializationException", "Could not read the request body.")
	}
	if len(body) > maxKinesisBody {
		return nil, &kinesisError{Type: "ValidationException", Message: fmt.Sprintf("Request must be smaller than %d bytes.", maxKinesisBody), status: http.StatusRequestEntityTooLarge}
	}
	op, in, kerr := decodeKinesis(r.Header.Get("X-Amz-Target"), body)
	if kerr != nil {
		return nil, kerr
	}
	if h.cfg.Authorize != nil {
		if err := h.cfg.Authorize(r, "kinesis:"+op, h.kinesisResource(in)); err != nil {
			return nil, &kinesisError{Type: "AccessDeniedException", Message: err.Error(), status: http.StatusBadRequest}
		}
	}
	ctx := r.Context()
	switch op {
	case "CreateStream":
		req := in.(*createStreamInput)
		// Without a ShardCount, Kinesis makes an on-demand stream, which
		// starts with four shards (recorded: LocalStack's
		// test_create_stream_without_shard_count).
		shards := onDemandShards
		if req.ShardCount != nil {
			if shards = *req.ShardCount; shards < 1 {
				return nil, kinErr("ValidationException", "1 validation error detected: Value '%d' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1", shards)
			}
		}
		if err := svc.Create(ctx, req.StreamName, shards); err != nil {
			return nil, h.streamError(req.StreamName, err)
		}
		return nil, nil
	case "DeleteStream":
		name, err := h.streamName(in.(*kinesisStreamRef))
		if err != nil {
			return nil, err
		}
		if err := svc.Delete(ctx, name); err != nil {
			return nil, h.streamError(name, err)
		}
		return nil, nil
	case "DescribeStreamSummary":
		name, err := h.streamName(in.(*kinesisStreamRef))
		if err != nil {
			return nil, err
		}
		info, err := svc.Describe(ctx, name)
		if err != nil {
			return nil, h.streamError(name, err)
		}
		sum := streamSummary{StreamName: info.Name, StreamARN: info.ARN, StreamStatus: "ACTIVE", RetentionPeriodHours: int(stream.Retention / time.Hour),
			StreamCreationTimestamp: float64(info.Created.UnixMilli()) / 1000, EncryptionType: "NONE", OpenShardCount: len(info.Shards)}
		sum.StreamModeDetails.StreamMode = "PROVISIONED"
		sum.EnhancedMonitoring = make([]struct {
			ShardLevelMetrics []string `json:"ShardLevelMetrics"`
		}, 1)
		sum.EnhancedMonitoring[0].ShardLevelMetrics = []string{}
		return map[string]any{"StreamDescriptionSummary": sum}, nil
	case "ListShards":
		return h.listShards(ctx, in.(*listShardsInput))
	case "GetShardIterator":
		return h.getShardIterator(ctx, in.(*getShardIteratorInput))
	case "GetRecords":
		return h.getRecords(ctx, in.(*getRecordsInput))
	case "ListStreams":
		return h.listStreams(ctx, in.(*listStreamsInput))
	case "DescribeStream":
		return h.describeStream(ctx, in.(*describeStreamInput))
	case "RegisterStreamConsumer":
		return h.registerConsumer(ctx, in.(*consumerRef))
	case "DescribeStreamConsumer":
		return h.describeConsumer(ctx, in.(*consumerRef))
	case "DeregisterStreamConsumer":
		return h.deregisterConsumer(ctx, in.(*consumerRef))
	case "ListStreamConsumers":
		return h.listConsumers(ctx, in.(*listConsumersInput))
	case "SubscribeToShard":
		return h.subscribeToShard(ctx, in.(*subscribeInput))
	case "PutRecord":
		req := in.(*putRecordInput)
		name, err := h.streamName(&req.kinesisStreamRef)
		if err != nil {
			return nil, err
		}
		if req.PartitionKey == nil {
			return nil, kinErr("ValidationException", "1 validation error detected: Value null at 'partitionKey' failed to satisfy constraint: Member must not be null")
		}
		res, err := svc.Put(ctx, name, []stream.Record{{PartitionKey: *req.PartitionKey, ExplicitHashKey: req.ExplicitHashKey, Data: req.Data}})
		if err != nil {
			return nil, h.streamError(name, err)
		}
		return putRecordOutput{ShardID: res[0].ShardID, SequenceNumber: res[0].SequenceNumber}, nil
	case "PutRecords":
		req := in.(*putRecordsInput)
		name, err := h.streamName(&req.kinesisStreamRef)
		if err != nil {
			return nil, err
		}
		recs := make([]stream.Record, len(req.Records))
		for i, e := range req.Records {
			if e.PartitionKey == nil {
				return nil, kinErr("ValidationException", "1 validation error detected: Value null at 'records.%d.member.partitionKey' failed to satisfy constraint: Member must not be null", i+1)
			}
			recs[i] = stream.Record{PartitionKey: *e.PartitionKey, ExplicitHashKey: e.ExplicitHashKey, Data: e.Data}
		}
		res, err := svc.Put(ctx, name, recs)
		if err != nil && len(res) == 0 {
			return nil, h.streamError(name, err)
		}
		out := putRecordsOutput{Records: make([]putRecordOutput, 0, len(recs))}
		for _, p := range res {
			out.Records = append(out.Records, putRecordOutput{ShardID: p.ShardID, SequenceNumber: p.SequenceNumber})
		}
		if err != nil {
			// Stored in order, so the rest failed: Kinesis's per-record
			// failure with FailedRecordCount.
			h.cfg.Logger.Warn("kinesis: PutRecords stored part of the records", "stream", name, "stored", len(res), "of", len(recs), "err", err)
			for range recs[len(res):] {
				out.Records = append(out.Records, putRecordOutput{})
				out.FailedRecordCount++
			}
			return putRecordsFailed(out), nil
		}
		return out, nil
	}
	return nil, kinErr("UnknownOperationException", "Operation %q is not supported.", op)
}

// putRecordsFailed marks the records without a sequence number as failed
// with Kinesis's InternalFailure.
func putRecordsFailed(out putRecordsOutput) any {
	type failed struct {
		ShardID        string `json:"ShardId,omitempty"`
		SequenceNumber string `json:"SequenceNumber,omitempty"`
		ErrorCode      string `json:"ErrorCode,omitempty"`
		ErrorMessage   string `json:"ErrorMessage,omitempty"`
	}
	recs := make([]failed, len(out.Records))
	for i, r := range out.Records {
		recs[i] = failed{ShardID: r.ShardID, SequenceNumber: r.SequenceNumber}
		if r.SequenceNumber == "" {
			recs[i].ErrorCode, recs[i].ErrorMessage = "InternalFailure", "Internal service failure."
		}
	}
	return map[string]any{"FailedRecordCount": out.FailedRecordCount, "Records": recs}
}

// listShards is ListShards. NextToken is opaque: base64 of the stream
// name and the last shard returned.
func (h *Handler) listShards(ctx context.Context, req *listShardsInput) (any, error) {
	after := req.ExclusiveStartShardID
	var name string
	if req.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(req.NextToken)
		n, last, ok := strings.Cut(string(b), "\n")
		if err != nil || !ok {
			return nil, kinErr("InvalidArgumentException", "NextToken is invalid.")
		}
		name, after = n, last
	} else {
		var err error
		if name, err = h.streamName(&req.kinesisStreamRef); err != nil {
			return nil, err
		}
	}
	limit := maxListShards
	if req.MaxResults != nil {
		if limit = *req.MaxResults; limit < 1 || limit > maxListShards {
			return nil, kinErr("ValidationException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", limit, maxListShards)
		}
	}
	info, err := h.cfg.Streams.Describe(ctx, name)
	if err != nil {
		return nil, h.streamError(name, err)
	}
	out := listShardsOutput{Shards: []kinesisShard{}}
	for _, sh := range info.Shards {
		if after != "" && sh.ID <= after {
			continue
		}
		if len(out.Shards) == limit {
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(name + "\n" + out.Shards[limit-1].ShardID))
			break
		}
		var ks kinesisShard
		ks.ShardID = sh.ID
		ks.HashKeyRange.StartingHashKey, ks.HashKeyRange.EndingHashKey = sh.StartingHashKey, sh.EndingHashKey
		ks.SequenceNumberRange.StartingSequenceNumber = sh.StartingSequenceNumber
		out.Shards = append(out.Shards, ks)
	}
	return out, nil
}

// streamName is the stream a request names, by StreamName or by a
// StreamARN of this server's account.
func (h *Handler) streamName(ref *kinesisStreamRef) (string, error) {
	if ref.StreamARN != "" {
		_, account, name, err := stream.ParseARN(ref.StreamARN)
		if err != nil {
			return "", kinErr("InvalidArgumentException", "%s", errMessage(err))
		}
		if account != h.cfg.Streams.Account() || h.cfg.Streams.ARN(name) != ref.StreamARN {
			return "", kinErr("ResourceNotFoundException", "Stream %s under account %s not found.", name, account)
		}
		if ref.StreamName != "" && ref.StreamName != name {
			return "", kinErr("InvalidArgumentException", "StreamName %s and StreamARN %s name different streams.", sanitize(ref.StreamName), sanitize(ref.StreamARN))
		}
		return name, nil
	}
	if ref.StreamName == "" {
		return "", kinErr("InvalidArgumentException", "Either StreamName or StreamARN should be provided.")
	}
	return ref.StreamName, nil
}

// streamError turns the stream service's errors into Kinesis's.
func (h *Handler) streamError(name string, err error) error {
	var ve *stream.ValidationError
	switch {
	case errors.As(err, &ve):
		return kinErr("InvalidArgumentException", "%s", ve.Message)
	case errors.Is(err, stream.ErrNotFound):
		return kinErr("ResourceNotFoundException", "Stream %s under account %s not found.", name, h.cfg.Streams.Account())
	case errors.Is(err, stream.ErrInUse):
		return kinErr("ResourceInUseException", "Stream %s under account %s already exists.", name, h.cfg.Streams.Account())
	default:
		return fmt.Errorf("api: stream %s: %w", name, err)
	}
}

// errMessage is a validation error's client message.
func errMessage(err error) string {
	var ve *stream.ValidationError
	if errors.As(err, &ve) {
		return ve.Message
	}
	return "invalid request"
}

// streamRef is what every input naming one stream has.
func (ref *kinesisStreamRef) streamRef() *kinesisStreamRef { return ref }

// kinesisResource is the stream ARN an operation acts on, "*" when it
// names none.
func (h *Handler) kinesisResource(in any) string {
	name := ""
	switch v := in.(type) {
	case *createStreamInput:
		name = v.StreamName
	case *getRecordsInput:
		if it, ok := decodeIterator(v.ShardIterator); ok {
			name = it.Stream
		}
	case *consumerRef:
		if v.ConsumerARN != "" {
			return v.ConsumerARN
		}
		if v.StreamARN != "" {
			return v.StreamARN
		}
	case *listConsumersInput:
		if v.StreamARN != "" {
			return v.StreamARN
		}
	case *subscribeInput:
		if v.ConsumerARN != "" {
			return v.ConsumerARN
		}
	case interface{ streamRef() *kinesisStreamRef }:
		ref := v.streamRef()
		if ref.StreamARN != "" {
			return ref.StreamARN
		}
		name = ref.StreamName
	}
	if name == "" {
		return "*"
	}
	return "arn:aws:kinesis:" + h.cfg.Region + ":" + h.cfg.AccountID + ":stream/" + name
}

// Config configures a Handler.
type Config struct {
	// Streams is the stream store; nil answers every call
	// ServiceUnavailable.
	Streams Streams
	// Region and AccountID name streams in ARNs.
	Region, AccountID string
	// Authorize checks the caller of r for an IAM action
	// ("kinesis:GetRecords") on a resource (a stream ARN or "*"); nil
	// allows everything. A non-nil error is answered as
	// AccessDeniedException with its text.
	Authorize func(r *http.Request, action, resource string) error
	// Logger gets internal errors.
	Logger *slog.Logger
}

// Handler serves Kinesis's JSON protocol.
type Handler struct {
	cfg Config
}

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Logger = cfg.Logger.With("component", "kinesis")
	return &Handler{cfg: cfg}
}

// sanitize keeps parser messages short.
func sanitize(s string) string {
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
