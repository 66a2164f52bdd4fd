// Command updraft is a self-hosted, AWS-Lambda-compatible function
// platform: `updraft server` runs it, and the other subcommands are its
// command-line client.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/updraft/updraft/internal/cli"
	"github.com/updraft/updraft/internal/config"
	"github.com/updraft/updraft/internal/daemon"
	"github.com/updraft/updraft/internal/sandbox"
)

func main() {
	// A sandboxed environment re-executes this binary as its init; that
	// path never returns.
	sandbox.RunInitIfRequested()
	os.Exit(cli.Execute(context.Background(), newRoot(), os.Stderr))
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:          "updraft",
		Short:        "A self-hosted, AWS-Lambda-compatible function platform",
		SilenceUsage: true,
	}
	root.AddCommand(newServerCommand())
	root.AddCommand(cli.Commands(os.Stdout, os.Stderr)...)
	return root
}

func newServerCommand() *cobra.Command {
	cfg := config.Default()
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the updraft server (Lambda API, execution environments, embedded JetStream)",
		Long: `Run the updraft server.

With no flags it listens on 127.0.0.1:9321, keeps its state in an embedded
NATS JetStream under --data-dir, and requires SigV4-signed requests with
credentials it generates on first start (printed as export lines).

Point the aws CLI at it with --endpoint-url, or use the updraft client
subcommands (function, invoke, logs).`,
		Example: `  updraft server
  updraft server --listen 127.0.0.1:0 --auth none --data-dir /tmp/updraft
  updraft server --nats-listen 127.0.0.1:4222        # let another node join; prints the join command
  updraft server --nats-url nats://127.0.0.1:4222 --nats-creds ~/.local/share/updraft/nats.creds --listen 127.0.0.1:9322
  updraft server --nats-listen 0.0.0.0:4222          # off loopback: TLS from a generated CA
  updraft server --nats-url tls://node1:4222 --nats-creds nats.creds --nats-ca nats-ca.pem
  updraft server --cluster-listen 10.0.0.1:6222 --join 10.0.0.1:6222,10.0.0.2:6222,10.0.0.3:6222   # one of three clustered nodes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			logger := newLogger(cfg.Log)
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := daemon.Run(ctx, cfg, logger, os.Stdout); err != nil {
				return err
			}
			return nil
		},
	}
	config.BindServerFlags(cmd.Flags(), &cfg)
	return cmd
}

func newLogger(c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
