package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// queueMessage is one message of POST /updraft/v1/queues/{name}/receive,
// in SQS ReceiveMessage's shape; `queue receive` prints it as one JSON line.
type queueMessage struct {
	MessageID         string                    `json:"MessageId"`
	ReceiptHandle     string                    `json:"ReceiptHandle,omitempty"`
	MD5OfBody         string                    `json:"MD5OfBody,omitempty"`
	Body              string                    `json:"Body"`
	Attributes        map[string]string         `json:"Attributes,omitempty"`
	MessageAttributes map[string]queueAttribute `json:"MessageAttributes,omitempty"`
}

// queueAttribute is an SQS message attribute.
type queueAttribute struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue,omitempty"`
}

// queueInfo is one queue of GET /updraft/v1/queues.
type queueInfo struct {
	Name                        string `json:"Name"`
	Arn                         string `json:"Arn"`
	ApproximateNumberOfMessages uint64 `json:"ApproximateNumberOfMessages"`
}

// queueCommand is `updraft queue ...`: the built-in queues.
func queueCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "queue",
		Aliases: []string{"queues"},
		Short:   "Send, receive and list messages of the built-in queues",
		Long: `Read and write updraft's built-in queues: the SQS-style queues
(arn:aws:sqs:REGION:ACCOUNT:NAME) that asynchronous invocation uses for
dead-letter messages and destination records.

A queue comes into being with its first message. Receiving a message
deletes it from the queue.`,
		Example: `  updraft queue list
  updraft queue receive my-dlq --max 10 --wait 20s
  updraft queue send my-queue '{"hello":"world"}' --attribute origin=cli`,
	}
	e.bindConnectionFlags(cmd)
	cmd.AddCommand(queueSendCommand(e), queueReceiveCommand(e), queueListCommand(e))
	return cmd
}

// queueNameArg accepts exactly one positional argument, the queue's NAME.
func queueNameArg(cmd *cobra.Command, args []string) error {
	switch {
	case len(args) == 0:
		return fmt.Errorf("missing the queue NAME (see '%s --help')", cmd.CommandPath())
	case len(args) > 1:
		return fmt.Errorf("too many arguments %q: want only the queue NAME (see '%s --help')", args[1:], cmd.CommandPath())
	}
	return nil
}

// queuePath is the escaped path of one queue's operation.
func queuePath(name, op string) string {
	return "/updraft/v1/queues/" + url.PathEscape(name) + "/" + op
}

func queueSendCommand(e *env) *cobra.Command {
	var attrs []string
	cmd := &cobra.Command{
		Use:   "send NAME BODY",
		Short: "Send a message to a queue",
		Long: `Send one message to a queue, creating the queue if this is its first
message, and print {"MessageId","MD5OfMessageBody"} once the message is
stored durably. BODY "-" reads the body from stdin.

--attribute NAME=VALUE adds a String message attribute; NAME:Number=VALUE
adds a Number one. It may be repeated (at most 10 attributes).`,
		Example: `  updraft queue send my-queue 'hello'
  updraft queue send my-queue '{"order":42}' --attribute origin=cli --attribute priority:Number=5
  echo '{"big":"payload"}' | updraft queue send my-queue -`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) < 2:
				return fmt.Errorf("want the queue NAME and the message BODY (see '%s --help')", cmd.CommandPath())
			case len(args) > 2:
				return fmt.Errorf("too many arguments %q: want only NAME and BODY; quote a BODY with spaces (see '%s --help')", args[2:], cmd.CommandPath())
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&attrs, "attribute", "a", nil, "a message attribute NAME=VALUE (String) or NAME:Number=VALUE; repeatable")
	cmd.RunE = e.run(func(cmd *cobra.Command, args []string) error {
		body := args[1]
		if body == "-" {
			b, err := io.ReadAll(cmd.InOrStdin())
			if err != nil {
				return fmt.Errorf("read the body from stdin: %w", err)
			}
			body = string(b)
		}
		return e.runQueueSend(cmd.Context(), args[0], body, attrs)
	})
	return cmd
}

// parseQueueAttributes reads --attribute values.
func parseQueueAttributes(specs []string) (map[string]queueAttribute, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	out := make(map[string]queueAttribute, len(specs))
	for _, spec := range specs {
		key, value, ok := strings.Cut(spec, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("--attribute %q: want NAME=VALUE or NAME:Number=VALUE", spec)
		}
		name, typ := key, "String"
		if n, t, typed := strings.Cut(key, ":"); typed {
			name, typ = n, t
		}
		if typ != "String" && typ != "Number" {
			return nil, fmt.Errorf("--attribute %q: type %q: want String or Number", spec, typ)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("--attribute %q: attribute %s given twice", spec, name)
		}
		out[name] = queueAttribute{DataType: typ, StringValue: value}
	}
	return out, nil
}

