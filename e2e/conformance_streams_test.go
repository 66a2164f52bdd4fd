package e2e

import (
	"crypto/md5"
	"encoding/hex"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// confESM holds the UUID of the stream mapping the first ESM scenario
// makes, for the ones after it.
var confESM struct{ uuid string }

// esmScenarios: Create/Get/Update/Delete/ListEventSourceMappings.
func esmScenarios() []scenario {
	const ex = "TestLambdaEventSourceMappings::test_event_source_mapping_exceptions "
	const kv = "TestLambdaEventSourceMappings::test_create_event_source_validation_kinesis "
	const noResource = "The resource you requested does not exist."
	streamARN := "arn:aws:kinesis:us-east-1:000000000000:stream/" + confStream
	queueARN := "arn:aws:sqs:us-east-1:000000000000:somequeue"
	const unknownUUID = "e2ba1d3c-6a1f-4e4e-9d0b-9c3c6ad3e2a1"
	createStream := func(mod func(in *lambda.CreateEventSourceMappingInput)) func(e *confEnv) outcome {
		return func(e *confEnv) outcome {
			in := &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(confFn), EventSourceArn: aws.String(streamARN),
				StartingPosition: types.EventSourcePositionLatest}
			if mod != nil {
				mod(in)
			}
			return e.sdk(e.l.CreateEventSourceMapping(e.ctx, in))
		}
	}
	return []scenario{
		{name: "esm/create/kinesis_defaults", source: srcESMKinesis + "test_create_kinesis_event_source_mapping (create_event_source_mapping_response)",
			run: func(e *confEnv) outcome {
				o := createStream(func(in *lambda.CreateEventSourceMappingInput) { in.FunctionName = aws.String(confDest) })(e)
				if id, ok := o.Body["UUID"].(string); ok {
					confESM.uuid = id
				}
				return o
			},
			want: want{Status: 202, Fields: map[string]any{"BatchSize": 100, "BisectBatchOnFunctionError": false, "DestinationConfig.OnFailure": map[string]any{},
				"EventSourceArn":        "arn:<partition>:kinesis:<region>:111111111111:stream/" + confStream,
				"EventSourceMappingArn": "arn:<partition>:lambda:<region>:111111111111:event-source-mapping:<uuid>",
				"FunctionArn":           "arn:<partition>:lambda:<region>:111111111111:function:" + confDest, "FunctionResponseTypes": []any{},
				"MaximumBatchingWindowInSeconds": 0, "MaximumRecordAgeInSeconds": -1, "MaximumRetryAttempts": -1, "ParallelizationFactor": 1,
				"StartingPosition": "LATEST", "State": "Creating", "StateTransitionReason": "User action", "TumblingWindowInSeconds": 0, "UUID": "<uuid>"}}},
		{name: "esm/get/kinesis", source: srcAPI + "TestLambdaEventSourceMappings::test_event_source_mapping_lifecycle (get_response)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetEventSourceMapping(e.ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(confESM.uuid)}))
			},
			want: want{Status: 200, Fields: map[string]any{"EventSourceMappingArn": "arn:<partition>:lambda:<region>:111111111111:event-source-mapping:<uuid>",
				"StateTransitionReason": "User action", "DestinationConfig.OnFailure": map[string]any{}, "BisectBatchOnFunctionError": false}}},
		{name: "esm/create/function_missing", source: srcAPI + ex + "(create_unknown_params)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.CreateEventSourceMapping(e.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("doesnotexist"), EventSourceArn: aws.String(queueARN)}))
			},
			want: ipv(400, "Function does not exist")},
		{name: "esm/create/no_event_source", source: srcAPI + ex + "(create_no_event_source_arn)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.CreateEventSourceMapping(e.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("doesnotexist")}))
			},
			want: ipv(400, "Unrecognized event source.")},
		{name: "esm/create/queue_destination", source: srcAPI + ex + "(destination_config_failure)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.CreateEventSourceMapping(e.ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("doesnotexist"), EventSourceArn: aws.String(queueARN),
					DestinationConfig: &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String("arn:aws:sqs:us-east-1:000000000000:someotherqueue")}}}))
			},
			want: ipv(400, "Unsupported DestinationConfig parameter for given event source mapping type.")},
		{name: "esm/create/no_starting_position", source: srcAPI + kv + "(no_starting_position)",
			run:  createStream(func(in *lambda.CreateEventSourceMappingInput) { in.StartingPosition = "" }),
			want: ipv(400, "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.")},
		{name: "esm/create/invalid_starting_position", source: srcAPI + kv + "(invalid_starting_position)",
			run:  createStream(func(in *lambda.CreateEventSourceMappingInput) { in.StartingPosition = "invalid" }),
			want: validation("1 validation error detected: Value 'invalid' at 'startingPosition' failed to satisfy constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]")},
		{name: "esm/get/unknown", source: srcAPI + ex + "(get_unknown_uuid)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.GetEventSourceMapping(e.ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(unknownUUID)}))
			},
			want: notFound(noResource)},
		{name: "esm/update/unknown", source: srcAPI + ex + "(update_unknown_uuid)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.UpdateEventSourceMapping(e.ctx, &lambda.UpdateEventSourceMappingInput{UUID: aws.String(unknownUUID), Enabled: aws.Bool(false)}))
			},
			want: notFound(noResource)},
		{name: "esm/delete/unknown", source: srcAPI + ex + "(delete_unknown_uuid)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.DeleteEventSourceMapping(e.ctx, &lambda.DeleteEventSourceMappingInput{UUID: aws.String(unknownUUID)}))
			},
			want: notFound(noResource)},
		{name: "esm/list/function_missing", source: srcAPI + ex + "(list_event_source_mappings for a missing function succeeds)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.ListEventSourceMappings(e.ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String("doesnotexist")}))
			},
			want: want{Status: 200}},
		{name: "esm/delete/kinesis", source: srcAPI + "TestLambdaEventSourceMappings::test_event_source_mapping_lifecycle (delete_response: State Deleting)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.l.DeleteEventSourceMapping(e.ctx, &lambda.DeleteEventSourceMappingInput{UUID: aws.String(confESM.uuid)}))
			},
			want: want{Status: 202, Fields: map[string]any{"State": "Deleting", "StateTransitionReason": "User action", "UUID": "<uuid>"}}},
	}
}

