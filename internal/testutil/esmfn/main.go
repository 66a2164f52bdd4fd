// Command esmfn is the event source mapping test function: an
// aws-lambda-go handler taking events.SQSEvent. It logs one line per
// record, "seen body=<body> count=<ApproximateReceiveCount>", for a test
// to read with `updraft logs`, and fails on first delivery where the
// body asks it to: a body starting with "fail" fails the whole batch
// (a function error), one starting with "bad" is reported in
// batchItemFailures (for a mapping with ReportBatchItemFailures).
package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	fail := false
	for _, m := range ev.Records {
		count := m.Attributes["ApproximateReceiveCount"]
		fmt.Printf("seen body=%s count=%s source=%s\n", m.Body, count, m.EventSource)
		if count != "1" {
			continue
		}
		switch {
		case strings.HasPrefix(m.Body, "fail"):
			fail = true
		case strings.HasPrefix(m.Body, "bad"):
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	if fail {
		return resp, errors.New("asked to fail")
	}
	return resp, nil
}

func main() { lambda.Start(handle) }
