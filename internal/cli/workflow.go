package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// sfnTarget is the X-Amz-Target prefix of Step Functions operations.
const sfnTarget = "AWSStepFunctions."

// defaultWorkflowRole is the role a workflow created without --role
// runs as: one tutorials use, which the server's data-plane policy
// covers unless it runs with --unknown-roles refuse.
const defaultWorkflowRole = "arn:aws:iam::000000000000:role/updraft-workflow"

// workflowCommand is `updraft workflow ...`: state machines and their
// executions through the Step Functions API.
func workflowCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "workflow",
		Aliases: []string{"workflows"},
		Short:   "Create, start and inspect workflows (Step Functions state machines)",
		Long: `Workflows are state machines in the Amazon States Language, served by
the Step Functions API (aws stepfunctions works too). These commands name a
state machine by its name and an execution by its ARN, as start prints it.`,
		Example: `  updraft workflow create fan-out --definition examples/fan-out/workflow.json
  updraft workflow start fan-out --input '{"count":100}' --wait 60s
  updraft workflow history arn:aws:states:us-east-1:000000000000:execution:fan-out:NAME
  updraft workflow list fan-out`,
	}
	e.bindConnectionFlags(cmd)
	cmd.AddCommand(workflowCreateCommand(e), workflowStartCommand(e), workflowDescribeCommand(e),
		workflowHistoryCommand(e), workflowListCommand(e))
	return cmd
}

// sfn runs one Step Functions operation.
func (e *env) sfn(ctx context.Context, op string, in, out any) error {
	c, err := e.client()
	if err != nil {
		return err
	}
	return c.CallJSON(ctx, "states", sfnTarget+op, in, out)
}

// machineARN finds the ARN of the state machine called name (an ARN is
// taken as it is).
func (e *env) machineARN(ctx context.Context, name string) (string, error) {
	if strings.HasPrefix(name, "arn:") {
		return name, nil
	}
	in := map[string]any{"maxResults": 1000}
	for {
		var out struct {
			StateMachines []struct {
				StateMachineArn string `json:"stateMachineArn"`
				Name            string `json:"name"`
			} `json:"stateMachines"`
			NextToken string `json:"nextToken"`
		}
		if err := e.sfn(ctx, "ListStateMachines", in, &out); err != nil {
			return "", err
		}
		for _, m := range out.StateMachines {
			if m.Name == name {
				return m.StateMachineArn, nil
			}
		}
		if out.NextToken == "" {
			return "", fmt.Errorf("no workflow called %q (see 'updraft workflow list')", name)
		}
		in["nextToken"] = out.NextToken
	}
}

// oneArg accepts exactly one positional argument, what.
func oneArg(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return fmt.Errorf("missing the %s (see '%s --help')", what, cmd.CommandPath())
		case len(args) > 1:
			return fmt.Errorf("too many arguments %q: want only the %s (see '%s --help')", args[1:], what, cmd.CommandPath())
		}
		return nil
	}
}

func workflowCreateCommand(e *env) *cobra.Command {
	var def, role, typ string
	cmd := &cobra.Command{
		Use:   "create NAME --definition FILE",
		Short: "Create a workflow from a definition file (or update it if it exists)",
		Long: `Create a state machine called NAME from an Amazon States Language
definition (CreateStateMachine); if one of that name exists, its
definition and role are updated (UpdateStateMachine). Prints its ARN. A
bad definition is refused with InvalidDefinition and its diagnostics.`,
		Example: `  updraft workflow create fan-out --definition examples/fan-out/workflow.json
  updraft workflow create nightly --definition - --type EXPRESS < nightly.json`,
		Args: oneArg("workflow NAME"),
	}
	cmd.Flags().StringVar(&def, "definition", "", "the Amazon States Language definition: a file, or - for stdin")
	cmd.Flags().StringVar(&role, "role", defaultWorkflowRole, "the role the workflow's tasks run as")
	cmd.Flags().StringVar(&typ, "type", "STANDARD", "STANDARD or EXPRESS")
	cmd.RunE = e.run(func(cmd *cobra.Command, args []string) error {
		if def == "" {
			return fmt.Errorf("missing --definition FILE (see '%s --help')", cmd.CommandPath())
		}
		var text []byte
		var err error
		if def == "-" {
			text, err = readAllStdin(cmd)
		} else {
			text, err = os.ReadFile(def)
		}
		if err != nil {
			return fmt.Errorf("read the definition: %w", err)
		}
		ctx := cmd.Context()
		var out struct {
			StateMachineArn string `json:"stateMachineArn"`
		}
		err = e.sfn(ctx, "CreateStateMachine", map[string]any{"name": args[0], "definition": string(text), "roleArn": role, "type": typ}, &out)
		if err != nil && strings.Contains(err.Error(), "StateMachineAlreadyExists") {
			arn, aerr := e.machineARN(ctx, args[0])
			if aerr != nil {
				return aerr
			}
			if err := e.sfn(ctx, "UpdateStateMachine", map[string]any{"stateMachineArn": arn, "definition": string(text), "roleArn": role}, nil); err != nil {
				return err
			}
			out.StateMachineArn = arn
		} else if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, out.StateMachineArn)
		return nil
	})
	return cmd
}

