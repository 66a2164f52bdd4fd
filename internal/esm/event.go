package esm

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/updraft/updraft/internal/queue"
)

// eventSourceSQS is the eventSource of every record.
const eventSourceSQS = "aws:sqs"

// source is what every record of one mapping's events shares.
type source struct {
	arn, region, account string
}

// record turns one queue message into an SQS event record. received is
// when the poller fetched it. ApproximateFirstReceiveTimestamp is
// approximate indeed: the queue does not remember the first receive, so
// a redelivered message reports this receive's time too. SenderId is the account id: updraft has no IAM
// principals.
func (s source) record(m queue.Message, received time.Time) events.SQSMessage {
	attrs := map[string]string{
		"ApproximateReceiveCount":          strconv.FormatUint(max(m.ReceiveCount, 1), 10),
		"SentTimestamp":                    strconv.FormatInt(m.SentAt.UnixMilli(), 10),
		"SenderId":                         s.account,
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(received.UnixMilli(), 10),
	}
	msgAttrs := make(map[string]events.SQSMessageAttribute, len(m.Attributes))
	for name, a := range m.Attributes {
		ma := events.SQSMessageAttribute{
			StringListValues: []string{},
			BinaryListValues: [][]byte{},
			DataType:         a.DataType,
		}
		if a.BaseType() == queue.TypeBinary {
			ma.BinaryValue = a.BinaryValue
		} else {
			v := a.StringValue
			ma.StringValue = &v
		}
		msgAttrs[name] = ma
	}
	md5Body := m.MD5OfBody
	if md5Body == "" {
		sum := md5.Sum(m.Body)
		md5Body = hex.EncodeToString(sum[:])
	}
	return events.SQSMessage{
		MessageId:              m.MessageID,
		ReceiptHandle:          receiptHandle(m),
		Body:                   string(m.Body),
		Md5OfBody:              md5Body,
		Md5OfMessageAttributes: md5OfAttributes(m.Attributes),
		Attributes:             attrs,
		MessageAttributes:      msgAttrs,
		EventSourceARN:         s.arn,
		EventSource:            eventSourceSQS,
		AWSRegion:              s.region,
	}
}

// receiptHandle is an opaque handle, as the queue API shows it. Nothing
// reads it back: the poller deletes the messages itself.
func receiptHandle(m queue.Message) string {
	return strconv.FormatUint(m.Sequence, 10) + ":" + m.MessageID
}

// md5OfAttributes is SQS's MD5OfMessageAttributes (see
// queue.MD5OfAttributes).
func md5OfAttributes(attrs map[string]queue.Attribute) string { return queue.MD5OfAttributes(attrs) }

// buildEvent encodes the event for msgs, as many as fit in limit bytes
// (at least one, so that an oversized message fails its invocation
// rather than stall the queue). It returns the payload and how many
// messages it holds; the rest belong to a later batch.
func (s source) buildEvent(msgs []queue.Message, received time.Time, limit int) ([]byte, int, error) {
	records, err := fitRecords(len(msgs), func(i int) events.SQSMessage { return s.record(msgs[i], received) }, limit)
	if err != nil {
		return nil, 0, err
	}
	return encodeEvent(events.SQSEvent{Records: records}, len(records))
}

// fitRecords builds records 0..n-1 with record while their JSON fits in
// limit bytes inside {"Records":[...]}, always taking the first.
func fitRecords[R any](n int, record func(i int) R, limit int) ([]R, error) {
	out := make([]R, 0, n)
	size := len(`{"Records":[]}`)
	for i := range n {
		r := record(i)
		b, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("esm: encode record: %w", err)
		}
		if i > 0 && size+len(b)+1 > limit {
			break
		}
		size += len(b) + 1
		out = append(out, r)
	}
	return out, nil
}

// encodeEvent marshals an event holding n records.
func encodeEvent(ev any, n int) ([]byte, int, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, 0, fmt.Errorf("esm: encode event: %w", err)
	}
	return payload, n, nil
}
