// Package cli implements updraft's client commands: `updraft function ...`
// to deploy and manage functions, `updraft invoke` to call one (or queue
// it with --async), `updraft invocation get` to read an asynchronous
// invocation's record, `updraft logs` to read a function's output,
// `updraft queue ...` for the built-in queues, `updraft whoami` to
// show whom the credentials stand for and `updraft cluster status` to show
// the nodes of an embedded NATS cluster. They talk to a running
// `updraft server` through internal/client (the AWS SDK's Lambda client
// plus signed requests to updraft's own /updraft/v1 endpoints), exactly as
// the aws CLI would, so anything they do can also be done with `aws
// lambda`. `updraft event ...` needs no server: it prints sample events of
// the common event sources (internal/sampleevents) to invoke with.
//
// cmd/updraft owns the root command; it adds the commands returned by
// [Commands] and runs the tree. A command that fails prints
// "updraft: <message>" to its stderr itself, tells cobra not to print the
// error again, and returns an error that [Reported] recognises, so any
// root works: one that only exits non-zero on error, or one run through
// [Execute], which also prints cobra's own errors (bad flags, missing
// arguments) in the same form and skips the ones already printed. The
// messages are written for people: a service error reads
// "<ExceptionType>: <Message>" as the server sent them, a function error
// names the error type the function raised, and an unreachable server says
// so with the endpoint that was tried.
//
// Nothing here is global: each call of [Commands] builds a fresh command
// tree writing only to the writers it was given.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"

	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"

	"github.com/updraft/updraft/internal/client"
)

// Commands returns the client's top-level commands (function, invoke,
// logs, invocation, queue, event, whoami, cluster); all but event, which needs no server,
// have the persistent flags --endpoint-url, --region and --data-dir.
// Results (JSON, response payloads, log lines, events) and --help go to
// stdout; errors, warnings, build progress and --log tails go to stderr.
func Commands(stdout, stderr io.Writer) []*cobra.Command {
	cmds := []*cobra.Command{
		functionCommand(newEnv(stdout, stderr)),
		invokeCommand(newEnv(stdout, stderr)),
		logsCommand(newEnv(stdout, stderr)),
		invocationCommand(newEnv(stdout, stderr)),
		queueCommand(newEnv(stdout, stderr)),
		workflowCommand(newEnv(stdout, stderr)),
		eventCommand(newEnv(stdout, stderr)),
		whoamiCommand(newEnv(stdout, stderr)),
		clusterCommand(newEnv(stdout, stderr)),
	}
	for _, c := range cmds {
		c.SetOut(stdout)
		c.SetErr(stderr)
		c.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
			return fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())
		})
		silenceUsage(c)
	}
	return cmds
}

// silenceUsage stops cobra from dumping the whole usage text after an
// error; the messages for bad arguments and flags point to --help instead.
func silenceUsage(c *cobra.Command) {
	c.SilenceUsage = true
	for _, sub := range c.Commands() {
		silenceUsage(sub)
	}
}

// nameArg accepts exactly one positional argument, the function's NAME.
func nameArg(cmd *cobra.Command, args []string) error {
	switch {
	case len(args) == 0:
		return fmt.Errorf("missing the function NAME (see '%s --help')", cmd.CommandPath())
	case len(args) > 1:
		return fmt.Errorf("too many arguments %q: want only the function NAME (see '%s --help')", args[1:], cmd.CommandPath())
	}
	return nil
}

// noArgs refuses positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q (see '%s --help')", args, cmd.CommandPath())
	}
	return nil
}

// Execute runs root with ctx and returns the process exit status: 0 on
// success, 1 on any failure (a service error, a function error, bad flags).
// An error not yet printed (see [Reported]) is printed to stderr as
// "updraft: <message>"; root.SilenceErrors is set so that cobra does not
// print it a second time as "Error: ...".
func Execute(ctx context.Context, root *cobra.Command, stderr io.Writer) int {
	root.SilenceErrors = true
	if err := root.ExecuteContext(ctx); err != nil {
		if !Reported(err) {
			fmt.Fprintf(stderr, "updraft: %v\n", err)
		}
		return 1
	}
	return 0
}

