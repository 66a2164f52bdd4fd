package runtimeapi

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// runLambdaGoFunction is the child process of TestLambdaGoRuntime: a
// function built with aws-lambda-go, the reference runtime client. It exits
// when the Runtime API goes away.
func runLambdaGoFunction() {
	lambda.Start(func(ctx context.Context, ev struct{ Op string }) (any, error) {
		switch ev.Op {
		case "fail":
			return nil, errors.New("boom")
		case "context":
			lc, _ := lambdacontext.FromContext(ctx)
			deadline, _ := ctx.Deadline()
			return map[string]any{
				"requestId":  lc.AwsRequestID,
				"arn":        lc.InvokedFunctionArn,
				"deadlineMs": deadline.UnixMilli(),
				"custom":     lc.ClientContext.Custom["k"],
				"identity":   lc.Identity.CognitoIdentityID,
				"traceId":    ctx.Value("x-amzn-trace-id"),
			}, nil
		}
		return ev, nil
	})
}

// TestLambdaGoRuntime drives the real aws-lambda-go runtime loop (in a
// child process) through the server: the headers must parse, results and
// errors must come back.
func TestLambdaGoRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("find test binary: %v", err)
	}
	s := newTestServer(t, Config{})

	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "AWS_LAMBDA_RUNTIME_API="+s.Addr())
	cmd.Stdout, cmd.Stderr = tWriter{t}, tWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start function: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = s.Close() // the function's next /next fails and it exits
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := s.WaitInit(ctx); err != nil {
		t.Fatalf("WaitInit: %v", err)
	}

	t.Run("echo returns the result", func(t *testing.T) {
		resp, err := s.Invoke(ctx, &Invocation{RequestID: "req-echo", Payload: []byte(`{"Op":"echo"}`)})
		if err != nil {
			t.Fatalf("Invoke: %v", err)
		}
		if resp.FunctionError || string(resp.Payload) != `{"Op":"echo"}` {
			t.Fatalf("got %+v (payload %s)", resp, resp.Payload)
		}
	})

	t.Run("headers reach the lambda context", func(t *testing.T) {
		deadline := time.Now().Add(time.Minute).Truncate(time.Millisecond)
		resp, err := s.Invoke(ctx, &Invocation{
			RequestID:          "req-ctx",
			Payload:            []byte(`{"Op":"context"}`),
			Deadline:           deadline,
			InvokedFunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:f:live",
			ClientContext:      `{"custom":{"k":"v"}}`,
			CognitoIdentity:    `{"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"pool-1"}`,
			TraceID:            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
		})
		if err != nil {
			t.Fatalf("Invoke: %v", err)
		}
		var got map[string]any
		if err := json.Unmarshal(resp.Payload, &got); err != nil {
			t.Fatalf("decode %s: %v", resp.Payload, err)
		}
		want := map[string]any{
			"requestId":  "req-ctx",
			"arn":        "arn:aws:lambda:us-east-1:000000000000:function:f:live",
			"deadlineMs": float64(deadline.UnixMilli()),
			"custom":     "v",
			"identity":   "id-1",
			"traceId":    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
	})

	t.Run("a returned error is a function error", func(t *testing.T) {
		resp, err := s.Invoke(ctx, &Invocation{RequestID: "req-fail", Payload: []byte(`{"Op":"fail"}`)})
		if err != nil {
			t.Fatalf("Invoke: %v", err)
		}
		if !resp.FunctionError || resp.ErrorType != "errorString" {
			t.Fatalf("got %+v, want function error errorString", resp)
		}
		if string(resp.Payload) != `{"errorMessage":"boom","errorType":"errorString"}` {
			t.Fatalf("payload = %s", resp.Payload)
		}
	})

	t.Run("the runtime parks again after each invoke", func(t *testing.T) {
		select {
		case <-s.Parked():
		case <-time.After(10 * time.Second):
			t.Fatal("runtime did not come back to /next")
		}
	})
}
