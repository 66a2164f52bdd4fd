// Command sqsfn is the sample-event test function: an aws-lambda-go
// handler for an SQS event source mapping, unmodified — it takes
// events.SQSEvent. It answers what it saw: each message's body and
// messageId, the queue's ARN, and whether every md5OfBody matched its
// body, so a test can tell that the event arrived whole.
package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// Seen is the answer.
type Seen struct {
	Bodies     []string `json:"bodies"`
	MessageIDs []string `json:"messageIds"`
	Queue      string   `json:"queue"`
	MD5OK      bool     `json:"md5ok"`
}

func handle(_ context.Context, ev events.SQSEvent) (Seen, error) {
	s := Seen{MD5OK: true}
	for _, m := range ev.Records {
		s.Bodies = append(s.Bodies, m.Body)
		s.MessageIDs = append(s.MessageIDs, m.MessageId)
		s.Queue = m.EventSourceARN
		sum := md5.Sum([]byte(m.Body))
		if hex.EncodeToString(sum[:]) != m.Md5OfBody {
			s.MD5OK = false
		}
	}
	return s, nil
}

func main() { lambda.Start(handle) }
