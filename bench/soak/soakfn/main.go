// Command soakfn is the soak test's function, an unmodified aws-lambda-go
// handler deployed four times (sync, Event, queue-triggered and
// stream-triggered). A direct invocation's event is {"id": "..."} and the
// answer echoes it, so the soak can tell each sync answer and each Event
// record's result belongs to its request. A batch from an event source
// mapping (events.SQSEvent or events.KinesisEvent: a message body or a
// record's data is the id) is reported to the soak's sink, an HTTP server
// at $SOAK_SINK_URL that the function reaches through
// --function-egress-allow, before the handler returns; a batch the sink
// did not acknowledge fails, so the mapping delivers it again. What the
// sink saw is therefore what was processed, independent of the server's
// own logs and records.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// direct is the event of a sync or Event invocation, and its answer.
type direct struct {
	ID string `json:"id"`
}

// batch holds the members of an SQS or Kinesis event the function reads.
type batch struct {
	Records []struct {
		EventSource string               `json:"eventSource"`
		Body        string               `json:"body"`
		Kinesis     events.KinesisRecord `json:"kinesis"`
	} `json:"Records"`
}

// report is what the sink receives: the kind of source and the ids of one
// batch.
type report struct {
	Kind string   `json:"kind"`
	IDs  []string `json:"ids"`
}

var client = &http.Client{Timeout: 5 * time.Second}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var b batch
	if err := json.Unmarshal(raw, &b); err == nil && len(b.Records) > 0 {
		rep := report{}
		for _, r := range b.Records {
			switch r.EventSource {
			case "aws:sqs":
				rep.Kind = "queue"
				rep.IDs = append(rep.IDs, r.Body)
			case "aws:kinesis":
				rep.Kind = "stream"
				rep.IDs = append(rep.IDs, string(r.Kinesis.Data))
			default:
				return nil, fmt.Errorf("soakfn: record from unknown source %q", r.EventSource)
			}
		}
		return nil, send(ctx, rep)
	}
	var d direct
	if err := json.Unmarshal(raw, &d); err != nil || d.ID == "" {
		return nil, fmt.Errorf("soakfn: event is neither a batch nor {\"id\"}: %s", raw)
	}
	return d, nil
}

// send posts rep to the sink and fails unless it answers 204.
func send(ctx context.Context, rep report) error {
	url := os.Getenv("SOAK_SINK_URL")
	if url == "" {
		return errors.New("soakfn: SOAK_SINK_URL is not set")
	}
	body, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("soakfn: sink: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("soakfn: sink answered %d", resp.StatusCode)
	}
	return nil
}

func main() { lambda.Start(handle) }
