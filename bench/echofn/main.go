// Command echofn is the benchmark's function: an aws-lambda-go handler
// that returns its event. An event that is exactly {"now":true} is
// answered instead with the time the handler started, in Unix
// nanoseconds, so the benchmark can measure when an asynchronous event
// began to run.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// nowEvent asks for the start time instead of an echo.
var nowEvent = []byte(`{"now":true}`)

func main() {
	lambda.Start(func(_ context.Context, e json.RawMessage) (json.RawMessage, error) {
		start := time.Now()
		if bytes.Equal(bytes.TrimSpace(e), nowEvent) {
			return strconv.AppendInt(nil, start.UnixNano(), 10), nil
		}
		return e, nil
	})
}
