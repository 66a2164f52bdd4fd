package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestEventGenerate(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string // substrings of stdout
		wantStderr string   // substring of stderr; "" means stderr must be empty
	}{
		{name: "sqs prints an SQS event with the body",
			args:       []string{"event", "generate", "sqs", "--body", "hi"},
			wantStdout: []string{`"body": "hi"`, `"md5OfBody": "49f68a5c8493ec2c0bf489821c21fc3b"`, "\n    \"Records\": ["}},
		{name: "region, account and time go into the event",
			args: []string{"event", "generate", "sqs", "--queue", "orders", "--region", "eu-west-1", "--account-id", "123456789012",
				"--time", "2025-03-10T12:00:00Z", "--message-id", "m-1"},
			wantStdout: []string{`"eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:orders"`, `"SentTimestamp": "1741608000000"`, `"messageId": "m-1"`}},
		{name: "the http alias is the HTTP API payload 2.0",
			args:       []string{"event", "generate", "http", "--path", "/items?q=a", "--header", "X-A=1"},
			wantStdout: []string{`"version": "2.0"`, `"rawQueryString": "q=a"`, `"x-a": "1"`}},
		{name: "apigateway takes repeated query parameters",
			args:       []string{"event", "generate", "apigateway", "--method", "post", "--path", "/orders", "--query", "t=a", "--query", "t=b", "--body", "<x>"},
			wantStdout: []string{`"httpMethod": "POST"`, `"t": [`, `"body": "<x>"`}},
		{name: "s3 encodes the key",
			args: []string{"event", "generate", "s3", "--key", "red flower.jpg"}, wantStdout: []string{`"key": "red+flower.jpg"`}},
		{name: "schedule names the rule",
			args: []string{"event", "generate", "schedule", "--rule", "nightly"}, wantStdout: []string{`"detail-type": "Scheduled Event"`, `rule/nightly"`}},
		{name: "an unknown source fails listing the known ones",
			args: []string{"event", "generate", "kafka", "--body", "x"}, wantCode: 1,
			wantStderr: `updraft: unknown event source "kafka": known sources are apigateway, apigateway-v2 (http), cloudwatch-logs (logs), dynamodb, kinesis, s3, schedule, ses, sns, sqs`},
		{name: "a missing source fails listing the known ones",
			args: []string{"event", "generate"}, wantCode: 1, wantStderr: "updraft: missing the SOURCE: one of apigateway,"},
		{name: "a bad --time says what it wants",
			args: []string{"event", "generate", "sqs", "--time", "yesterday"}, wantCode: 1, wantStderr: `updraft: --time "yesterday": want an RFC 3339 time`},
		{name: "a bad --header says what it wants",
			args: []string{"event", "generate", "apigateway", "--header", "nope"}, wantCode: 1, wantStderr: `updraft: --header "nope": want NAME=VALUE`},
		{name: "an invalid option of a source is reported",
			args: []string{"event", "generate", "dynamodb", "--event-name", "UPSERT"}, wantCode: 1, wantStderr: "want INSERT, MODIFY or REMOVE"},
		{name: "an unknown flag of a source points to its help",
			args: []string{"event", "generate", "sns", "--body", "x"}, wantCode: 1, wantStderr: "updraft: unknown flag: --body (see 'updraft event generate sns --help')"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, "", tc.args...)
			if res.code != tc.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", res.code, tc.wantCode, res.stderr)
			}
			for _, want := range tc.wantStdout {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
				}
			}
			if tc.wantStderr == "" && res.stderr != "" || !strings.Contains(res.stderr, tc.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", res.stderr, tc.wantStderr)
			}
			if tc.wantCode != 0 {
				if n := strings.Count(res.stderr, "updraft:"); n != 1 {
					t.Errorf("the error was printed %d times, want once:\n%s", n, res.stderr)
				}
				return
			}
			if !json.Valid([]byte(res.stdout)) {
				t.Errorf("stdout is not JSON:\n%s", res.stdout)
			}
		})
	}
}

// TestEventGenerateSQSReadsBackAsSQSEvent checks that the printed event is
// what a Go handler taking events.SQSEvent receives.
func TestEventGenerateSQSReadsBackAsSQSEvent(t *testing.T) {
	res := runCLI(t, "", "event", "generate", "sqs", "--body", "hi", "--count", "2")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var ev events.SQSEvent
	dec := json.NewDecoder(strings.NewReader(res.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("decode: %v\n%s", err, res.stdout)
	}
	if len(ev.Records) != 2 || ev.Records[0].Body != "hi" || ev.Records[0].MessageId == ev.Records[1].MessageId {
		t.Errorf("event %+v", ev)
	}
}

// TestEventGenerateSESAndCloudWatchLogsDecode checks that the ses and
// cloudwatch-logs events decode into aws-lambda-go's types, the logs one
// through CloudwatchLogsRawData.Parse.
func TestEventGenerateSESAndCloudWatchLogsDecode(t *testing.T) {
	res := runCLI(t, "", "event", "generate", "ses", "--from", "a@example.org", "--subject", "hello")
	if res.code != 0 {
		t.Fatalf("ses: exit %d: %s", res.code, res.stderr)
	}
	var mail events.SimpleEmailEvent
	dec := json.NewDecoder(strings.NewReader(res.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&mail); err != nil || len(mail.Records) != 1 || mail.Records[0].SES.Mail.CommonHeaders.Subject != "hello" ||
		mail.Records[0].SES.Mail.Source != "a@example.org" || mail.Records[0].SES.Receipt.Action.Type != "Lambda" {
		t.Fatalf("ses event %+v (%v):\n%s", mail, err, res.stdout)
	}

	res = runCLI(t, "", "event", "generate", "cloudwatch-logs", "--message", "ERROR disk full", "--log-group", "/aws/lambda/orders", "--count", "2")
	if res.code != 0 {
		t.Fatalf("cloudwatch-logs: exit %d: %s", res.code, res.stderr)
	}
	var logs events.CloudwatchLogsEvent
	dec = json.NewDecoder(strings.NewReader(res.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&logs); err != nil {
		t.Fatalf("cloudwatch-logs event: %v\n%s", err, res.stdout)
	}
	d, err := logs.AWSLogs.Parse()
	if err != nil || d.LogGroup != "/aws/lambda/orders" || d.MessageType != "DATA_MESSAGE" || len(d.LogEvents) != 2 ||
		d.LogEvents[1].Message != "ERROR disk full" || d.Owner != "000000000000" {
		t.Fatalf("parsed %+v (%v)", d, err)
	}
}

func TestEventList(t *testing.T) {
	res := runCLI(t, "", "event", "list")
	if res.code != 0 || res.stderr != "" {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if !strings.HasPrefix(lines[0], "SOURCE") || !strings.Contains(lines[0], "EVENT TYPE") || !strings.Contains(lines[0], "FLAGS") {
		t.Errorf("header %q", lines[0])
	}
	for _, want := range []string{
		"sqs ", "sns ", "s3 ", "apigateway ", "apigateway-v2, http ", "kinesis ", "dynamodb ", "schedule ", "ses ", "cloudwatch-logs, logs ",
		"events.SimpleEmailEvent", "events.CloudwatchLogsEvent",
		"events.SQSEvent", "events.APIGatewayV2HTTPRequest", "events.CloudWatchEvent",
		"--body --count --message-id --queue", "--event-name --key --table --value",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, res.stdout)
		}
	}
	if len(lines) != 1+10 {
		t.Errorf("%d sources listed, want 10:\n%s", len(lines)-1, res.stdout)
	}
}
