// Command waitfn is a test function: it returns its event, after waiting
// until the file named by the event's "waitFor" exists, if it names one.
// The pool's integration test uses it to hold an invocation in flight.
package main

import (
	"context"
	"encoding/json"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
		var e struct {
			WaitFor string `json:"waitFor"`
		}
		_ = json.Unmarshal(raw, &e)
		for e.WaitFor != "" {
			if _, err := os.Stat(e.WaitFor); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
		return raw, nil
	})
}
