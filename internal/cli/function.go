package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/spf13/cobra"

	"github.com/updraft/updraft/internal/client"
	"github.com/updraft/updraft/internal/lambdaapi"
)

// DefaultRole is the execution role sent when --role is not given. Lambda
// requires one; updraft accepts any well-formed ARN and does not use it.
const DefaultRole = "arn:aws:iam::000000000000:role/updraft"

// Defaults of `function create`, the same as Lambda's own.
const (
	defaultRuntime = "provided.al2023"
	defaultHandler = "bootstrap"
	defaultMemory  = 128
	defaultTimeout = 3
)

// updateWait bounds how long `function update` waits for one update to
// finish before starting the next ("Lambda function states": a second
// update while LastUpdateStatus is InProgress fails with
// ResourceConflictException).
const (
	updateWait     = time.Minute
	updateWaitPoll = 500 * time.Millisecond
)

func functionCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "function",
		Aliases: []string{"functions", "fn"},
		Short:   "Create, update, show, list and delete functions",
		Long: `Manage the functions of an updraft server.

The subcommands call the server's Lambda API (the same calls as
"aws lambda create-function" and friends), signed with the credentials
from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or, when those are not set,
from the credentials.json the server keeps in its data directory.`,
		Example: `  updraft function create hello --code ./build
  updraft function list
  updraft function get hello
  updraft function update hello --code ./build --memory 256
  updraft function delete hello`,
	}
	e.bindConnectionFlags(cmd)
	cmd.AddCommand(
		functionCreateCommand(e),
		functionUpdateCommand(e),
		functionGetCommand(e),
		functionListCommand(e),
		functionDeleteCommand(e),
	)
	return cmd
}

// functionFlags are the configuration flags shared by create and update.
type functionFlags struct {
	code        string
	runtime     string
	handler     string
	role        string
	description string
	memory      int32
	timeout     int32
	env         []string
	publish     bool
}

func (f *functionFlags) bind(cmd *cobra.Command, create bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.code, "code", "", "the code: a directory (zipped on the fly, file modes kept; Go sources without a bootstrap are built first), a .zip file (sent as is), or a single file such as a bootstrap binary")
	fl.StringVar(&f.runtime, "runtime", defaultRuntime, "runtime identifier: provided.al2023, provided.al2, python3.x, nodejs2x")
	fl.StringVar(&f.handler, "handler", defaultHandler, "handler: bootstrap for provided runtimes, FILE.FUNCTION (app.handler) for python and node")
	fl.StringVar(&f.role, "role", DefaultRole, "execution role ARN (accepted for compatibility, not used)")
	fl.StringVar(&f.description, "description", "", "description of the function")
	fl.Int32Var(&f.memory, "memory", defaultMemory, "memory in MB, 128 to 10240")
	fl.Int32Var(&f.timeout, "timeout", defaultTimeout, "timeout in seconds, 1 to 900")
	fl.StringArrayVar(&f.env, "env", nil, "environment variable KEY=VALUE; repeat for more")
	if create {
		fl.BoolVar(&f.publish, "publish", false, "also publish version 1 of the function")
	} else {
		fl.BoolVar(&f.publish, "publish", false, "publish a new version with the new code (needs --code)")
		fl.Lookup("env").Usage = "environment variable KEY=VALUE, repeat for more; replaces all of the function's variables, as Lambda does"
	}
}

// parseEnv turns KEY=VALUE arguments into a map; a later KEY wins.
func parseEnv(kvs []string) (map[string]string, error) {
	vars := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--env %q: want KEY=VALUE", kv)
		}
		vars[k] = v
	}
	return vars, nil
}

