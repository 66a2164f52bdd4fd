package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/updraft/updraft/internal/sampleevents"
)

// eventTypeAnnotation is the annotation of a `event generate` source
// command that names the aws-lambda-go type of its event, for `event list`.
const eventTypeAnnotation = "updraft/eventType"

// eventCommand is `updraft event ...`: sample events of the common event
// sources, built by internal/sampleevents. It needs no server.
func eventCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "event",
		Aliases: []string{"events"},
		Short:   "Generate sample events of SQS, SNS, S3, API Gateway, Kinesis, DynamoDB, EventBridge, SES and CloudWatch Logs",
		Long: `Generate sample events for testing handlers, like 'sam local
generate-event': 'updraft event generate SOURCE' prints one event as
indented JSON, shaped as the service sends it and built from the
aws-lambda-go events types, so it can be piped into 'updraft invoke'.
'updraft event list' lists the sources and their flags.

No server is needed.`,
		Example: `  updraft event list
  updraft event generate sqs --body hi | updraft invoke worker --payload @-
  updraft event generate s3 --bucket photos --key 'a b.jpg' --time 2025-03-10T12:00:00Z`,
	}
	generate := eventGenerateCommand(e)
	cmd.AddCommand(generate, eventListCommand(e, generate))
	return cmd
}

// eventCommonFlags are the flags every source shares.
type eventCommonFlags struct {
	region    string
	accountID string
	time      string
}

// common resolves the shared flags.
func (f *eventCommonFlags) common() (sampleevents.Common, error) {
	c := sampleevents.Common{Region: f.region, AccountID: f.accountID}
	if f.time != "" {
		t, err := time.Parse(time.RFC3339, f.time)
		if err != nil {
			return c, fmt.Errorf("--time %q: want an RFC 3339 time such as 2025-03-10T12:00:00Z", f.time)
		}
		c.Time = t
	}
	return c, nil
}

func eventGenerateCommand(e *env) *cobra.Command {
	var f eventCommonFlags
	cmd := &cobra.Command{
		Use:   "generate SOURCE [flags]",
		Short: "Print a sample event of SOURCE as JSON",
		Long: `Print one sample event of SOURCE to stdout as indented JSON. Each source
has its own flags ('updraft event generate SOURCE --help'); --region,
--account-id and --time apply to all of them and go into ARNs, awsRegion
fields and timestamps.

Times are now unless --time is given. Ids that AWS makes random (message
ids, request ids, receipt handles, signatures) are random on every run;
where an id matters to a handler it has its own flag (--message-id of sqs
and sns). Everything else follows from the flags, so with --time (and
--message-id) the output is the same on every run but for those ids.`,
		Example: `  updraft event generate sqs --body '{"order":42}' --count 3
  updraft event generate apigateway --method POST --path /orders --body '{}' --header Content-Type=application/json
  updraft event generate schedule --rule nightly --time 2025-03-10T02:00:00Z`,
		Args: cobra.ArbitraryArgs,
	}
	// An unknown SOURCE with its flags should say that the source is
	// unknown, not that a flag is.
	cmd.FParseErrWhitelist.UnknownFlags = true
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.region, "region", sampleevents.DefaultRegion, "region in ARNs and awsRegion fields")
	pf.StringVar(&f.accountID, "account-id", sampleevents.DefaultAccountID, "12-digit account id in ARNs")
	pf.StringVar(&f.time, "time", "", "when the event happened, RFC 3339 (default now)")
	cmd.AddCommand(
		sqsEventCommand(e, &f), snsEventCommand(e, &f), s3EventCommand(e, &f),
		apiGatewayEventCommand(e, &f, false), apiGatewayEventCommand(e, &f, true),
		kinesisEventCommand(e, &f), dynamoDBEventCommand(e, &f), scheduleEventCommand(e, &f),
		sesEventCommand(e, &f), cloudWatchLogsEventCommand(e, &f),
	)
	cmd.RunE = e.run(func(cmd *cobra.Command, args []string) error {
		known := strings.Join(sourceNames(cmd), ", ")
		if len(args) == 0 {
			return fmt.Errorf("missing the SOURCE: one of %s (see '%s --help')", known, cmd.CommandPath())
		}
		return fmt.Errorf("unknown event source %q: known sources are %s (see 'updraft event list')", args[0], known)
	})
	return cmd
}