func (e *env) runQueueSend(ctx context.Context, name, body string, specs []string) error {
	attrs, err := parseQueueAttributes(specs)
	if err != nil {
		return err
	}
	payload, err := json.Marshal(struct {
		MessageBody       string                    `json:"MessageBody"`
		MessageAttributes map[string]queueAttribute `json:"MessageAttributes,omitempty"`
	}{body, attrs})
	if err != nil {
		return fmt.Errorf("send to %s: %w", name, err)
	}
	c, err := e.client()
	if err != nil {
		return err
	}
	resp, err := c.Do(ctx, http.MethodPost, queuePath(name, "messages"), bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("send to %s: %w", name, err)
	}
	defer resp.Body.Close()
	var out struct {
		MessageID        string `json:"MessageId"`
		MD5OfMessageBody string `json:"MD5OfMessageBody"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return fmt.Errorf("send to %s: read the answer: %w", name, err)
	}
	return queuePrintJSON(e.stdout, out)
}

// queueReceiveFlags are the flags of `queue receive`.
type queueReceiveFlags struct {
	max  int
	wait time.Duration
}

func queueReceiveCommand(e *env) *cobra.Command {
	var f queueReceiveFlags
	cmd := &cobra.Command{
		Use:   "receive NAME",
		Short: "Receive (and delete) messages from a queue",
		Long: `Take up to --max messages (1–10) from a queue and print each as one JSON
object per line:

  {"MessageId","ReceiptHandle","MD5OfBody","Body","Attributes","MessageAttributes"}

as SQS's ReceiveMessage returns them. The messages are deleted from the
queue as they are received: there is nothing to acknowledge afterwards.

With no message waiting, --wait long-polls: it waits up to that long
(at most 20s) for one to arrive. Nothing waiting prints nothing and
succeeds.`,
		Example: `  updraft queue receive my-dlq
  updraft queue receive my-dlq --max 10 --wait 20s | jq -r .Body`,
		Args: queueNameArg,
	}
	fl := cmd.Flags()
	fl.IntVarP(&f.max, "max", "n", 1, "receive at most this many messages (1–10)")
	fl.DurationVarP(&f.wait, "wait", "w", 0, "long-poll up to this long for a first message (0–20s)")
	cmd.RunE = e.run(func(cmd *cobra.Command, args []string) error {
		return e.runQueueReceive(cmd.Context(), args[0], f)
	})
	return cmd
}

// queueReceivePath builds the receive request's path and query.
func queueReceivePath(name string, f queueReceiveFlags) (string, error) {
	if f.max < 1 || f.max > 10 {
		return "", fmt.Errorf("--max %d: want 1 to 10", f.max)
	}
	if f.wait < 0 || f.wait > 20*time.Second {
		return "", fmt.Errorf("--wait %s: want 0s to 20s", f.wait)
	}
	q := url.Values{}
	q.Set("max", strconv.Itoa(f.max))
	if f.wait > 0 {
		q.Set("wait", strconv.FormatFloat(f.wait.Seconds(), 'f', -1, 64))
	}
	return queuePath(name, "receive") + "?" + q.Encode(), nil
}

func (e *env) runQueueReceive(ctx context.Context, name string, f queueReceiveFlags) error {
	path, err := queueReceivePath(name, f)
	if err != nil {
		return err
	}
	c, err := e.client()
	if err != nil {
		return err
	}
	resp, err := c.Do(ctx, http.MethodPost, path, nil)
	if err != nil {
		return fmt.Errorf("receive from %s: %w", name, err)
	}
	defer resp.Body.Close()
	var out struct {
		Messages []queueMessage `json:"Messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return fmt.Errorf("receive from %s: read the answer: %w", name, err)
	}
	for _, m := range out.Messages {
		line, err := queueJSONLine(m)
		if err != nil {
			return fmt.Errorf("receive from %s: %w", name, err)
		}
		if _, err := e.stdout.Write(line); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	return nil
}

func queueListCommand(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the queues",
		Long: `List every built-in queue as a table: name, number of messages waiting,
ARN. With --json, print {"Queues":[{"Name","Arn","ApproximateNumberOfMessages"}]}.`,
		Example: `  updraft queue list
  updraft queue list --json | jq -r '.Queues[].Arn'`,
		Args: noArgs,
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	cmd.RunE = e.run(func(cmd *cobra.Command, _ []string) error {
		c, err := e.client()
		if err != nil {
			return err
		}
		resp, err := c.Do(cmd.Context(), http.MethodGet, "/updraft/v1/queues", nil)
		if err != nil {
			return fmt.Errorf("list queues: %w", err)
		}
		defer resp.Body.Close()
		out := struct {
			Queues []queueInfo `json:"Queues"`
		}{Queues: []queueInfo{}}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return fmt.Errorf("list queues: read the answer: %w", err)
		}
		if out.Queues == nil {
			out.Queues = []queueInfo{}
		}
		if asJSON {
			return queuePrintJSON(e.stdout, out)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tMESSAGES\tARN")
		for _, q := range out.Queues {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", q.Name, q.ApproximateNumberOfMessages, q.Arn)
		}
		return tw.Flush()
	})
	return cmd
}

// queuePrintJSON prints v as JSON indented like the other commands' output.
func queuePrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("print result: %w", err)
	}
	return nil
}

// queueJSONLine encodes v as one line of JSON, newline included.
func queueJSONLine(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
