package cli

import "github.com/spf13/cobra"

// invocationCommand is `updraft invocation ...`: asynchronous invocation records.
func invocationCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "invocation", Short: "read asynchronous invocation records", Hidden: true}
	e.bindConnectionFlags(cmd)
	return cmd
}
