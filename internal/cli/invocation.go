package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/spf13/cobra"
)

// maxServerWait is the longest wait one record read asks the server for.
const maxServerWait = 20 * time.Second

// invocationRecord is the part of an invocation record the CLI reads.
type invocationRecord struct {
	RequestID     string          `json:"requestId"`
	FunctionName  string          `json:"functionName"`
	Status        string          `json:"status"`
	Result        json.RawMessage `json:"result"`
	FunctionError string          `json:"functionError"`
	Error         *struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	} `json:"error"`
}

func (r *invocationRecord) final() bool { return r.Status == "SUCCEEDED" || r.Status == "FAILED" }

// invocationCommand is `updraft invocation get ID`: asynchronous
// invocation records.
func invocationCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "invocation",
		Short: "Read the records of asynchronous invocations",
		Long: `Every asynchronous (Event) invocation has a record, kept for the server's
--record-ttl: its status (QUEUED, RUNNING, SUCCEEDED or FAILED), attempts,
timestamps, and the function's result or error.`,
		Example: `  id=$(updraft invoke hello --async)
  updraft invocation get "$id" --wait 1m`,
	}
	e.bindConnectionFlags(cmd)
	var wait time.Duration
	get := &cobra.Command{
		Use:   "get REQUEST_ID",
		Short: "Print an asynchronous invocation's record as JSON",
		Long: `Print the record of an asynchronous invocation as JSON. With --wait, wait
up to that long for it to become final (SUCCEEDED or FAILED) first.`,
		Example: `  updraft invocation get 6f1d2e8a-0b1c-4d2e-9f3a-1b2c3d4e5f60
  updraft invocation get 6f1d2e8a-0b1c-4d2e-9f3a-1b2c3d4e5f60 --wait 1m`,
		Args: cobra.ExactArgs(1),
	}
	get.Flags().DurationVar(&wait, "wait", 0, "wait up to this long for the invocation to finish")
	get.RunE = e.run(func(cmd *cobra.Command, args []string) error {
		raw, _, err := e.readRecord(cmd.Context(), args[0], wait)
		if err != nil {
			return err
		}
		var out bytes.Buffer
		if err := json.Indent(&out, raw, "", "  "); err != nil {
			out.Reset()
			out.Write(raw)
		}
		return writeLine(e.stdout, out.Bytes())
	})
	cmd.AddCommand(get)
	return cmd
}

// readRecord reads a record, waiting up to wait for it to be final (in
// server-side long polls of at most maxServerWait each).
func (e *env) readRecord(ctx context.Context, id string, wait time.Duration) ([]byte, *invocationRecord, error) {
	c, err := e.client()
	if err != nil {
		return nil, nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		step := min(time.Until(deadline), maxServerWait)
		path := "/updraft/v1/invocations/" + url.PathEscape(id)
		if step > 0 {
			path += fmt.Sprintf("?wait=%.3f", step.Seconds())
		}
		resp, err := c.Do(ctx, "GET", path, nil)
		if err != nil {
			return nil, nil, err
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("read record %s: %w", id, err)
		}
		rec := new(invocationRecord)
		if err := json.Unmarshal(raw, rec); err != nil {
			return nil, nil, fmt.Errorf("record %s: %w", id, err)
		}
		if rec.final() || step <= 0 || time.Now().After(deadline) {
			return raw, rec, nil
		}
	}
}

// runInvokeAsync queues an Event invocation and prints its request id;
// with --wait it follows the record and prints the outcome.
func (e *env) runInvokeAsync(cmd *cobra.Command, name string, payload []byte, f invokeFlags) error {
	c, err := e.client()
	if err != nil {
		return err
	}
	in := &lambda.InvokeInput{
		FunctionName:   aws.String(name),
		InvocationType: types.InvocationTypeEvent,
		Payload:        payload,
	}
	if f.qualifier != "" {
		in.Qualifier = aws.String(f.qualifier)
	}
	out, err := c.Invoke(cmd.Context(), in)
	if err != nil {
		return err
	}
	id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	if !f.wait {
		return writeLine(e.stdout, []byte(id))
	}
	fmt.Fprintf(e.stderr, "queued %s; waiting for it to run\n", id)
	for {
		_, rec, err := e.readRecord(cmd.Context(), id, maxServerWait)
		if err != nil {
			return err
		}
		if !rec.final() {
			continue
		}
		switch {
		case rec.Status == "SUCCEEDED":
			return writeLine(e.stdout, rec.Result)
		case rec.FunctionError != "":
			msg := []byte("{}")
			if rec.Error != nil {
				msg, _ = json.Marshal(map[string]string{"errorType": rec.Error.ErrorType, "errorMessage": rec.Error.ErrorMessage})
			}
			if err := writeLine(e.stdout, msg); err != nil {
				return err
			}
			return newFunctionError(name, rec.FunctionError, msg)
		case rec.Error != nil:
			return fmt.Errorf("invocation %s failed: %s: %s", id, rec.Error.ErrorType, rec.Error.ErrorMessage)
		default:
			return fmt.Errorf("invocation %s failed", id)
		}
	}
}