// sourceNames lists the source commands of generate, with their aliases.
func sourceNames(generate *cobra.Command) []string {
	var names []string
	for _, c := range generate.Commands() {
		if c.Annotations[eventTypeAnnotation] == "" {
			continue // help, completion
		}
		n := c.Name()
		if len(c.Aliases) > 0 {
			n += " (" + strings.Join(c.Aliases, ", ") + ")"
		}
		names = append(names, n)
	}
	return names
}

func eventListCommand(e *env, generate *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the event sources and their flags",
		Long: `List the sources 'updraft event generate' knows as a table: the source
(and its aliases), the aws-lambda-go type of its event, and its own flags.
Every source also takes --region, --account-id and --time.`,
		Example: `  updraft event list`,
		Args:    noArgs,
		RunE: e.run(func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SOURCE\tEVENT TYPE\tFLAGS")
			for _, c := range generate.Commands() {
				typ := c.Annotations[eventTypeAnnotation]
				if typ == "" {
					continue
				}
				name := c.Name()
				if len(c.Aliases) > 0 {
					name += ", " + strings.Join(c.Aliases, ", ")
				}
				var flags []string
				c.LocalNonPersistentFlags().VisitAll(func(fl *pflag.Flag) {
					if fl.Name != "help" {
						flags = append(flags, "--"+fl.Name)
					}
				})
				fmt.Fprintf(tw, "%s\t%s\t%s\n", name, typ, strings.Join(flags, " "))
			}
			if err := tw.Flush(); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
			return nil
		}),
	}
}

// sourceCommand builds the command of one source: gen builds the event
// from the shared options once the flags are parsed.
func sourceCommand(e *env, f *eventCommonFlags, cmd *cobra.Command, eventType string, gen func(sampleevents.Common) (any, error)) *cobra.Command {
	cmd.Args = noArgs
	cmd.Annotations = map[string]string{eventTypeAnnotation: eventType}
	cmd.RunE = e.run(func(cmd *cobra.Command, _ []string) error {
		c, err := f.common()
		if err != nil {
			return err
		}
		ev, err := gen(c)
		if err != nil {
			return err
		}
		return printEvent(e.stdout, ev)
	})
	return cmd
}

// printEvent prints ev as indented JSON, with <, > and & as they are.
func printEvent(w io.Writer, ev any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return fmt.Errorf("print event: %w", err)
	}
	return nil
}

func sqsEventCommand(e *env, f *eventCommonFlags) *cobra.Command {
	var o sampleevents.SQSOptions
	cmd := &cobra.Command{
		Use:   "sqs",
		Short: "An SQS event source mapping's batch of messages (events.SQSEvent)",
		Long: `An SQS batch as Lambda's event source mapping delivers it: --count messages
with the body --body, each with a random messageId (or --message-id for a
single message), a receipt handle, md5OfBody (the MD5 of the body, as SQS
computes it), the attributes ApproximateReceiveCount, SentTimestamp,
SenderId and ApproximateFirstReceiveTimestamp, and eventSourceARN
arn:aws:sqs:REGION:ACCOUNT:QUEUE.`,
		Example: `  updraft event generate sqs --body hi
  updraft event generate sqs --body '{"order":42}' --queue orders --count 10`,
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Body, "body", "", "the body of every message")
	fl.StringVar(&o.Queue, "queue", "my-queue", "queue name")
	fl.IntVar(&o.Count, "count", 1, fmt.Sprintf("number of messages (1 to %d)", sampleevents.MaxRecords))
	fl.StringVar(&o.MessageID, "message-id", "", "messageId of the message (default a random UUID; needs --count 1)")
	return sourceCommand(e, f, cmd, "events.SQSEvent", func(c sampleevents.Common) (any, error) {
		o.Common = c
		return sampleevents.SQS(o)
	})
}

