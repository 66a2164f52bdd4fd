package esm

import (
	"github.com/aws/aws-lambda-go/events"

	"github.com/updraft/updraft/internal/stream"
)

// Constants of every Kinesis event record ("Using Lambda with Kinesis
// Data Streams", AWS Lambda Developer Guide, and aws-lambda-go's
// events.KinesisEvent test data).
const (
	eventSourceKinesis   = "aws:kinesis"
	kinesisEventName     = "aws:kinesis:record"
	kinesisEventVersion  = "1.0"
	kinesisSchemaVersion = "1.0"
)

// kinesisRecord turns one stream record into a Kinesis event record.
// role is the function's execution role (invokeIdentityArn).
func (s source) kinesisRecord(d *stream.Delivered, role string) events.KinesisEventRecord {
	return events.KinesisEventRecord{
		AwsRegion:         s.region,
		EventID:           d.ShardID + ":" + d.SequenceNumber,
		EventName:         kinesisEventName,
		EventSource:       eventSourceKinesis,
		EventSourceArn:    s.arn,
		EventVersion:      kinesisEventVersion,
		InvokeIdentityArn: role,
		Kinesis: events.KinesisRecord{
			ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: d.Arrival},
			Data:                        d.Data,
			PartitionKey:                d.PartitionKey,
			SequenceNumber:              d.SequenceNumber,
			KinesisSchemaVersion:        kinesisSchemaVersion,
		},
	}
}

// buildKinesisEvent encodes the event for ds, as many as fit in limit
// bytes (at least one, so that an oversized record fails its invocation
// rather than stall the shard). It returns the payload and how many
// records it holds; the rest belong to the next batch, in order.
func (s source) buildKinesisEvent(ds []*stream.Delivered, role string, limit int) ([]byte, int, error) {
	records, err := fitRecords(len(ds), func(i int) events.KinesisEventRecord { return s.kinesisRecord(ds[i], role) }, limit)
	if err != nil {
		return nil, 0, err
	}
	return encodeEvent(events.KinesisEvent{Records: records}, len(records))
}
