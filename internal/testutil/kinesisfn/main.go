// Command kinesisfn is the stream event source mapping test function: an
// aws-lambda-go handler taking events.KinesisEvent. It logs one line per
// record, "seen pk=<partition key> data=<data> seq=<sequence number>
// source=<eventSource>", for a test to read with `updraft logs`, and
// fails the batch when a record's data starts with "fail".
package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(_ context.Context, ev events.KinesisEvent) error {
	fail := false
	for _, r := range ev.Records {
		fmt.Printf("seen pk=%s data=%s seq=%s source=%s\n", r.Kinesis.PartitionKey, r.Kinesis.Data, r.Kinesis.SequenceNumber, r.EventSource)
		fail = fail || strings.HasPrefix(string(r.Kinesis.Data), "fail")
	}
	if fail {
		return errors.New("asked to fail")
	}
	return nil
}

func main() { lambda.Start(handle) }
