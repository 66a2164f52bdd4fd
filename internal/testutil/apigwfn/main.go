// Command apigwfn is the HTTP proxy's test function: an aws-lambda-go
// handler written for API Gateway's Lambda proxy integration, unmodified.
// It answers 201 with an X-Echo-Method header and a JSON body echoing the
// method, path, the "q" query parameter, the X-Greeting header, the body
// and whether it came base64. The path /panic panics and /error returns an
// error: both are function errors, which the proxy answers with 502.
package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// Echo is the body of every answer.
type Echo struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Query     string `json:"query"`
	Greeting  string `json:"greeting"`
	Body      string `json:"body"`
	Base64    bool   `json:"base64"`
	Proxy     string `json:"proxy"`
	RequestID string `json:"requestId"`
}

func handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	switch req.Path {
	case "/panic":
		panic("the handler panicked")
	case "/error":
		return events.APIGatewayProxyResponse{}, errors.New("the handler failed")
	}
	b, err := json.Marshal(Echo{
		Method:    req.HTTPMethod,
		Path:      req.Path,
		Query:     req.QueryStringParameters["q"],
		Greeting:  req.Headers["X-Greeting"],
		Body:      req.Body,
		Base64:    req.IsBase64Encoded,
		Proxy:     req.PathParameters["proxy"],
		RequestID: req.RequestContext.RequestID,
	})
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	return events.APIGatewayProxyResponse{
		StatusCode:        201,
		Headers:           map[string]string{"Content-Type": "application/json", "X-Echo-Method": req.HTTPMethod},
		MultiValueHeaders: map[string][]string{"X-Multi": {"a", "b"}},
		Body:              string(b),
	}, nil
}

func main() { lambda.Start(handle) }