func readAllStdin(cmd *cobra.Command) ([]byte, error) {
	return io.ReadAll(io.LimitReader(cmd.InOrStdin(), 2<<20))
}

func workflowStartCommand(e *env) *cobra.Command {
	var input, name string
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "start NAME [--input JSON] [--wait DURATION]",
		Short: "Start an execution; print its ARN, or with --wait its end",
		Long: `Start an execution of the workflow NAME (StartExecution) with --input
as its input. Without --wait it prints the execution's ARN; with --wait
it polls until the execution ends (or the wait runs out) and prints
DescribeExecution's answer: status, input, output, error and cause.`,
		Example: `  updraft workflow start fan-out --input '{"count":200}'
  updraft workflow start fan-out --input @items.json --name run-1 --wait 2m`,
		Args: oneArg("workflow NAME"),
	}
	cmd.Flags().StringVar(&input, "input", "{}", "the execution's input (JSON, or @FILE)")
	cmd.Flags().StringVar(&name, "name", "", "the execution's name (default: a UUID)")
	cmd.Flags().DurationVar(&wait, "wait", 0, "wait up to this long for the execution to end and print its description")
	cmd.RunE = e.run(func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if file, ok := strings.CutPrefix(input, "@"); ok {
			b, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("read the input: %w", err)
			}
			input = string(b)
		}
		arn, err := e.machineARN(ctx, args[0])
		if err != nil {
			return err
		}
		in := map[string]any{"stateMachineArn": arn, "input": input}
		if name != "" {
			in["name"] = name
		}
		var out struct {
			ExecutionArn string `json:"executionArn"`
		}
		if err := e.sfn(ctx, "StartExecution", in, &out); err != nil {
			return err
		}
		if wait <= 0 {
			fmt.Fprintln(e.stdout, out.ExecutionArn)
			return nil
		}
		deadline := time.Now().Add(wait)
		for {
			var d map[string]any
			if err := e.sfn(ctx, "DescribeExecution", map[string]any{"executionArn": out.ExecutionArn}, &d); err != nil {
				return err
			}
			if d["status"] != "RUNNING" || time.Now().After(deadline) {
				return printIndented(e, d)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
	})
	return cmd
}

func printIndented(e *env, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, string(b))
	return err
}

func workflowDescribeCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "describe EXECUTION_ARN",
		Short:   "Print an execution's status, input and output",
		Long:    `Print DescribeExecution's answer for the execution: status, dates, input, output, error and cause.`,
		Example: `  updraft workflow describe arn:aws:states:us-east-1:000000000000:execution:fan-out:run-1`,
		Args:    oneArg("EXECUTION_ARN"),
	}
	cmd.RunE = e.run(func(cmd *cobra.Command, args []string) error {
		var d map[string]any
		if err := e.sfn(cmd.Context(), "DescribeExecution", map[string]any{"executionArn": args[0]}, &d); err != nil {
			return err
		}
		return printIndented(e, d)
	})
	return cmd
}

// historyEvent is one event of GetExecutionHistory, with its details
// member whatever its name.
type historyEvent map[string]any

func workflowHistoryCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "history EXECUTION_ARN",
		Short: "Print an execution's history as a table",
		Long: `Print every event of the execution (GetExecutionHistory, all pages) as a
table: event id, time since the start, type, the state (and Map
iteration) it belongs to, and its main detail (error, output, input or
resource).`,
		Example: `  updraft workflow history arn:aws:states:us-east-1:000000000000:execution:fan-out:run-1`,
		Args:    oneArg("EXECUTION_ARN"),
	}
	cmd.RunE = e.run(func(cmd *cobra.Command, args []string) error {
		var events []historyEvent
		in := map[string]any{"executionArn": args[0], "maxResults": 1000}
		for {
			var out struct {
				Events    []historyEvent `json:"events"`
				NextToken string         `json:"nextToken"`
			}
			if err := e.sfn(cmd.Context(), "GetExecutionHistory", in, &out); err != nil {
				return err
			}
			events = append(events, out.Events...)
			if out.NextToken == "" {
				break
			}
			in["nextToken"] = out.NextToken
		}
		return writeHistory(e, events)
	})
	return cmd
}

// writeHistory prints events as ID, elapsed time, type, state and detail.
func writeHistory(e *env, events []historyEvent) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tELAPSED\tTYPE\tSTEP\tDETAIL")
	var start float64
	for i, ev := range events {
		ts, _ := ev["timestamp"].(float64)
		if i == 0 {
			start = ts
		}
		step, detail := "", ""
		for k, v := range ev {
			if !strings.HasSuffix(k, "EventDetails") {
				continue
			}
			d, _ := v.(map[string]any)
			if n, ok := d["name"].(string); ok {
				step = n
			}
			if idx, ok := d["index"].(float64); ok {
				step += fmt.Sprintf("[%d]", int(idx))
			}
			for _, f := range []string{"error", "output", "input", "resource", "length"} {
				if x, ok := d[f]; ok {
					detail = fmt.Sprintf("%s=%v", f, x)
					if errCause, ok := d["cause"].(string); ok && f == "error" {
						detail += " cause=" + errCause
					}
					break
				}
			}
		}
		if len(detail) > 80 {
			detail = detail[:77] + "..."
		}
		id, _ := ev["id"].(float64)
		fmt.Fprintf(tw, "%d\t%.3fs\t%v\t%s\t%s\n", int(id), ts-start, ev["type"], step, detail)
	}
	return tw.Flush()
}

func workflowListCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list [NAME]",
		Short: "List workflows, or the executions of one",
		Long:  `Without NAME, list the state machines; with NAME, list that workflow's executions, newest first, with status and duration.`,
		Example: `  updraft workflow list
  updraft workflow list fan-out`,
	}
	cmd.RunE = e.run(func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		if len(args) == 0 {
			var out struct {
				StateMachines []struct {
					Name         string  `json:"name"`
					Type         string  `json:"type"`
					CreationDate float64 `json:"creationDate"`
				} `json:"stateMachines"`
			}
			if err := e.sfn(ctx, "ListStateMachines", map[string]any{"maxResults": 1000}, &out); err != nil {
				return err
			}
			fmt.Fprintln(tw, "NAME\tTYPE\tCREATED")
			for _, m := range out.StateMachines {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", m.Name, m.Type, time.UnixMilli(int64(m.CreationDate*1000)).UTC().Format(time.RFC3339))
			}
			return tw.Flush()
		}
		arn, err := e.machineARN(ctx, args[0])
		if err != nil {
			return err
		}
		var out struct {
			Executions []struct {
				Name      string  `json:"name"`
				Status    string  `json:"status"`
				StartDate float64 `json:"startDate"`
				StopDate  float64 `json:"stopDate"`
				ARN       string  `json:"executionArn"`
			} `json:"executions"`
		}
		if err := e.sfn(ctx, "ListExecutions", map[string]any{"stateMachineArn": arn, "maxResults": 1000}, &out); err != nil {
			return err
		}
		fmt.Fprintln(tw, "NAME\tSTATUS\tSTARTED\tDURATION\tARN")
		for _, x := range out.Executions {
			d := "-"
			if x.StopDate > 0 {
				d = fmt.Sprintf("%.3fs", x.StopDate-x.StartDate)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", x.Name, x.Status, time.UnixMilli(int64(x.StartDate*1000)).UTC().Format(time.RFC3339), d, x.ARN)
		}
		return tw.Flush()
	})
	return cmd
}
