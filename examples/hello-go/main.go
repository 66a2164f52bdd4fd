// Command hello-go is the smallest updraft function: an unmodified
// aws-lambda-go handler. Deploy it with
//
//	updraft function create hello --runtime provided.al2023 --handler bootstrap --code examples/hello-go
//
// (the CLI builds a directory of Go sources into a linux bootstrap).
package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Event is what the function expects.
type Event struct {
	Name string `json:"name"`
}

// Response is what it returns.
type Response struct {
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

func handle(ctx context.Context, e Event) (Response, error) {
	name := e.Name
	if name == "" {
		name = "world"
	}
	lc, _ := lambdacontext.FromContext(ctx)
	fmt.Printf("greeting %s\n", name)
	return Response{Message: "Hello, " + name + "!", RequestID: lc.AwsRequestID}, nil
}

func main() { lambda.Start(handle) }
