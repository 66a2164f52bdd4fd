package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// clusterDoc is the part of /healthz `updraft cluster status` shows; its
// field names are those of store.ClusterStatus's JSON.
type clusterDoc struct {
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Cluster *struct {
		Name     string `json:"name"`
		Node     string `json:"node"`
		Leader   string `json:"leader"`
		Size     int    `json:"size"`
		Replicas int    `json:"replicas"`
		Peers    []struct {
			Name     string `json:"name"`
			Self     bool   `json:"self"`
			Leader   bool   `json:"leader"`
			Current  bool   `json:"current"`
			Offline  bool   `json:"offline"`
			Lag      uint64 `json:"lag"`
			LastSeen string `json:"last_seen"`
		} `json:"peers"`
		Routes []struct {
			Name string `json:"name"`
			Addr string `json:"addr"`
			RTT  string `json:"rtt"`
		} `json:"routes"`
	} `json:"cluster"`
}

// clusterCommand is `updraft cluster`, with `status`.
func clusterCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Show the cluster of embedded NATS servers a node belongs to",
		Long: `Commands about the cluster a node's embedded NATS server belongs to
(updraft server --cluster-listen ... --join ...).`,
		Example: `  updraft cluster status --endpoint-url http://127.0.0.1:9321`,
		Args:    noArgs,
	}
	e.bindConnectionFlags(cmd)
	cmd.AddCommand(clusterStatusCommand(e))
	return cmd
}

// clusterStatusCommand is `updraft cluster status`: the cluster section of
// the node's /healthz, which its nats-server's own monitoring fills.
func clusterStatusCommand(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the nodes, the JetStream leader and the routes a node sees",
		Long: `Ask a node (--endpoint-url) for the cluster as its embedded nats-server
sees it: the servers of the JetStream meta group (this node, the leader,
whether each is current, its lag and when it was last heard from), and
this node's routes to the others. A node that is not clustered says so.
With --output json, print the cluster section of /healthz as it is.`,
		Example: `  updraft cluster status --endpoint-url http://10.0.0.1:9321
  updraft cluster status --output json | jq '.peers[] | select(.offline)'`,
		Args: noArgs,
	}
	cmd.Flags().StringVar(&output, "output", "text", "output format: text or json")
	cmd.RunE = e.run(func(cmd *cobra.Command, _ []string) error {
		if output != "text" && output != "json" {
			return fmt.Errorf("--output %q: want text or json", output)
		}
		c, err := e.client()
		if err != nil {
			return err
		}
		var doc clusterDoc
		if _, err := c.Health(cmd.Context(), &doc); err != nil {
			return fmt.Errorf("cluster status: %w", err)
		}
		if doc.Cluster == nil {
			return fmt.Errorf("cluster status: %s is not a member of an embedded cluster (started without --cluster-listen)", c.Endpoint())
		}
		if output == "json" {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "    ")
			if err := enc.Encode(doc.Cluster); err != nil {
				return fmt.Errorf("print result: %w", err)
			}
			return nil
		}
		cl := doc.Cluster
		leader := cl.Leader
		if leader == "" {
			leader = "none (no quorum)"
		}
		fmt.Fprintf(e.stdout, "cluster %s: %d node(s), JetStream leader %s, %d replica(s); node status %s\n",
			cl.Name, cl.Size, leader, cl.Replicas, doc.Status)
		if doc.Reason != "" {
			fmt.Fprintf(e.stdout, "  %s\n", doc.Reason)
		}
		selfLeads := false
		for _, p := range cl.Peers {
			selfLeads = selfLeads || (p.Self && p.Leader)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NODE\tROLE\tSTATE\tLAG\tLAST SEEN")
		for _, p := range cl.Peers {
			role := "follower"
			if p.Leader {
				role = "leader"
			}
			if p.Self {
				role += " (this node)"
			}
			state := "current"
			switch {
			case p.Offline:
				state = "offline"
			case !selfLeads && !p.Self && !p.Leader:
				// Only the leader tracks its followers' progress.
				state = "online"
			case !p.Current:
				state = "catching up"
			}
			seen := p.LastSeen
			if p.Self {
				seen = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", p.Name, role, state, p.Lag, seen)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, "routes:")
		tw = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		for _, r := range cl.Routes {
			fmt.Fprintf(tw, "  %s\t%s\trtt %s\n", r.Name, r.Addr, r.RTT)
		}
		return tw.Flush()
	})
	return cmd
}
