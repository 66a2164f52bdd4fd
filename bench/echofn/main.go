// Command echofn is the benchmark's function: an aws-lambda-go handler
// that returns its event.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(_ context.Context, e json.RawMessage) (json.RawMessage, error) { return e, nil })
}