func snsEventCommand(e *env, f *eventCommonFlags) *cobra.Command {
	var o sampleevents.SNSOptions
	cmd := &cobra.Command{
		Use:   "sns",
		Short: "An SNS notification delivered to a subscribed function (events.SNSEvent)",
		Long: `One SNS notification as SNS delivers it to a subscribed function: the
--message and --subject published to the topic
arn:aws:sns:REGION:ACCOUNT:TOPIC, with a random MessageId (or
--message-id), the subscription ARN, Timestamp and the signing fields.
The signature is random and does not verify.`,
		Example: `  updraft event generate sns --message 'disk full' --subject alarm --topic ops`,
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Message, "message", "", "the message")
	fl.StringVar(&o.Subject, "subject", "", "the subject (default none)")
	fl.StringVar(&o.Topic, "topic", "my-topic", "topic name")
	fl.StringVar(&o.MessageID, "message-id", "", "MessageId (default a random UUID)")
	return sourceCommand(e, f, cmd, "events.SNSEvent", func(c sampleevents.Common) (any, error) {
		o.Common = c
		return sampleevents.SNS(o)
	})
}

func s3EventCommand(e *env, f *eventCommonFlags) *cobra.Command {
	var o sampleevents.S3Options
	cmd := &cobra.Command{
		Use:   "s3",
		Short: "An S3 event notification for one object (events.S3Event)",
		Long: `An S3 event notification for one object: --event-name on --key in
--bucket, with the key URL-encoded as S3 writes it ("a b.jpg" becomes
"a+b.jpg"; aws-lambda-go decodes it into urlDecodedKey), --size and an
eTag (none for removals), a sequencer and the bucket's ARN.

Event names: ` + strings.Join(sampleevents.S3EventNames, ", ") + `.`,
		Example: `  updraft event generate s3 --bucket photos --key 'uploads/red flower.jpg' --size 2048
  updraft event generate s3 --key old.txt --event-name ObjectRemoved:Delete`,
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Bucket, "bucket", "amzn-s3-demo-bucket", "bucket name")
	fl.StringVar(&o.Key, "key", "example/object.txt", "object key, not encoded")
	fl.Int64Var(&o.Size, "size", 1024, "object size in bytes")
	fl.StringVar(&o.EventName, "event-name", "ObjectCreated:Put", "the event type, without the s3: prefix")
	return sourceCommand(e, f, cmd, "events.S3Event", func(c sampleevents.Common) (any, error) {
		o.Common = c
		return sampleevents.S3(o)
	})
}

func apiGatewayEventCommand(e *env, f *eventCommonFlags, v2 bool) *cobra.Command {
	var (
		o              sampleevents.HTTPOptions
		query, headers []string
	)
	cmd := &cobra.Command{
		Use:   "apigateway",
		Short: "An API Gateway REST API proxy request, payload 1.0 (events.APIGatewayProxyRequest)",
		Long: `The event an API Gateway REST API's Lambda proxy integration sends (payload
format 1.0) for one request: --method on --path with --body, the query
parameters and headers (single- and multi-value maps), the {proxy+}
resource and path parameter, and a requestContext for the stage "prod".

--query and --header take NAME=VALUE and may be repeated; a repeated name
is a multi-value parameter. A query string in --path is read too.`,
		Example: `  updraft event generate apigateway --path '/items/42?verbose=1'
  updraft event generate apigateway --method POST --path /orders --body '{"item":"carrot"}' \
      --header Content-Type=application/json --query tag=a --query tag=b`,
	}
	eventType := "events.APIGatewayProxyRequest"
	gen := func(o sampleevents.HTTPOptions) (any, error) { return sampleevents.APIGateway(o) }
	if v2 {
		cmd.Use, cmd.Aliases = "apigateway-v2", []string{"http"}
		cmd.Short = "An API Gateway HTTP API request, payload 2.0 (events.APIGatewayV2HTTPRequest)"
		cmd.Long = `The event an API Gateway HTTP API's Lambda integration sends with payload
format 2.0 for one request: --method on --path with --body, rawPath and
rawQueryString, header names lower-cased, repeated headers and query
parameters joined with commas, Cookie headers as cookies, and a
requestContext for the $default route and stage.

--query and --header take NAME=VALUE and may be repeated. A query string
in --path is read too.`
		cmd.Example = `  updraft event generate http --path /items/42 --query q=carrot
  updraft event generate apigateway-v2 --method POST --path /orders --body '{}' --header 'Cookie=session=abc'`
		eventType, gen = "events.APIGatewayV2HTTPRequest", func(o sampleevents.HTTPOptions) (any, error) {
			return sampleevents.APIGatewayV2(o)
		}
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Method, "method", "GET", "HTTP method")
	fl.StringVar(&o.Path, "path", "/", "request path, optionally with ?query")
	fl.StringVar(&o.Body, "body", "", "request body")
	fl.StringArrayVar(&query, "query", nil, "a query parameter NAME=VALUE; repeatable")
	fl.StringArrayVar(&headers, "header", nil, "a header NAME=VALUE; repeatable")
	return sourceCommand(e, f, cmd, eventType, func(c sampleevents.Common) (any, error) {
		o.Common = c
		var err error
		if o.Query, err = parseParams("--query", query); err != nil {
			return nil, err
		}
		if o.Headers, err = parseParams("--header", headers); err != nil {
			return nil, err
		}
		return gen(o)
	})
}

