package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/spf13/cobra"
)

// invokeFlags are the flags of `updraft invoke`.
type invokeFlags struct {
	payload   string
	qualifier string
	log       bool
	// async sends InvocationType Event and prints the request id; with
	// wait it then follows the invocation record until it is final and
	// prints the result as a synchronous invoke would.
	async bool
	wait  bool
}

func invokeCommand(e *env) *cobra.Command {
	var f invokeFlags
	cmd := &cobra.Command{
		Use:   "invoke NAME [--payload JSON|@FILE]",
		Short: "Invoke a function and print its response",
		Long: `Invoke a function synchronously (RequestResponse) and print the response
payload to stdout, followed by a newline when it has none.

--payload is a JSON document, @FILE to read one from a file, or @- to read
it from standard input. It is checked before anything is sent: Lambda
accepts only JSON events.

With --log, the last 4 KB of the invocation's log (START ... REPORT lines,
Lambda's LogType Tail) is printed to stderr.

With --async, the event is queued (InvocationType Event, answered 202) and
its request id is printed; with --wait as well, the command then follows
the invocation record (see 'updraft invocation get') until the function has
run, retries included, and prints its result or fails like a synchronous
invoke.

If the function itself failed (the response has X-Amz-Function-Error), the
error payload is still printed to stdout, then the command exits with
status 1 and a message naming the error type. A failure of the platform
(function not found, throttled, ...) prints "updraft: <Type>: <Message>".
An invoke is sent once: the SDK's automatic retries are off for it.`,
		Example: `  updraft invoke hello
  updraft invoke hello --payload '{"name":"world"}' --log
  updraft invoke hello --payload @event.json --qualifier live
  echo '{"n":1}' | updraft invoke hello --payload @-
  updraft invoke hello --async --wait`,
		Args: nameArg,
	}
	e.bindConnectionFlags(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.payload, "payload", "", "event as JSON, @FILE, or @- for standard input (default: no payload)")
	fl.StringVar(&f.qualifier, "qualifier", "", "version number or alias to invoke (default $LATEST)")
	fl.BoolVar(&f.log, "log", false, "print the tail of the invocation's log to stderr")
	fl.BoolVar(&f.async, "async", false, "queue the event (InvocationType Event) and print its request id")
	fl.BoolVar(&f.wait, "wait", false, "with --async: wait for the result and print it")
	cmd.RunE = e.run(func(cmd *cobra.Command, args []string) error {
		return e.runInvoke(cmd, args[0], f)
	})
	return cmd
}

// runInvoke performs one invocation, synchronous or (--async) queued.
func (e *env) runInvoke(cmd *cobra.Command, name string, f invokeFlags) error {
	switch {
	case f.wait && !f.async:
		return errors.New("--wait follows a queued invocation: use it with --async")
	case f.log && f.async:
		return errors.New("--log shows the log of a synchronous invocation; read a queued one's with 'updraft logs'")
	}
	payload, err := readPayload(f.payload, cmd.InOrStdin())
	if err != nil {
		return err
	}
	if f.async {
		return e.runInvokeAsync(cmd, name, payload, f)
	}
	c, err := e.client()
	if err != nil {
		return err
	}
	in := &lambda.InvokeInput{
		FunctionName:   aws.String(name),
		InvocationType: types.InvocationTypeRequestResponse,
		Payload:        payload,
	}
	if f.qualifier != "" {
		in.Qualifier = aws.String(f.qualifier)
	}
	if f.log {
		in.LogType = types.LogTypeTail
	}
	out, err := c.Invoke(cmd.Context(), in)
	if err != nil {
		return err
	}
	if f.log && aws.ToString(out.LogResult) != "" {
		tail, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
		if err != nil {
			return fmt.Errorf("invoke %s: decode X-Amz-Log-Result: %w", name, err)
		}
		if err := writeLine(e.stderr, tail); err != nil {
			return err
		}
	}
	if err := writeLine(e.stdout, out.Payload); err != nil {
		return err
	}
	if out.FunctionError != nil {
		return newFunctionError(name, aws.ToString(out.FunctionError), out.Payload)
	}
	return nil
}

// writeLine writes b, adding a newline when b is not empty and does not
// end with one, so a terminal prompt does not run into the output.
func writeLine(w io.Writer, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if b[len(b)-1] != '\n' {
		if _, err := io.WriteString(w, "\n"); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	return nil
}

// errPayloadNotJSON is wrapped by readPayload when the payload does not
// parse, so callers and tests can tell that apart from an unreadable file.
var errPayloadNotJSON = errors.New("payload is not valid JSON")

// readPayload resolves --payload: "" is no payload, "@-" reads stdin,
// "@FILE" reads FILE, anything else is the payload itself. The result must
// be JSON; the error says where it stops being JSON.
func readPayload(arg string, stdin io.Reader) ([]byte, error) {
	if arg == "" {
		return nil, nil
	}
	var (
		data   []byte
		source = "--payload"
		err    error
	)
	switch {
	case arg == "@-":
		source = "--payload @- (standard input)"
		data, err = io.ReadAll(stdin)
	case strings.HasPrefix(arg, "@"):
		source = "--payload " + arg
		data, err = os.ReadFile(arg[1:])
	default:
		data = []byte(arg)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if err := checkJSON(data); err != nil {
		return nil, fmt.Errorf("%s: %w: %w; give a JSON document such as '{\"key\":\"value\"}', or @FILE to read one", source, errPayloadNotJSON, err)
	}
	return data, nil
}

// checkJSON reports why data is not exactly one JSON value, with the byte
// offset where parsing stopped.
func checkJSON(data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("it is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return fmt.Errorf("%w (at byte %d)", err, syn.Offset)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return errors.New("it ends in the middle of a value")
		}
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("there is more after the first value (at byte %d)", dec.InputOffset())
	}
	return nil
}

// functionError is an invocation whose function failed: the invoke
// succeeded, and the response carried X-Amz-Function-Error (Unhandled, or
// Handled for old runtimes) with the runtime's error payload.
type functionError struct {
	function  string
	kind      string // the X-Amz-Function-Error header: Unhandled or Handled
	errorType string // errorType from the payload, if any
	message   string // errorMessage from the payload, first line, shortened
}

func newFunctionError(function, kind string, payload []byte) *functionError {
	fe := &functionError{function: function, kind: kind}
	var body struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(payload, &body) == nil {
		fe.errorType = body.ErrorType
		msg, _, _ := strings.Cut(strings.TrimSpace(body.ErrorMessage), "\n")
		if r := []rune(msg); len(r) > 200 {
			msg = string(r[:200]) + "..."
		}
		fe.message = msg
	}
	return fe
}

// Error reads like "function hello failed (Unhandled): ValueError: boom".
func (fe *functionError) Error() string {
	s := fmt.Sprintf("function %s failed (%s)", fe.function, fe.kind)
	if fe.errorType != "" {
		s += ": " + fe.errorType
	}
	if fe.message != "" {
		s += ": " + fe.message
	}
	return s
}