// Reported reports whether err was returned by one of these commands after
// it printed the error itself; the caller should then only exit non-zero.
func Reported(err error) bool {
	var r *reportedError
	return errors.As(err, &r)
}

// reportedError marks an error that has already been printed.
type reportedError struct{ err error }

func (r *reportedError) Error() string { return r.err.Error() }
func (r *reportedError) Unwrap() error { return r.err }

// env is what the commands of one top-level command share: the writers,
// the connection flags and the client built from them on first use.
type env struct {
	stdout, stderr io.Writer

	endpointURL string
	region      string
	dataDir     string

	c *client.Client // built by client(); nil until then
}

func newEnv(stdout, stderr io.Writer) *env {
	return &env{stdout: stdout, stderr: stderr}
}

// bindConnectionFlags adds the persistent connection flags to cmd.
func (e *env) bindConnectionFlags(cmd *cobra.Command) {
	pf := cmd.PersistentFlags()
	pf.StringVar(&e.endpointURL, "endpoint-url", "",
		"server URL (env UPDRAFT_ENDPOINT_URL, AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL; else the URL the server wrote to its data dir; else "+client.DefaultEndpointURL+")")
	pf.StringVar(&e.region, "region", "",
		"region to sign requests for (env UPDRAFT_REGION, AWS_REGION, AWS_DEFAULT_REGION; default "+client.DefaultRegion+")")
	pf.StringVar(&e.dataDir, "data-dir", "",
		"the server's data directory, read for its credentials.json (when AWS_ACCESS_KEY_ID is not set) and endpoint (env UPDRAFT_DATA_DIR)")
}

// client returns the client, building it on first use.
func (e *env) client() (*client.Client, error) {
	if e.c != nil {
		return e.c, nil
	}
	c, err := client.New(client.Options{EndpointURL: e.endpointURL, Region: e.region, DataDir: e.dataDir})
	if err != nil {
		return nil, err
	}
	e.c = c
	return c, nil
}

// run adapts a command body to cobra: its error is turned into the
// message described in the package comment, printed to stderr as
// "updraft: <message>", and returned marked as reported, with cobra's own
// printing of it switched off.
func (e *env) run(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := fn(cmd, args)
		if err == nil {
			return nil
		}
		err = e.present(err)
		fmt.Fprintf(e.stderr, "updraft: %v\n", err)
		cmd.SilenceErrors = true
		return &reportedError{err: err}
	}
}

// userError is an error whose text is the final message shown to the
// user; the original error stays reachable with errors.Is/As.
type userError struct {
	msg string
	err error
}

func (u *userError) Error() string { return u.msg }
func (u *userError) Unwrap() error { return u.err }

// present rewrites err for people. Service errors become
// "<ExceptionType>: <Message>" (smithy.APIError covers both the SDK's
// errors and client.APIError); a refused connection names the endpoint.
func (e *env) present(err error) error {
	var fe *functionError
	if errors.As(err, &fe) {
		return err
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		msg := apiErr.ErrorCode()
		if m := apiErr.ErrorMessage(); m != "" {
			msg += ": " + m
		}
		return &userError{msg: msg, err: err}
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		where := "the server"
		if e.c != nil {
			where = e.c.Endpoint()
		}
		return &userError{
			msg: fmt.Sprintf("cannot reach updraft at %s: connection refused (is `updraft server` running? "+
				"otherwise pass --endpoint-url or set UPDRAFT_ENDPOINT_URL)", where),
			err: err,
		}
	}
	if errors.Is(err, context.Canceled) {
		return &userError{msg: "interrupted", err: err}
	}
	return err
}