// parseParams reads repeated NAME=VALUE flag values.
func parseParams(flag string, specs []string) ([]sampleevents.Param, error) {
	var ps []sampleevents.Param
	var errs []error
	for _, s := range specs {
		p, err := sampleevents.ParseParam(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %w", flag, err))
			continue
		}
		ps = append(ps, p)
	}
	return ps, errors.Join(errs...)
}

func kinesisEventCommand(e *env, f *eventCommonFlags) *cobra.Command {
	var o sampleevents.KinesisOptions
	cmd := &cobra.Command{
		Use:   "kinesis",
		Short: "A Kinesis event source mapping's batch of records (events.KinesisEvent)",
		Long: `A Kinesis batch as Lambda's event source mapping delivers it: --count
records of --data (base64 in the JSON, as Kinesis delivers it) with
--partition-key, increasing sequence numbers, approximateArrivalTimestamp
and eventSourceARN arn:aws:kinesis:REGION:ACCOUNT:stream/STREAM.`,
		Example: `  updraft event generate kinesis --data '{"click":1}' --stream clicks --count 5`,
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Data, "data", "", "the data of every record, not encoded")
	fl.StringVar(&o.Stream, "stream", "my-stream", "stream name")
	fl.StringVar(&o.PartitionKey, "partition-key", "1", "partition key of every record")
	fl.IntVar(&o.Count, "count", 1, fmt.Sprintf("number of records (1 to %d)", sampleevents.MaxRecords))
	return sourceCommand(e, f, cmd, "events.KinesisEvent", func(c sampleevents.Common) (any, error) {
		o.Common = c
		return sampleevents.Kinesis(o)
	})
}

func dynamoDBEventCommand(e *env, f *eventCommonFlags) *cobra.Command {
	var o sampleevents.DynamoDBOptions
	cmd := &cobra.Command{
		Use:   "dynamodb",
		Short: "A DynamoDB Streams record of one item change (events.DynamoDBEvent)",
		Long: `A DynamoDB Streams batch of one record: --event-name (INSERT, MODIFY or
REMOVE) of an item in --table whose one attribute, its string key, is
--key = --value. Keys always, NewImage for INSERT and MODIFY, OldImage for
MODIFY and REMOVE (the NEW_AND_OLD_IMAGES view), and the stream's ARN.`,
		Example: `  updraft event generate dynamodb --table users --key id --value u-1
  updraft event generate dynamodb --table users --event-name REMOVE`,
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Table, "table", "my-table", "table name")
	fl.StringVar(&o.EventName, "event-name", "INSERT", "INSERT, MODIFY or REMOVE")
	fl.StringVar(&o.Key, "key", "id", "name of the item's string key attribute")
	fl.StringVar(&o.Value, "value", "1", "its value")
	return sourceCommand(e, f, cmd, "events.DynamoDBEvent", func(c sampleevents.Common) (any, error) {
		o.Common = c
		return sampleevents.DynamoDB(o)
	})
}

