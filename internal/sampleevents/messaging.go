package sampleevents

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// SQSOptions are the options of [SQS].
type SQSOptions struct {
	Common
	// Body is every message's body.
	Body string
	// Queue is the queue name; "" means "my-queue".
	Queue string
	// Count is the number of messages in the batch; 0 means 1.
	Count int
	// MessageID is the messageId of the (single) message; "" means a
	// random UUID per message. It requires Count ≤ 1: ids are unique.
	MessageID string
}

// SQS returns the event an SQS event source mapping delivers for Count
// messages of Body, shaped as in "Using Lambda with Amazon SQS" (Example
// standard queue message event): each record has a UUID messageId, an
// opaque base64 receiptHandle, md5OfBody (the hex MD5 of the body, as
// SendMessage returns it), the attributes ApproximateReceiveCount,
// SentTimestamp, SenderId and ApproximateFirstReceiveTimestamp (epoch
// milliseconds as strings), empty messageAttributes, eventSource
// "aws:sqs" and eventSourceARN arn:aws:sqs:REGION:ACCOUNT:QUEUE. Message i
// was sent i milliseconds after Time and first received 2 ms after it
// was sent.
func SQS(o SQSOptions) (events.SQSEvent, error) {
	c := o.Common.resolved()
	if o.Queue == "" {
		o.Queue = "my-queue"
	}
	if o.Count == 0 {
		o.Count = 1
	}
	if err := errors.Join(c.check(), checkName("queue", o.Queue), checkCount(o.Count)); err != nil {
		return events.SQSEvent{}, fmt.Errorf("sqs: %w", err)
	}
	if o.MessageID != "" && o.Count > 1 {
		return events.SQSEvent{}, fmt.Errorf("sqs: a message id names one message, but count is %d", o.Count)
	}
	arn := fmt.Sprintf("arn:aws:sqs:%s:%s:%s", c.Region, c.AccountID, o.Queue)
	sum := md5.Sum([]byte(o.Body))
	md5OfBody := hex.EncodeToString(sum[:])
	ev := events.SQSEvent{Records: make([]events.SQSMessage, o.Count)}
	for i := range ev.Records {
		id := o.MessageID
		if id == "" {
			id = newUUID()
		}
		sent := c.Time.Add(time.Duration(i) * time.Millisecond)
		ev.Records[i] = events.SQSMessage{
			MessageId: id,
			// A receipt handle is opaque; SQS's are long base64 strings
			// that start with "AQEB".
			ReceiptHandle: "AQEB" + randomBase64(96),
			Body:          o.Body,
			Md5OfBody:     md5OfBody,
			Attributes: map[string]string{
				"ApproximateReceiveCount":          "1",
				"SentTimestamp":                    strconv.FormatInt(sent.UnixMilli(), 10),
				"SenderId":                         principalID(c.AccountID),
				"ApproximateFirstReceiveTimestamp": strconv.FormatInt(sent.Add(2*time.Millisecond).UnixMilli(), 10),
			},
			MessageAttributes: map[string]events.SQSMessageAttribute{},
			EventSourceARN:    arn,
			EventSource:       "aws:sqs",
			AWSRegion:         c.Region,
		}
	}
	return ev, nil
}

// SNSOptions are the options of [SNS].
type SNSOptions struct {
	Common
	// Message is the notification's message.
	Message string
	// Subject is the optional subject ("" when the publisher set none).
	Subject string
	// Topic is the topic name; "" means "my-topic".
	Topic string
	// MessageID is the notification's MessageId; "" means a random UUID.
	MessageID string
}

// SNS returns the event SNS delivers to a subscribed function, shaped as
// in "Using Lambda with Amazon SNS": one record with EventVersion "1.0",
// EventSource "aws:sns", EventSubscriptionArn TOPIC_ARN:UUID and the Sns
// notification (Type "Notification", TopicArn
// arn:aws:sns:REGION:ACCOUNT:TOPIC, Timestamp in milliseconds,
// SignatureVersion "1", the regional SigningCertUrl and UnsubscribeUrl).
// The Signature is random base64 of an RSA signature's length: it does
// not verify.
func SNS(o SNSOptions) (events.SNSEvent, error) {
	c := o.Common.resolved()
	if o.Topic == "" {
		o.Topic = "my-topic"
	}
	if err := errors.Join(c.check(), checkName("topic", o.Topic)); err != nil {
		return events.SNSEvent{}, fmt.Errorf("sns: %w", err)
	}
	if o.MessageID == "" {
		o.MessageID = newUUID()
	}
	topicARN := fmt.Sprintf("arn:aws:sns:%s:%s:%s", c.Region, c.AccountID, o.Topic)
	subscriptionARN := topicARN + ":" + newUUID()
	endpoint := "https://sns." + c.Region + ".amazonaws.com/"
	return events.SNSEvent{Records: []events.SNSEventRecord{{
		EventVersion:         "1.0",
		EventSubscriptionArn: subscriptionARN,
		EventSource:          "aws:sns",
		SNS: events.SNSEntity{
			Signature:         randomBase64(256),
			MessageID:         o.MessageID,
			Type:              "Notification",
			TopicArn:          topicARN,
			MessageAttributes: map[string]any{},
			SignatureVersion:  "1",
			Timestamp:         c.Time,
			SigningCertURL:    endpoint + "SimpleNotificationService-" + shortHex(c.Region) + ".pem",
			Message:           o.Message,
			UnsubscribeURL:    endpoint + "?Action=Unsubscribe&SubscriptionArn=" + subscriptionARN,
			Subject:           o.Subject,
		},
	}}}, nil
}

// shortHex is 32 stable hex digits for the region, the form of the
// certificate name in SNS's SigningCertUrl.
func shortHex(region string) string {
	sum := md5.Sum([]byte("updraft-sns-cert:" + region))
	return hex.EncodeToString(sum[:])
}
