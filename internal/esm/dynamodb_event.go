package esm

import (
	"encoding/json"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/updraft/updraft/internal/dynamodb"
	"github.com/updraft/updraft/internal/stream"
)

// buildStreamEvent is the event of a stream mapping: DynamoDB's for a
// table stream, Kinesis's for a built-in stream.
func (s source) buildStreamEvent(ds []*stream.Delivered, role string, limit int) ([]byte, int, error) {
	if strings.HasPrefix(s.arn, "arn:aws:dynamodb:") {
		return s.buildDynamoDBEvent(ds, limit)
	}
	return s.buildKinesisEvent(ds, role, limit)
}

// dynamodbRecord turns one stored stream record (package dynamodb's, in
// the Streams API's shape) into a Lambda DynamoDB event record
// ("Using AWS Lambda with Amazon DynamoDB"): the same fields plus
// eventSourceARN and the record's sequence number.
func (s source) dynamodbRecord(d *stream.Delivered) events.DynamoDBEventRecord {
	var r events.DynamoDBEventRecord
	_ = json.Unmarshal(d.Data, &r) // written by package dynamodb; a bad one is delivered empty rather than stall the shard
	r.EventSourceArn = s.arn
	r.Change.SequenceNumber = dynamodb.DynamoDBSequence(d.SequenceNumber)
	return r
}

func (s source) buildDynamoDBEvent(ds []*stream.Delivered, limit int) ([]byte, int, error) {
	records, err := fitRecords(len(ds), func(i int) events.DynamoDBEventRecord { return s.dynamodbRecord(ds[i]) }, limit)
	if err != nil {
		return nil, 0, err
	}
	return encodeEvent(events.DynamoDBEvent{Records: records}, len(records))
}
