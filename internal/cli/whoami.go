package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"
)

// callerIdentity is GetCallerIdentity's answer in the order and names
// `aws sts get-caller-identity` prints.
type callerIdentity struct {
	UserID  string `json:"UserId"`
	Account string `json:"Account"`
	Arn     string `json:"Arn"`
}

// whoamiCommand is `updraft whoami`: STS GetCallerIdentity with the
// credentials the other commands sign with.
func whoamiCommand(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show the identity the client's credentials stand for",
		Long: `Ask the server who the configured credentials are (STS
GetCallerIdentity, as 'aws sts get-caller-identity' does) and print the
account, the user id and the ARN: the account root for the server's own
key, an IAM user for one of its access keys, an assumed role for
temporary credentials. With --output json, print
{"UserId","Account","Arn"}.`,
		Example: `  updraft whoami
  updraft whoami --output json | jq -r .Arn`,
		Args: noArgs,
	}
	cmd.Flags().StringVar(&output, "output", "text", "output format: text or json")
	e.bindConnectionFlags(cmd)
	cmd.RunE = e.run(func(cmd *cobra.Command, _ []string) error {
		if output != "text" && output != "json" {
			return fmt.Errorf("--output %q: want text or json", output)
		}
		c, err := e.client()
		if err != nil {
			return err
		}
		out, err := c.STS.GetCallerIdentity(cmd.Context(), &sts.GetCallerIdentityInput{})
		if err != nil {
			return fmt.Errorf("get caller identity: %w", err)
		}
		id := callerIdentity{UserID: aws.ToString(out.UserId), Account: aws.ToString(out.Account), Arn: aws.ToString(out.Arn)}
		if output == "json" {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "    ")
			if err := enc.Encode(id); err != nil {
				return fmt.Errorf("print result: %w", err)
			}
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "Account\t%s\nUserId\t%s\nArn\t%s\n", id.Account, id.UserID, id.Arn)
		return tw.Flush()
	})
	return cmd
}
