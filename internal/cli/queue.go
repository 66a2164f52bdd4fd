package cli

import "github.com/spf13/cobra"

// queueCommand is `updraft queue ...`: the built-in queues.
func queueCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "queue", Short: "read and write updraft's built-in queues", Hidden: true}
	e.bindConnectionFlags(cmd)
	return cmd
}