func scheduleEventCommand(e *env, f *eventCommonFlags) *cobra.Command {
	var o sampleevents.ScheduleOptions
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "An EventBridge scheduled event (events.CloudWatchEvent)",
		Long: `The event an EventBridge (CloudWatch Events) schedule rule sends:
"detail-type": "Scheduled Event", source aws.events, the rule's ARN
arn:aws:events:REGION:ACCOUNT:rule/RULE in resources and an empty detail.`,
		Example: `  updraft event generate schedule --rule nightly-report`,
	}
	cmd.Flags().StringVar(&o.Rule, "rule", "my-scheduled-rule", "rule name")
	return sourceCommand(e, f, cmd, "events.CloudWatchEvent", func(c sampleevents.Common) (any, error) {
		o.Common = c
		return sampleevents.Schedule(o)
	})
}

func sesEventCommand(e *env, f *eventCommonFlags) *cobra.Command {
	var o sampleevents.SESOptions
	cmd := &cobra.Command{
		Use:   "ses",
		Short: "An SES receipt rule's Lambda action for one received mail (events.SimpleEmailEvent)",
		Long: `The event an SES receipt rule's Lambda action sends for one received
mail: the mail from --from to --to with --subject (its source, destination,
a random SES messageId, the common headers and the headers), and the
receipt with PASS verdicts and the action (type Lambda, invocationType
Event, the ARN of --function). The message body is not included, as with
SES's Lambda action.`,
		Example: `  updraft event generate ses --from alice@example.org --to orders@shop.example --subject 'order 42'`,
	}
	fl := cmd.Flags()
	fl.StringVar(&o.From, "from", "sender@example.com", "sender address")
	fl.StringVar(&o.To, "to", "recipient@example.com", "recipient address")
	fl.StringVar(&o.Subject, "subject", "Test Subject", "subject")
	fl.StringVar(&o.Function, "function", "my-function", "name of the function the receipt rule invokes")
	return sourceCommand(e, f, cmd, "events.SimpleEmailEvent", func(c sampleevents.Common) (any, error) {
		o.Common = c
		return sampleevents.SES(o)
	})
}

func cloudWatchLogsEventCommand(e *env, f *eventCommonFlags) *cobra.Command {
	var o sampleevents.CloudWatchLogsOptions
	cmd := &cobra.Command{
		Use:     "cloudwatch-logs",
		Aliases: []string{"logs"},
		Short:   "A CloudWatch Logs subscription filter's batch of log events (events.CloudwatchLogsEvent)",
		Long: `The event a CloudWatch Logs subscription filter sends: awslogs.data is the
base64 of the gzip of a DATA_MESSAGE document (owner, logGroup, logStream,
subscriptionFilters, logEvents) holding --count log events of --message,
each with a 56-digit id and a millisecond timestamp. aws-lambda-go
decodes it with CloudwatchLogsRawData.Parse.`,
		Example: `  updraft event generate cloudwatch-logs --message 'ERROR disk full' --log-group /aws/lambda/orders --count 3`,
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Message, "message", "", "the message of every log event")
	fl.StringVar(&o.LogGroup, "log-group", "/aws/lambda/my-function", "log group")
	fl.StringVar(&o.LogStream, "log-stream", "", "log stream (default a Lambda-style stream of --time's date)")
	fl.StringVar(&o.Filter, "filter", "my-filter", "subscription filter name")
	fl.IntVar(&o.Count, "count", 1, fmt.Sprintf("number of log events (1 to %d)", sampleevents.MaxRecords))
	return sourceCommand(e, f, cmd, "events.CloudwatchLogsEvent", func(c sampleevents.Common) (any, error) {
		o.Common = c
		return sampleevents.CloudWatchLogs(o)
	})
}