func functionCreateCommand(e *env) *cobra.Command {
	var f functionFlags
	cmd := &cobra.Command{
		Use:   "create NAME --code DIR|ZIP",
		Short: "Create a function from a directory or a zip file",
		Long: `Create a function and print its configuration as JSON.

--code may be a directory, which is zipped in memory with paths relative to
it, in a fixed order and with file modes kept (a provided runtime's
bootstrap must be executable); a .zip file, sent as it is; or any other
single file, zipped on its own under its base name.

The runtime defaults to provided.al2023 with handler "bootstrap". A
directory of Go sources without a bootstrap (a main package using
github.com/aws/aws-lambda-go) is built first with the go command
(GOOS=linux, CGO_ENABLED=0, output named bootstrap) and the binary is added
to the zip. For python and node runtimes give --handler too.`,
		Example: `  # a Go function from its sources (built with go build) or from a build directory
  updraft function create hello --code examples/hello-go
  GOOS=linux go build -o build/bootstrap . && updraft function create hello --code ./build

  # a Python function with two environment variables
  updraft function create greet --runtime python3.12 --handler app.handler --code ./src \
      --env STAGE=dev --env GREETING=hi --memory 256 --timeout 10`,
		Args: nameArg,
	}
	f.bind(cmd, true)
	_ = cmd.MarkFlagRequired("code") // the flag exists: the error is impossible
	cmd.RunE = e.run(func(cmd *cobra.Command, args []string) error {
		if !strings.HasPrefix(f.runtime, "provided") && !cmd.Flags().Changed("handler") {
			return fmt.Errorf("--handler is required for runtime %s (for example app.handler)", f.runtime)
		}
		vars, err := parseEnv(f.env)
		if err != nil {
			return err
		}
		code, err := e.buildCode(cmd.Context(), f.code, f.runtime)
		if err != nil {
			return err
		}
		if w := bootstrapWarning(code, f.runtime); w != "" {
			fmt.Fprintln(e.stderr, w)
		}
		c, err := e.client()
		if err != nil {
			return err
		}
		in := &lambda.CreateFunctionInput{
			FunctionName: aws.String(args[0]),
			Runtime:      types.Runtime(f.runtime),
			Handler:      aws.String(f.handler),
			Role:         aws.String(f.role),
			Code:         &types.FunctionCode{ZipFile: code},
			MemorySize:   aws.Int32(f.memory),
			Timeout:      aws.Int32(f.timeout),
			Publish:      f.publish,
			PackageType:  types.PackageTypeZip,
		}
		if f.description != "" {
			in.Description = aws.String(f.description)
		}
		if len(vars) > 0 {
			in.Environment = &types.Environment{Variables: vars}
		}
		out, err := c.Lambda.CreateFunction(cmd.Context(), in)
		if err != nil {
			return fmt.Errorf("create function %s: %w", args[0], err)
		}
		return printWire(e.stdout, out, &lambdaapi.FunctionConfiguration{})
	})
	return cmd
}

func functionUpdateCommand(e *env) *cobra.Command {
	var f functionFlags
	cmd := &cobra.Command{
		Use:   "update NAME [--code DIR|ZIP] [flags]",
		Short: "Update a function's code and/or configuration",
		Long: `Update a function and print its new configuration as JSON.

Only the flags given are changed. Configuration flags (--memory, --timeout,
--env, --handler, --runtime, --role, --description) are applied with
UpdateFunctionConfiguration, then --code with UpdateFunctionCode, waiting
in between while the server reports the first update as in progress.
--env replaces the whole set of environment variables, as Lambda does.`,
		Example: `  updraft function update hello --code ./build
  updraft function update hello --memory 512 --timeout 30
  updraft function update hello --env STAGE=prod --env DEBUG=0
  updraft function update hello --code ./build --publish`,
		Args: nameArg,
	}
	f.bind(cmd, false)
	cmd.RunE = e.run(func(cmd *cobra.Command, args []string) error {
		name := args[0]
		changed := cmd.Flags().Changed
		if f.publish && !changed("code") {
			return fmt.Errorf("--publish needs --code: it publishes a version with the new code")
		}
		cfg := &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name)}
		configChanged := false
		set := func(flag string, apply func()) {
			if changed(flag) {
				apply()
				configChanged = true
			}
		}
		set("runtime", func() { cfg.Runtime = types.Runtime(f.runtime) })
		set("handler", func() { cfg.Handler = aws.String(f.handler) })
		set("role", func() { cfg.Role = aws.String(f.role) })
		set("description", func() { cfg.Description = aws.String(f.description) })
		set("memory", func() { cfg.MemorySize = aws.Int32(f.memory) })
		set("timeout", func() { cfg.Timeout = aws.Int32(f.timeout) })
		if changed("env") {
			vars, err := parseEnv(f.env)
			if err != nil {
				return err
			}
			cfg.Environment = &types.Environment{Variables: vars}
			configChanged = true
		}
		if !configChanged && !changed("code") {
			return fmt.Errorf("nothing to update: give --code or a configuration flag (see --help)")
		}
		var code []byte
		if changed("code") {
			var err error
			rt := "" // unknown unless changed: build Go sources for any runtime
			if changed("runtime") {
				rt = f.runtime
			}
			if code, err = e.buildCode(cmd.Context(), f.code, rt); err != nil {
				return err
			}
		}
		c, err := e.client()
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		var last any
		if configChanged {
			out, err := c.Lambda.UpdateFunctionConfiguration(ctx, cfg)
			if err != nil {
				return fmt.Errorf("update configuration of %s: %w", name, err)
			}
			last = out
			if code != nil && out.LastUpdateStatus == types.LastUpdateStatusInProgress {
				if err := waitUpdated(ctx, c, name); err != nil {
					return err
				}
			}
		}
		if code != nil {
			out, err := c.Lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{
				FunctionName: aws.String(name),
				ZipFile:      code,
				Publish:      f.publish,
			})
			if err != nil {
				return fmt.Errorf("update code of %s: %w", name, err)
			}
			last = out
		}
		return printWire(e.stdout, last, &lambdaapi.FunctionConfiguration{})
	})
	return cmd
}