// kinesisNotFound is Kinesis's ResourceNotFoundException: status 400,
// like every Kinesis error (recorded: test_cbor_exceptions asserts it).
func kinesisNotFound(msg string) want {
	return want{Status: 400, Code: "ResourceNotFoundException", Msg: msg}
}

// kinesisScenarios: the Kinesis API on built-in streams.
func kinesisScenarios() []scenario {
	return []scenario{
		{name: "kinesis/describe_summary/missing", source: srcKinesis + "test_cbor_exceptions (cbor-error; the test asserts status 400, Kinesis's status for every error)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.k.DescribeStreamSummary(e.ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("wrong-stream-name")}))
			},
			want: kinesisNotFound("Stream wrong-stream-name under account 111111111111 not found.")},
		{name: "kinesis/put_record/missing", source: srcKinesis + "test_cbor_exceptions (same error for every operation on a missing stream, status 400)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.k.PutRecord(e.ctx, &kinesis.PutRecordInput{StreamName: aws.String("wrong-stream-name"), PartitionKey: aws.String("1"), Data: []byte("x")}))
			},
			want: kinesisNotFound("Stream wrong-stream-name under account 111111111111 not found.")},
		{name: "kinesis/create/on_demand_shards", source: srcKinesis + "test_create_stream_without_shard_count (four shards)",
			run: func(e *confEnv) outcome {
				must(e.t, "create", e.sdk(e.k.CreateStream(e.ctx, &kinesis.CreateStreamInput{StreamName: aws.String("conf-ondemand")})))
				return e.sdk(e.k.ListShards(e.ctx, &kinesis.ListShardsInput{StreamName: aws.String("conf-ondemand")}))
			},
			want: want{Status: 200, Fields: map[string]any{"Shards.3.ShardId": "shardId-000000000003", "Shards.4": absent{}}}},
		{name: "kinesis/describe_summary/ok", source: srcKinesisModel + "StreamDescriptionSummary (StreamARN arn:aws:kinesis:REGION:ACCOUNT:stream/NAME, OpenShardCount)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.k.DescribeStreamSummary(e.ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(confStream)}))
			},
			want: want{Status: 200, Fields: map[string]any{"StreamDescriptionSummary.StreamName": confStream, "StreamDescriptionSummary.OpenShardCount": 1,
				"StreamDescriptionSummary.StreamARN": "arn:<partition>:kinesis:<region>:111111111111:stream/" + confStream, "StreamDescriptionSummary.StreamStatus": "ACTIVE"}}},
		{name: "kinesis/put_record/ok", source: srcKinesisModel + "PutRecordOutput (ShardId, SequenceNumber required)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.k.PutRecord(e.ctx, &kinesis.PutRecordInput{StreamName: aws.String(confStream), PartitionKey: aws.String("1"), Data: []byte("x")}))
			},
			want: want{Status: 200, Fields: map[string]any{"ShardId": "shardId-000000000000", "SequenceNumber": present{}}}},
		{name: "kinesis/put_records/ok", source: srcKinesisModel + "PutRecordsOutput (FailedRecordCount, Records[].ShardId)",
			run: func(e *confEnv) outcome {
				return e.sdk(e.k.PutRecords(e.ctx, &kinesis.PutRecordsInput{StreamName: aws.String(confStream), Records: []kinesistypes.PutRecordsRequestEntry{{PartitionKey: aws.String("1"), Data: []byte("a")}, {PartitionKey: aws.String("2"), Data: []byte("b")}}}))
			},
			want: want{Status: 200, Fields: map[string]any{"FailedRecordCount": 0, "Records.1.ShardId": "shardId-000000000000"}}},
	}
}

