package sampleevents

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// CloudWatchLogsOptions are the options of [CloudWatchLogs].
type CloudWatchLogsOptions struct {
	Common
	// Message is every log event's message.
	Message string
	// LogGroup is the log group; "" means "/aws/lambda/my-function".
	LogGroup string
	// LogStream is the log stream; "" means a Lambda-style stream of
	// Time's date ("2025/03/10/[$LATEST]" and 32 random hex digits).
	LogStream string
	// Filter is the subscription filter's name; "" means "my-filter".
	Filter string
	// Count is the number of log events; 0 means 1.
	Count int
}

// CloudWatchLogs returns the event a CloudWatch Logs subscription filter
// sends to a function, as in "Using Lambda with CloudWatch Logs" and
// "Log group-level subscription filters": {"awslogs": {"data": ...}},
// where data is the base64 of the gzip of a DATA_MESSAGE document: owner
// (the account), logGroup, logStream, subscriptionFilters and logEvents,
// each with a 56-digit id, an epoch-millisecond timestamp (event i at
// Time plus i ms) and the message. aws-lambda-go decodes it with
// CloudwatchLogsRawData.Parse.
func CloudWatchLogs(o CloudWatchLogsOptions) (events.CloudwatchLogsEvent, error) {
	c := o.Common.resolved()
	if o.LogGroup == "" {
		o.LogGroup = "/aws/lambda/my-function"
	}
	if o.LogStream == "" {
		o.LogStream = c.Time.Format("2006/01/02") + "/[$LATEST]" + randomHex(16, false)
	}
	if o.Filter == "" {
		o.Filter = "my-filter"
	}
	if o.Count == 0 {
		o.Count = 1
	}
	if err := errors.Join(c.check(), checkLogName("log group", o.LogGroup), checkLogName("log stream", o.LogStream),
		checkLogName("filter", o.Filter), checkCount(o.Count)); err != nil {
		return events.CloudwatchLogsEvent{}, fmt.Errorf("cloudwatch-logs: %w", err)
	}
	data := events.CloudwatchLogsData{
		Owner:               c.AccountID,
		LogGroup:            o.LogGroup,
		LogStream:           o.LogStream,
		SubscriptionFilters: []string{o.Filter},
		MessageType:         "DATA_MESSAGE",
		LogEvents:           make([]events.CloudwatchLogsLogEvent, o.Count),
	}
	for i := range data.LogEvents {
		ts := c.Time.Add(time.Duration(i) * time.Millisecond).UnixMilli()
		data.LogEvents[i] = events.CloudwatchLogsLogEvent{ID: logEventID(ts, i), Timestamp: ts, Message: o.Message}
	}
	encoded, err := gzipBase64JSON(data)
	if err != nil {
		return events.CloudwatchLogsEvent{}, fmt.Errorf("cloudwatch-logs: %w", err)
	}
	return events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: encoded}}, nil
}

// gzipBase64JSON is base64(gzip(JSON of v)), as awslogs.data carries it.
func gzipBase64JSON(v any) (string, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(v); err != nil {
		return "", fmt.Errorf("encode log data: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("compress log data: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// logEventID is a 56-digit log event id, as CloudWatch Logs prints them:
// ordered by timestamp, then by position in the batch, then random.
func logEventID(tsMillis int64, i int) string {
	n := new(big.Int).SetInt64(tsMillis)
	n.Mul(n, big.NewInt(1_000_000))
	n.Add(n, big.NewInt(int64(i)))
	n.Mul(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(37), nil))
	n.Add(n, new(big.Int).SetBytes(randomBytes(12))) // < 10^29, below the position
	return fmt.Sprintf("%056s", n.String())
}

// checkLogName refuses an empty name or one with a colon or a line break.
func checkLogName(what, name string) error {
	if name == "" || strings.ContainsAny(name, ":\n") {
		return fmt.Errorf("%s %q: want a non-empty name without ':' or line breaks", what, name)
	}
	return nil
}
