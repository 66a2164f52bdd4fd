package sampleevents

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// DynamoDBOptions are the options of [DynamoDB].
type DynamoDBOptions struct {
	Common
	// Table is the table name; "" means "my-table".
	Table string
	// EventName is INSERT, MODIFY or REMOVE (any case); "" means INSERT.
	EventName string
	// Key is the name of the item's one attribute, its string partition
	// key; "" means "id".
	Key string
	// Value is that attribute's string value; "" means "1".
	Value string
}

// DynamoDB returns the event a DynamoDB Streams event source mapping
// delivers for one change to an item with a single string attribute,
// shaped as in "Using Lambda with DynamoDB Streams": eventID (32 hex
// digits), eventName, eventVersion "1.1", eventSource "aws:dynamodb",
// and the stream record with ApproximateCreationDateTime (epoch seconds),
// Keys, NewImage (INSERT, MODIFY) and OldImage (MODIFY, REMOVE) as the
// view type NEW_AND_OLD_IMAGES gives them, SequenceNumber, and SizeBytes
// counted as DynamoDB counts them in the doc's examples (the lengths of
// the attribute names and values in Keys and both images). The
// eventSourceARN is the stream's:
// arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/stream/LABEL, where the
// label is the stream's creation time (here the start of Time's day).
func DynamoDB(o DynamoDBOptions) (events.DynamoDBEvent, error) {
	c := o.Common.resolved()
	c.Time = c.Time.Truncate(time.Second) // ApproximateCreationDateTime has whole seconds
	if o.Table == "" {
		o.Table = "my-table"
	}
	if o.Key == "" {
		o.Key = "id"
	}
	if o.Value == "" {
		o.Value = "1"
	}
	name := strings.ToUpper(o.EventName)
	if name == "" {
		name = string(events.DynamoDBOperationTypeInsert)
	}
	var errs []error
	switch events.DynamoDBOperationType(name) {
	case events.DynamoDBOperationTypeInsert, events.DynamoDBOperationTypeModify, events.DynamoDBOperationTypeRemove:
	default:
		errs = append(errs, fmt.Errorf("event name %q: want INSERT, MODIFY or REMOVE", o.EventName))
	}
	if err := errors.Join(append(errs, c.check(), checkName("table", o.Table))...); err != nil {
		return events.DynamoDBEvent{}, fmt.Errorf("dynamodb: %w", err)
	}
	item := func() map[string]events.DynamoDBAttributeValue {
		return map[string]events.DynamoDBAttributeValue{o.Key: events.NewStringAttribute(o.Value)}
	}
	rec := events.DynamoDBStreamRecord{
		ApproximateCreationDateTime: events.SecondsEpochTime{Time: c.Time},
		Keys:                        item(),
		SequenceNumber:              fmt.Sprintf("1%020d", c.Time.UnixMicro()),
		StreamViewType:              "NEW_AND_OLD_IMAGES",
	}
	if name != string(events.DynamoDBOperationTypeRemove) {
		rec.NewImage = item()
	}
	if name != string(events.DynamoDBOperationTypeInsert) {
		rec.OldImage = item()
	}
	for _, m := range []map[string]events.DynamoDBAttributeValue{rec.Keys, rec.NewImage, rec.OldImage} {
		for k, v := range m {
			rec.SizeBytes += int64(len(k) + len(v.String()))
		}
	}
	label := c.Time.Truncate(24 * time.Hour).Format("2006-01-02T15:04:05.000")
	return events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{{
		AWSRegion:      c.Region,
		Change:         rec,
		EventID:        randomHex(16, false),
		EventName:      name,
		EventSource:    "aws:dynamodb",
		EventVersion:   "1.1",
		EventSourceArn: fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s/stream/%s", c.Region, c.AccountID, o.Table, label),
	}}}, nil
}
