package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/updraft/updraft/internal/testutil"
)

// eventInvokeConfig is the CLI's JSON output of the *-function-event-invoke-config commands.
type eventInvokeConfig struct {
	FunctionArn              string
	MaximumRetryAttempts     *int
	MaximumEventAgeInSeconds *int
	LastModified             any
	DestinationConfig        struct {
		OnSuccess struct{ Destination string }
		OnFailure struct{ Destination string }
	}
}

func decodeEventInvokeConfig(t *testing.T, out string) eventInvokeConfig {
	t.Helper()
	var c eventInvokeConfig
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	return c
}

// TestEventInvokeConfigWithTheAWSCLI drives the asynchronous invocation
// settings with the aws CLI commands Lambda users type.
func TestEventInvokeConfigWithTheAWSCLI(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()
	createTestFunction(t, c, "eic-fn", fnOpts{})
	createTestFunction(t, c, "eic-recorder", fnOpts{}) // a function destination must exist
	const (
		arn      = "arn:aws:lambda:us-east-1:000000000000:function:eic-fn"
		queue    = "arn:aws:sqs:us-east-1:000000000000:eic-failures"
		recorder = "arn:aws:lambda:us-east-1:000000000000:function:eic-recorder"
	)

	out, _ := awsCLI(t, srv, false, "lambda", "put-function-event-invoke-config", "--function-name", "eic-fn",
		"--maximum-retry-attempts", "0",
		"--destination-config", `{"OnFailure":{"Destination":"`+queue+`"},"OnSuccess":{"Destination":"`+recorder+`"}}`)
	put := decodeEventInvokeConfig(t, out)
	if put.FunctionArn != arn+":$LATEST" || put.MaximumRetryAttempts == nil || *put.MaximumRetryAttempts != 0 ||
		put.DestinationConfig.OnFailure.Destination != queue || put.DestinationConfig.OnSuccess.Destination != recorder || put.LastModified == nil {
		t.Fatalf("put-function-event-invoke-config: %s", out)
	}

	out, _ = awsCLI(t, srv, false, "lambda", "get-function-event-invoke-config", "--function-name", "eic-fn")
	if got := decodeEventInvokeConfig(t, out); got.FunctionArn != put.FunctionArn || *got.MaximumRetryAttempts != 0 ||
		got.MaximumEventAgeInSeconds != nil || got.DestinationConfig != put.DestinationConfig {
		t.Fatalf("get-function-event-invoke-config: %s", out)
	}

	// Update changes only the field it is given.
	out, _ = awsCLI(t, srv, false, "lambda", "update-function-event-invoke-config", "--function-name", "eic-fn",
		"--maximum-event-age-in-seconds", "3600")
	upd := decodeEventInvokeConfig(t, out)
	if upd.MaximumEventAgeInSeconds == nil || *upd.MaximumEventAgeInSeconds != 3600 || *upd.MaximumRetryAttempts != 0 ||
		upd.DestinationConfig != put.DestinationConfig {
		t.Fatalf("update-function-event-invoke-config: %s", out)
	}

	// Bad values are refused and change nothing. The CLI checks minimums
	// itself (an age of 30), the server the rest (3 retries).
	_, stderr := awsCLI(t, srv, true, "lambda", "put-function-event-invoke-config", "--function-name", "eic-fn",
		"--maximum-retry-attempts", "3", "--maximum-event-age-in-seconds", "30")
	if !strings.Contains(stderr, "MaximumEventAgeInSeconds") && !strings.Contains(stderr, "maximumEventAgeInSeconds") {
		t.Fatalf("retries 3, age 30: %s", stderr)
	}
	_, stderr = awsCLI(t, srv, true, "lambda", "put-function-event-invoke-config", "--function-name", "eic-fn",
		"--maximum-retry-attempts", "3")
	if !strings.Contains(stderr, "ValidationException") || !strings.Contains(stderr, "Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2") {
		t.Fatalf("retries 3: %s", stderr)
	}
	_, stderr = awsCLI(t, srv, true, "lambda", "update-function-event-invoke-config", "--function-name", "eic-fn",
		"--destination-config", `{"OnFailure":{"Destination":"arn:aws:sns:us-east-1:000000000000:alerts"}}`)
	if !strings.Contains(stderr, "InvalidParameterValueException") || !strings.Contains(stderr, "Amazon SNS topic, which this server does not support") {
		t.Fatalf("SNS destination: %s", stderr)
	}
	out, _ = awsCLI(t, srv, false, "lambda", "get-function-event-invoke-config", "--function-name", "eic-fn")
	if got := decodeEventInvokeConfig(t, out); *got.MaximumRetryAttempts != 0 || *got.MaximumEventAgeInSeconds != 3600 || got.DestinationConfig != put.DestinationConfig {
		t.Fatalf("refused requests changed the configuration: %s", out)
	}

	// An alias has its own configuration.
	if _, err := c.PublishVersion(ctx(t), &lambda.PublishVersionInput{FunctionName: aws.String("eic-fn")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAlias(ctx(t), &lambda.CreateAliasInput{FunctionName: aws.String("eic-fn"), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	out, _ = awsCLI(t, srv, false, "lambda", "put-function-event-invoke-config", "--function-name", "eic-fn", "--qualifier", "live",
		"--maximum-retry-attempts", "1", "--destination-config", `{"OnFailure":{"Destination":"http://127.0.0.1:9/hook"}}`)
	if got := decodeEventInvokeConfig(t, out); got.FunctionArn != arn+":live" || *got.MaximumRetryAttempts != 1 {
		t.Fatalf("put on the alias: %s", out)
	}
	out, _ = awsCLI(t, srv, false, "lambda", "get-function-event-invoke-config", "--function-name", "eic-fn:live")
	if got := decodeEventInvokeConfig(t, out); got.DestinationConfig.OnFailure.Destination != "http://127.0.0.1:9/hook" {
		t.Fatalf("get on the alias: %s", out)
	}

	out, _ = awsCLI(t, srv, false, "lambda", "list-function-event-invoke-configs", "--function-name", "eic-fn")
	var list struct{ FunctionEventInvokeConfigs []eventInvokeConfig }
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.FunctionEventInvokeConfigs) != 2 ||
		list.FunctionEventInvokeConfigs[0].FunctionArn != arn+":$LATEST" || list.FunctionEventInvokeConfigs[1].FunctionArn != arn+":live" {
		t.Fatalf("list-function-event-invoke-configs: %s (%v)", out, err)
	}

	awsCLI(t, srv, false, "lambda", "delete-function-event-invoke-config", "--function-name", "eic-fn")
	_, stderr = awsCLI(t, srv, true, "lambda", "get-function-event-invoke-config", "--function-name", "eic-fn")
	if !strings.Contains(stderr, "ResourceNotFoundException") || !strings.Contains(stderr, "doesn't have an EventInvokeConfig") {
		t.Fatalf("get after delete: %s", stderr)
	}
	out, _ = awsCLI(t, srv, false, "lambda", "list-function-event-invoke-configs", "--function-name", "eic-fn")
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.FunctionEventInvokeConfigs) != 1 {
		t.Fatalf("list after delete: %s (%v)", out, err)
	}

	// A dead-letter queue must be a built-in queue.
	_, stderr = awsCLI(t, srv, true, "lambda", "update-function-configuration", "--function-name", "eic-fn",
		"--dead-letter-config", "TargetArn=arn:aws:sns:us-east-1:000000000000:alerts")
	if !strings.Contains(stderr, "InvalidParameterValueException") || !strings.Contains(stderr, "SNS topic") {
		t.Fatalf("SNS dead-letter target: %s", stderr)
	}
	out, _ = awsCLI(t, srv, false, "lambda", "update-function-configuration", "--function-name", "eic-fn",
		"--dead-letter-config", "TargetArn="+queue)
	if !strings.Contains(out, `"TargetArn": "`+queue+`"`) {
		t.Fatalf("queue dead-letter target: %s", out)
	}
}