// queueScenarios: updraft's queue API, whose bodies are SQS's JSON
// protocol shapes (SendMessage, ReceiveMessage).
func queueScenarios() []scenario {
	sum := md5.Sum([]byte("hello"))
	md5Hello := hex.EncodeToString(sum[:])
	const sqsDoc = srcDoc + "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/"
	return []scenario{
		{name: "queue/send/md5", source: sqsDoc + "API_SendMessage.html (MD5OfMessageBody: an MD5 digest of the non-URL-encoded message body)",
			run: func(e *confEnv) outcome {
				return e.raw("lambda", http.MethodPost, "/updraft/v1/queues/"+confQueue+"/messages", jsonBody(map[string]any{"MessageBody": "hello"}), nil)
			},
			want: want{Status: 200, Fields: map[string]any{"MD5OfMessageBody": md5Hello, "MessageId": "<uuid>"}}},
		{name: "queue/receive/message", source: sqsDoc + "API_ReceiveMessage.html and API_Message.html (Body, MD5OfBody, Attributes.ApproximateReceiveCount)",
			run: func(e *confEnv) outcome {
				return e.raw("lambda", http.MethodPost, "/updraft/v1/queues/"+confQueue+"/receive?max=1&wait=5", nil, nil)
			},
			want: want{Status: 200, Fields: map[string]any{"Messages.0.Body": "hello", "Messages.0.MD5OfBody": md5Hello, "Messages.0.MessageId": "<uuid>",
				"Messages.0.Attributes.ApproximateReceiveCount": "1", "Messages.0.Attributes.SentTimestamp": present{}}}},
	}
}
