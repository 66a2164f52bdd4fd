package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/updraft/updraft/internal/testutil"
)

const testRole = "arn:aws:iam::000000000000:role/updraft-test"

// testFunctionZip is the multi-purpose test function, built once.
func testFunctionZip(t *testing.T) []byte {
	t.Helper()
	return testutil.FunctionZip(t, "./internal/testutil/testfn", "")
}

type fnOpts struct {
	memory  int32
	timeout int32
	env     map[string]string
	zip     []byte
}

func createTestFunction(t *testing.T, c *lambda.Client, name string, o fnOpts) *lambda.CreateFunctionOutput {
	t.Helper()
	if o.zip == nil {
		o.zip = testFunctionZip(t)
	}
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      types.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Role:         aws.String(testRole),
		Code:         &types.FunctionCode{ZipFile: o.zip},
	}
	if o.memory != 0 {
		in.MemorySize = aws.Int32(o.memory)
	}
	if o.timeout != 0 {
		in.Timeout = aws.Int32(o.timeout)
	}
	if o.env != nil {
		in.Environment = &types.Environment{Variables: o.env}
	}
	out, err := c.CreateFunction(ctx(t), in)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return out
}

func ctx(t *testing.T) context.Context { return testutil.Context(t, 2*time.Minute) }

// invokeJSON invokes synchronously and decodes the payload into out.
func invokeJSON(t *testing.T, c *lambda.Client, name string, event any, out any) *lambda.InvokeOutput {
	t.Helper()
	payload, _ := json.Marshal(event)
	res, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: payload})
	if err != nil {
		t.Fatalf("invoke %s: %v", name, err)
	}
	if res.FunctionError != nil {
		t.Fatalf("invoke %s: function error %s: %s", name, *res.FunctionError, res.Payload)
	}
	if out != nil {
		if err := json.Unmarshal(res.Payload, out); err != nil {
			t.Fatalf("invoke %s: decode %q: %v", name, res.Payload, err)
		}
	}
	return res
}

// apiErrorCode returns the service error code of err, or "".
func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

var syscallSIGTERM = syscall.SIGTERM

func getFunctionInput(name string) *lambda.GetFunctionInput {
	return &lambda.GetFunctionInput{FunctionName: aws.String(name)}
}