// waitUpdated polls the function until its last update is no longer in
// progress, like `aws lambda wait function-updated-v2`.
func waitUpdated(ctx context.Context, c *client.Client, name string) error {
	ctx, cancel := context.WithTimeout(ctx, updateWait)
	defer cancel()
	t := time.NewTicker(updateWaitPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the update of %s: %w", name, ctx.Err())
		case <-t.C:
		}
		out, err := c.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("wait for the update of %s: %w", name, err)
		}
		switch out.LastUpdateStatus {
		case types.LastUpdateStatusInProgress:
			continue
		case types.LastUpdateStatusFailed:
			return fmt.Errorf("update of %s failed: %s", name, aws.ToString(out.LastUpdateStatusReason))
		default:
			return nil
		}
	}
}

func functionGetCommand(e *env) *cobra.Command {
	var qualifier string
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "Show a function's configuration and code location",
		Long: `Print a function as JSON, in the shape of "aws lambda get-function":
{"Configuration": {...}, "Code": {...}, "Tags": {...}}.`,
		Example: `  updraft function get hello
  updraft function get hello --qualifier 3`,
		Args: nameArg,
	}
	cmd.Flags().StringVar(&qualifier, "qualifier", "", "version number or alias (default $LATEST)")
	cmd.RunE = e.run(func(cmd *cobra.Command, args []string) error {
		c, err := e.client()
		if err != nil {
			return err
		}
		in := &lambda.GetFunctionInput{FunctionName: aws.String(args[0])}
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
		out, err := c.Lambda.GetFunction(cmd.Context(), in)
		if err != nil {
			return fmt.Errorf("get function %s: %w", args[0], err)
		}
		return printWire(e.stdout, out, &lambdaapi.GetFunctionResponse{})
	})
	return cmd
}

func functionListCommand(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List functions",
		Long: `List every function (all pages) as a table: name, runtime, memory in MB,
timeout in seconds, last modified. With --json, print
{"Functions": [...]} as "aws lambda list-functions" does.`,
		Example: `  updraft function list
  updraft function list --json | jq -r '.Functions[].FunctionName'`,
		Args: noArgs,
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	cmd.RunE = e.run(func(cmd *cobra.Command, _ []string) error {
		c, err := e.client()
		if err != nil {
			return err
		}
		fns := []types.FunctionConfiguration{} // never null in --json output
		p := lambda.NewListFunctionsPaginator(c.Lambda, &lambda.ListFunctionsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(cmd.Context())
			if err != nil {
				return fmt.Errorf("list functions: %w", err)
			}
			fns = append(fns, page.Functions...)
		}
		if asJSON {
			return printWire(e.stdout, struct{ Functions []types.FunctionConfiguration }{fns},
				&lambdaapi.ListFunctionsResponse{Functions: []lambdaapi.FunctionConfiguration{}})
		}
		sort.SliceStable(fns, func(i, j int) bool { return aws.ToString(fns[i].FunctionName) < aws.ToString(fns[j].FunctionName) })
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tRUNTIME\tMEMORY\tTIMEOUT\tLAST MODIFIED")
		for _, fn := range fns {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", aws.ToString(fn.FunctionName), fn.Runtime,
				aws.ToInt32(fn.MemorySize), aws.ToInt32(fn.Timeout), aws.ToString(fn.LastModified))
		}
		return tw.Flush()
	})
	return cmd
}

func functionDeleteCommand(e *env) *cobra.Command {
	var qualifier string
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a function, or one of its versions",
		Long: `Delete a function with all its versions and aliases, or, with --qualifier,
only that version. Prints a confirmation to stderr and nothing to stdout.`,
		Example: `  updraft function delete hello
  updraft function delete hello --qualifier 2`,
		Args: nameArg,
	}
	cmd.Flags().StringVar(&qualifier, "qualifier", "", "delete only this version")
	cmd.RunE = e.run(func(cmd *cobra.Command, args []string) error {
		c, err := e.client()
		if err != nil {
			return err
		}
		in := &lambda.DeleteFunctionInput{FunctionName: aws.String(args[0])}
		what := "function " + args[0]
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
			what += " version " + qualifier
		}
		if _, err := c.Lambda.DeleteFunction(cmd.Context(), in); err != nil {
			return fmt.Errorf("delete %s: %w", what, err)
		}
		fmt.Fprintf(e.stderr, "deleted %s\n", what)
		return nil
	})
	return cmd
}
