package sampleevents

import (
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// KinesisOptions are the options of [Kinesis].
type KinesisOptions struct {
	Common
	// Data is every record's data, as the producer put it (not encoded).
	Data string
	// Stream is the stream name; "" means "my-stream".
	Stream string
	// PartitionKey is every record's partition key; "" means "1".
	PartitionKey string
	// Count is the number of records in the batch; 0 means 1.
	Count int
}

// Kinesis returns the event a Kinesis event source mapping delivers for
// Count records of Data from shard shardId-000000000000, shaped as in
// "Using Lambda with Kinesis": kinesis.data is the data in base64 (as
// Kinesis delivers it; aws-lambda-go's []byte field decodes it),
// kinesisSchemaVersion "1.0", 56-digit sequence numbers that increase
// with each record, approximateArrivalTimestamp in epoch seconds with
// milliseconds (record i arrived i ms after Time), eventID
// SHARD:SEQUENCE, eventName "aws:kinesis:record", eventVersion "1.0",
// invokeIdentityArn the function's execution role, and eventSourceARN
// arn:aws:kinesis:REGION:ACCOUNT:stream/STREAM.
func Kinesis(o KinesisOptions) (events.KinesisEvent, error) {
	c := o.Common.resolved()
	if o.Stream == "" {
		o.Stream = "my-stream"
	}
	if o.PartitionKey == "" {
		o.PartitionKey = "1"
	}
	if o.Count == 0 {
		o.Count = 1
	}
	if err := errors.Join(c.check(), checkName("stream", o.Stream), checkCount(o.Count)); err != nil {
		return events.KinesisEvent{}, fmt.Errorf("kinesis: %w", err)
	}
	const shard = "shardId-000000000000"
	arn := fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", c.Region, c.AccountID, o.Stream)
	// Kinesis sequence numbers are 56 decimal digits (see the doc's
	// examples, "49590338271490256608559692538361571095921575989136588898"),
	// increasing within a shard. Build them from the arrival time so that
	// later events sort after earlier ones.
	base := new(big.Int).Mul(big.NewInt(49), new(big.Int).Exp(big.NewInt(10), big.NewInt(54), nil))
	base.Add(base, new(big.Int).Mul(big.NewInt(c.Time.UnixMilli()), new(big.Int).Exp(big.NewInt(10), big.NewInt(20), nil)))
	step := new(big.Int).Exp(big.NewInt(10), big.NewInt(10), nil)
	ev := events.KinesisEvent{Records: make([]events.KinesisEventRecord, o.Count)}
	for i := range ev.Records {
		seq := new(big.Int).Add(base, new(big.Int).Mul(step, big.NewInt(int64(i)))).String()
		ev.Records[i] = events.KinesisEventRecord{
			AwsRegion:         c.Region,
			EventID:           shard + ":" + seq,
			EventName:         "aws:kinesis:record",
			EventSource:       "aws:kinesis",
			EventSourceArn:    arn,
			EventVersion:      "1.0",
			InvokeIdentityArn: fmt.Sprintf("arn:aws:iam::%s:role/lambda-role", c.AccountID),
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: c.Time.Add(time.Duration(i) * time.Millisecond)},
				Data:                        []byte(o.Data),
				PartitionKey:                o.PartitionKey,
				SequenceNumber:              seq,
				KinesisSchemaVersion:        "1.0",
			},
		}
	}
	return ev, nil
}
