package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
)

// esmConfig is the part of an EventSourceMappingConfiguration the test reads.
type esmConfig struct {
	UUID                  string
	State                 string
	StateTransitionReason string
	BatchSize             int
	FunctionArn           string
	EventSourceArn        string
	FunctionResponseTypes []string
}

func parseESM(t *testing.T, out string) esmConfig {
	t.Helper()
	var c esmConfig
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("not an event source mapping: %q: %v", out, err)
	}
	return c
}

// TestEventSourceMappingWithAWSCLI drives a queue-triggered function
// with the aws CLI: create, deliveries, a failing batch coming back after
// the visibility timeout, disable, partial batch responses, list, get,
// delete.
func TestEventSourceMappingWithAWSCLI(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--queue-visibility-timeout", "2s"}})
	requireQueues(t, srv)
	const (
		fn     = "esm-fn"
		source = "arn:aws:sqs:us-east-1:000000000000:esm-in"
	)
	createTestFunction(t, srv.Lambda(), fn, fnOpts{zip: testutil.FunctionZip(t, "./internal/testutil/esmfn", "")})

	out, _ := awsCLI(t, srv, false, "lambda", "create-event-source-mapping", "--function-name", fn,
		"--event-source-arn", source, "--batch-size", "5")
	m := parseESM(t, out)
	if m.UUID == "" || m.State != "Creating" || m.BatchSize != 5 || m.StateTransitionReason != "USER_INITIATED" ||
		m.FunctionArn != "arn:aws:lambda:us-east-1:000000000000:function:"+fn || m.EventSourceArn != source {
		t.Fatalf("create-event-source-mapping: %s", out)
	}
	_, errOut := awsCLI(t, srv, true, "lambda", "create-event-source-mapping", "--function-name", fn, "--event-source-arn", source)
	if !strings.Contains(errOut, "ResourceConflictException") || !strings.Contains(errOut, m.UUID) {
		t.Fatalf("a second mapping: %s", errOut)
	}
	_, errOut = awsCLI(t, srv, true, "lambda", "create-event-source-mapping", "--function-name", fn,
		"--event-source-arn", "arn:aws:sqs:us-east-1:000000000000:other", "--batch-size", "50")
	if !strings.Contains(errOut, "InvalidParameterValueException") || !strings.Contains(errOut, "Maximum batch window in seconds must be greater than 0") {
		t.Fatalf("batch size 50 without a window: %s", errOut)
	}

	send := func(bodies ...string) {
		t.Helper()
		for _, b := range bodies {
			if out, errOut, err := updraftCLI(t, srv, "queue", "send", "esm-in", b); err != nil {
				t.Fatalf("queue send %s: %v\n%s\n%s", b, err, out, errOut)
			}
		}
	}
	logs := func() string {
		out, _, err := updraftCLI(t, srv, "logs", fn)
		if err != nil {
			return ""
		}
		return out
	}
	waitLogs := func(want ...string) {
		t.Helper()
		testutil.WaitFor(t, 60*time.Second, func() error {
			l := logs()
			for _, w := range want {
				if !strings.Contains(l, w) {
					return fmt.Errorf("the function's log lacks %q:\n%s", w, l)
				}
			}
			return nil
		})
	}

	send("m1", "m2", "m3", "fail-1")
	// fail-1 fails its whole batch: it (and any message batched with it)
	// comes back after the 2 s visibility timeout, counted again. The
	// others are checked without their receive count: delivery is at
	// least once, and on a loaded machine a poll that gave up after its
	// messages were handed out counts them as received.
	waitLogs("seen body=m1 count=", "seen body=m2 count=", "seen body=m3 count=", "seen body=fail-1 count=1 source=aws:sqs", "seen body=fail-1 count=2")

	out, _ = awsCLI(t, srv, false, "lambda", "get-event-source-mapping", "--uuid", m.UUID)
	if got := parseESM(t, out); got.State != "Enabled" {
		t.Fatalf("get-event-source-mapping: %s", out)
	}
	out, _ = awsCLI(t, srv, false, "lambda", "list-event-source-mappings", "--function-name", fn)
	var list struct{ EventSourceMappings []esmConfig }
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.EventSourceMappings) != 1 || list.EventSourceMappings[0].UUID != m.UUID {
		t.Fatalf("list-event-source-mappings: %s (%v)", out, err)
	}

	// Disabled: messages stay in the queue.
	out, _ = awsCLI(t, srv, false, "lambda", "update-event-source-mapping", "--uuid", m.UUID, "--no-enabled")
	if got := parseESM(t, out); got.State != "Disabling" {
		t.Fatalf("disable: %s", out)
	}
	time.Sleep(3 * time.Second) // every poller sees the change, with room for a loaded machine
	send("while-disabled")
	time.Sleep(3 * time.Second)
	if l := logs(); strings.Contains(l, "while-disabled") {
		t.Fatalf("a disabled mapping delivered a message:\n%s", l)
	}
	out, errOut, err := updraftCLI(t, srv, "queue", "list")
	if err != nil || !regexp.MustCompile(`(?m)^esm-in\s+1\s`).MatchString(out) {
		t.Fatalf("the message sent while disabled is not in the queue: %v\n%s\n%s", err, out, errOut)
	}

	// Partial batch responses: only the failed message comes back.
	out, _ = awsCLI(t, srv, false, "lambda", "update-event-source-mapping", "--uuid", m.UUID, "--enabled",
		"--function-response-types", "ReportBatchItemFailures")
	if got := parseESM(t, out); got.State != "Enabling" || len(got.FunctionResponseTypes) != 1 {
		t.Fatalf("enable with ReportBatchItemFailures: %s", out)
	}
	send("ok-a", "bad-b", "ok-c")
	// Re-enabled, the mapping also delivers what was sent while disabled.
	waitLogs("seen body=while-disabled count=1", "seen body=ok-a count=1", "seen body=ok-c count=1", "seen body=bad-b count=1", "seen body=bad-b count=2")
	time.Sleep(3 * time.Second) // past another visibility timeout
	if l := logs(); strings.Contains(l, "body=ok-a count=2") || strings.Contains(l, "body=ok-c count=2") || strings.Contains(l, "body=bad-b count=3") {
		t.Fatalf("a message reported as processed came back:\n%s", l)
	}

	out, _ = awsCLI(t, srv, false, "lambda", "delete-event-source-mapping", "--uuid", m.UUID)
	if got := parseESM(t, out); got.State != "Deleting" {
		t.Fatalf("delete-event-source-mapping: %s", out)
	}
	_, errOut = awsCLI(t, srv, true, "lambda", "get-event-source-mapping", "--uuid", m.UUID)
	if !strings.Contains(errOut, "ResourceNotFoundException") {
		t.Fatalf("get after delete: %s", errOut)
	}
}
