package registry

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/testutil"
)

const (
	testQueueARN = "arn:aws:sqs:us-east-1:000000000000:failures"
	testFnDest   = "arn:aws:lambda:us-east-1:000000000000:function:recorder"
)

func dest(s string) *lambdaapi.EventDestination { return &lambdaapi.EventDestination{Destination: s} }

func TestEventInvokeKeys(t *testing.T) {
	// NATS KV keys allow only [-/_=.a-zA-Z0-9]: $LATEST must be encoded.
	natsKeyRE := regexp.MustCompile(`^[-/_=\.a-zA-Z0-9]+$`)
	tests := []struct {
		name, function, qualifier, key string
	}{
		{"$LATEST is stored without its dollar", "fn", "$LATEST", "eic.fn.=LATEST"},
		{"a version keeps its number", "fn", "7", "eic.fn.7"},
		{"an alias keeps its name", "fn", "live", "eic.fn.live"},
		{"an alias named LATEST does not collide with $LATEST", "fn", "LATEST", "eic.fn.LATEST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := eventInvokeKey(tc.function, tc.qualifier)
			if key != tc.key {
				t.Fatalf("key = %q, want %q", key, tc.key)
			}
			if !natsKeyRE.MatchString(key) {
				t.Fatalf("%q is not a valid NATS KV key", key)
			}
			kind, name, sub, ok := parseKey(key)
			if !ok || kind != "eic" || name != tc.function || sub != tc.qualifier {
				t.Fatalf("parseKey(%q) = %q %q %q %v", key, kind, name, sub, ok)
			}
		})
	}
}

func TestEventInvokeConfigValidation(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	mustCreate(t, r, "fn")
	tests := []struct {
		name      string
		qualifier string
		req       lambdaapi.EventInvokeConfigRequest
		wantType  string
		wantMsg   string // exact when set, else a substring check on wantPart
		wantPart  string
	}{
		{name: "three retries", req: lambdaapi.EventInvokeConfigRequest{MaximumRetryAttempts: ptr(3)}, wantType: lambdaerr.TypeValidation,
			wantMsg: "1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2"},
		{name: "negative retries", req: lambdaapi.EventInvokeConfigRequest{MaximumRetryAttempts: ptr(-1)}, wantType: lambdaerr.TypeValidation,
			wantPart: "greater than or equal to 0"},
		{name: "an age of 59 seconds", req: lambdaapi.EventInvokeConfigRequest{MaximumEventAgeInSeconds: ptr(59)}, wantType: lambdaerr.TypeValidation,
			wantMsg: "1 validation error detected: Value '59' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60"},
		{name: "an age over six hours", req: lambdaapi.EventInvokeConfigRequest{MaximumEventAgeInSeconds: ptr(21601)}, wantType: lambdaerr.TypeValidation},
		{name: "two violations at once", req: lambdaapi.EventInvokeConfigRequest{MaximumRetryAttempts: ptr(3), MaximumEventAgeInSeconds: ptr(30)}, wantType: lambdaerr.TypeValidation,
			wantMsg: "2 validation errors detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2; Value '30' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60"},
		{name: "nothing set", req: lambdaapi.EventInvokeConfigRequest{}, wantType: lambdaerr.TypeInvalidParameterValue,
			wantMsg: "You must specify at least one of error handling or destination setting."},
		{name: "a destination that is not an ARN", req: lambdaapi.EventInvokeConfigRequest{DestinationConfig: &lambdaapi.DestinationConfig{OnFailure: dest("my-queue")}},
			wantType: lambdaerr.TypeValidation, wantPart: "at 'destinationConfig.onFailure.destination' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{name: "a destination over 350 characters", req: lambdaapi.EventInvokeConfigRequest{DestinationConfig: &lambdaapi.DestinationConfig{OnSuccess: dest("https://example.com/" + strings.Repeat("x", 340))}},
			wantType: lambdaerr.TypeValidation, wantPart: "Member must have length less than or equal to 350"},
		{name: "an SNS topic", req: lambdaapi.EventInvokeConfigRequest{DestinationConfig: &lambdaapi.DestinationConfig{OnFailure: dest("arn:aws:sns:us-east-1:000000000000:topic")}},
			wantType: lambdaerr.TypeInvalidParameterValue,
			wantMsg:  "The destination arn:aws:sns:us-east-1:000000000000:topic is an Amazon SNS topic, which this server does not support. " + supportedDestinations},
		{name: "an EventBridge bus", req: lambdaapi.EventInvokeConfigRequest{DestinationConfig: &lambdaapi.DestinationConfig{OnSuccess: dest("arn:aws:events:us-east-1:000000000000:event-bus/default")}},
			wantType: lambdaerr.TypeInvalidParameterValue, wantPart: "is an Amazon EventBridge event bus, which this server does not support"},
		{name: "an S3 bucket", req: lambdaapi.EventInvokeConfigRequest{DestinationConfig: &lambdaapi.DestinationConfig{OnFailure: dest("arn:aws:s3:::bucket")}},
			wantType: lambdaerr.TypeInvalidParameterValue, wantPart: "is an Amazon S3 bucket, which this server does not support"},
		{name: "a DynamoDB table", req: lambdaapi.EventInvokeConfigRequest{DestinationConfig: &lambdaapi.DestinationConfig{OnFailure: dest("arn:aws:dynamodb:us-east-1:000000000000:table/t")}},
			wantType: lambdaerr.TypeInvalidParameterValue,
			wantMsg:  "The provided destination config DestinationConfig(onSuccess=null, onFailure=OnFailure(destination=arn:aws:dynamodb:us-east-1:000000000000:table/t)) is invalid."},
		{name: "a function that does not exist", req: lambdaapi.EventInvokeConfigRequest{DestinationConfig: &lambdaapi.DestinationConfig{OnSuccess: dest("arn:aws:lambda:us-east-1:000000000000:function:nope")}},
			wantType: lambdaerr.TypeInvalidParameterValue, wantMsg: "The destination ARN arn:aws:lambda:us-east-1:000000000000:function:nope is invalid."},
		{name: "an ARN outside Lambda's destination pattern", req: lambdaapi.EventInvokeConfigRequest{DestinationConfig: &lambdaapi.DestinationConfig{OnFailure: dest("arn:aws:_-/!lambda:us-east-1:000000000000:function:fn")}},
			wantType: lambdaerr.TypeValidation,
			wantMsg:  "1 validation error detected: Value 'arn:aws:_-/!lambda:us-east-1:000000000000:function:fn' at 'destinationConfig.onFailure.destination' failed to satisfy constraint: Member must satisfy regular expression pattern: $|kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)"},
		{name: "a queue of another region", req: lambdaapi.EventInvokeConfigRequest{DestinationConfig: &lambdaapi.DestinationConfig{OnFailure: dest("arn:aws:sqs:eu-west-1:000000000000:q")}},
			wantType: lambdaerr.TypeInvalidParameterValue,
			wantMsg:  "The destination ARN arn:aws:sqs:eu-west-1:000000000000:q is invalid: this server's resources are in region us-east-1, account 000000000000."},
		{name: "a function of another account", req: lambdaapi.EventInvokeConfigRequest{DestinationConfig: &lambdaapi.DestinationConfig{OnSuccess: dest("arn:aws:lambda:us-east-1:111111111111:function:x")}},
			wantType: lambdaerr.TypeInvalidParameterValue, wantPart: "this server's resources are in region us-east-1, account 000000000000"},
		{name: "a queue name with a space", req: lambdaapi.EventInvokeConfigRequest{DestinationConfig: &lambdaapi.DestinationConfig{OnFailure: dest("arn:aws:sqs:us-east-1:000000000000:a b")}},
			wantType: lambdaerr.TypeInvalidParameterValue, wantPart: "a queue name is 1 to 80"},
		{name: "a queue name of 81 characters", req: lambdaapi.EventInvokeConfigRequest{DestinationConfig: &lambdaapi.DestinationConfig{OnFailure: dest("arn:aws:sqs:us-east-1:000000000000:" + strings.Repeat("q", 81))}},
			wantType: lambdaerr.TypeInvalidParameterValue, wantPart: "a queue name is 1 to 80"},
		{name: "a FIFO queue", req: lambdaapi.EventInvokeConfigRequest{DestinationConfig: &lambdaapi.DestinationConfig{OnFailure: dest("arn:aws:sqs:us-east-1:000000000000:q.fifo")}},
			wantType: lambdaerr.TypeInvalidParameterValue, wantPart: "is a FIFO queue"},
		{name: "a function ARN without function:", req: lambdaapi.EventInvokeConfigRequest{DestinationConfig: &lambdaapi.DestinationConfig{OnSuccess: dest("arn:aws:lambda:us-east-1:000000000000:layer:x:1")}},
			wantType: lambdaerr.TypeInvalidParameterValue, wantPart: "a function destination is arn:aws:lambda:REGION:ACCOUNT:function:NAME"},
		{name: "the function itself", req: lambdaapi.EventInvokeConfigRequest{DestinationConfig: &lambdaapi.DestinationConfig{OnSuccess: dest("arn:aws:lambda:us-east-1:000000000000:function:fn:2")}},
			wantType: lambdaerr.TypeInvalidParameterValue, wantMsg: "You can't specify the function as a destination for itself."},
		{name: "a webhook without a host", req: lambdaapi.EventInvokeConfigRequest{DestinationConfig: &lambdaapi.DestinationConfig{OnSuccess: dest("http:///path")}},
			wantType: lambdaerr.TypeInvalidParameterValue, wantPart: "is not a valid webhook URL"},
		{name: "an unknown alias", qualifier: "nope", req: lambdaapi.EventInvokeConfigRequest{MaximumRetryAttempts: ptr(1)},
			wantType: lambdaerr.TypeResourceNotFound, wantMsg: "The function doesn't exist."},
		{name: "an unknown version", qualifier: "9", req: lambdaapi.EventInvokeConfigRequest{MaximumRetryAttempts: ptr(1)},
			wantType: lambdaerr.TypeResourceNotFound, wantMsg: "The function doesn't exist."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, op := range []string{"put", "update"} {
				var err error
				if op == "put" {
					_, err = r.PutFunctionEventInvokeConfig(t.Context(), "fn", tc.qualifier, &tc.req)
				} else {
					_, err = r.UpdateFunctionEventInvokeConfig(t.Context(), "fn", tc.qualifier, &tc.req)
				}
				e := wantType(t, err, tc.wantType)
				if tc.wantMsg != "" && e.Message != tc.wantMsg {
					t.Errorf("%s: message %q, want %q", op, e.Message, tc.wantMsg)
				}
				if tc.wantPart != "" && !strings.Contains(e.Message, tc.wantPart) {
					t.Errorf("%s: message %q lacks %q", op, e.Message, tc.wantPart)
				}
			}
			if _, err := r.GetFunctionEventInvokeConfig(t.Context(), "fn", ""); err == nil {
				t.Fatal("a refused request stored a configuration")
			}
		})
	}
}

func TestEventInvokeConfigAcceptsEveryDestinationKind(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	mustCreate(t, r, "fn")
	mustCreate(t, r, "recorder")
	for _, d := range []string{
		testQueueARN,
		"arn:aws:sqs:us-east-1:000000000000:with_under-score",
		testFnDest,
		testFnDest + ":live",
		testFnDest + ":$LATEST",
		"http://127.0.0.1:8080/hook",
		"https://hooks.example.com/a?b=c",
	} {
		t.Run(d, func(t *testing.T) {
			out, err := r.PutFunctionEventInvokeConfig(t.Context(), "fn", "", &lambdaapi.EventInvokeConfigRequest{
				DestinationConfig: &lambdaapi.DestinationConfig{OnSuccess: dest(d), OnFailure: dest(d)},
			})
			if err != nil {
				t.Fatalf("put: %v", err)
			}
			if out.DestinationConfig.OnSuccess.Destination != d || out.DestinationConfig.OnFailure.Destination != d {
				t.Fatalf("DestinationConfig = %+v", out.DestinationConfig)
			}
		})
	}
}

// TestEventInvokeConfigLifecycle walks configurations through put, get,
// update, list and delete, on $LATEST, an alias and a version, and checks
// what the async engine reads.
func TestEventInvokeConfigLifecycle(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	ctx := t.Context()
	mustCreate(t, r, "fn")
	mustCreate(t, r, "recorder")
	const arn = "arn:aws:lambda:us-east-1:000000000000:function:fn"

	if got, want := r.EventInvokeConfig("fn", ""), DefaultEventInvokeConfig(); got != want {
		t.Fatalf("defaults = %+v, want %+v", got, want)
	}
	if want := (EventInvokeConfig{MaximumRetryAttempts: 2, MaximumEventAge: 6 * time.Hour}); DefaultEventInvokeConfig() != want {
		t.Fatalf("DefaultEventInvokeConfig = %+v", DefaultEventInvokeConfig())
	}
	_, err := r.GetFunctionEventInvokeConfig(ctx, "fn", "")
	if e := wantType(t, err, lambdaerr.TypeResourceNotFound); e.Message != "The function "+arn+":$LATEST doesn't have an EventInvokeConfig" {
		t.Fatalf("message %q", e.Message)
	}
	_, err = r.UpdateFunctionEventInvokeConfig(ctx, "fn", "", &lambdaapi.EventInvokeConfigRequest{MaximumRetryAttempts: ptr(1)})
	wantType(t, err, lambdaerr.TypeResourceNotFound)

	// Put.
	before := time.Now()
	out, err := r.PutFunctionEventInvokeConfig(ctx, "fn", "", &lambdaapi.EventInvokeConfigRequest{
		MaximumRetryAttempts: ptr(0),
		DestinationConfig:    &lambdaapi.DestinationConfig{OnFailure: dest(testQueueARN), OnSuccess: dest(testFnDest)},
	})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if out.FunctionArn != arn+":$LATEST" || out.MaximumRetryAttempts == nil || *out.MaximumRetryAttempts != 0 || out.MaximumEventAgeInSeconds != nil {
		t.Fatalf("put returned %+v", out)
	}
	if lm := time.UnixMilli(int64(out.LastModified * 1000)); lm.Before(before.Add(-time.Second)) || lm.After(time.Now().Add(time.Second)) {
		t.Fatalf("LastModified %v is not now", out.LastModified)
	}
	want := EventInvokeConfig{MaximumRetryAttempts: 0, MaximumEventAge: 6 * time.Hour, OnSuccess: testFnDest, OnFailure: testQueueARN}
	for _, q := range []string{"", "$LATEST"} {
		if got := r.EventInvokeConfig("fn", q); got != want {
			t.Fatalf("EventInvokeConfig(fn, %q) = %+v, want %+v", q, got, want)
		}
	}
	// Every FunctionName form reaches the same configuration.
	for _, form := range []string{"fn", arn, "000000000000:function:fn", "fn:$LATEST", arn + ":$LATEST"} {
		got, err := r.GetFunctionEventInvokeConfig(ctx, form, "")
		if err != nil || got.FunctionArn != arn+":$LATEST" {
			t.Fatalf("get %s: %+v, %v", form, got, err)
		}
	}

	// Update changes only what it is given.
	out, err = r.UpdateFunctionEventInvokeConfig(ctx, "fn", "", &lambdaapi.EventInvokeConfigRequest{MaximumEventAgeInSeconds: ptr(3600)})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if *out.MaximumRetryAttempts != 0 || *out.MaximumEventAgeInSeconds != 3600 || out.DestinationConfig.OnFailure.Destination != testQueueARN ||
		out.DestinationConfig.OnSuccess.Destination != testFnDest {
		t.Fatalf("update returned %+v", out)
	}
	// An update of one destination keeps the other; an empty one clears it.
	out, err = r.UpdateFunctionEventInvokeConfig(ctx, "fn", "", &lambdaapi.EventInvokeConfigRequest{
		DestinationConfig: &lambdaapi.DestinationConfig{OnSuccess: dest("")},
	})
	if err != nil || out.DestinationConfig.OnSuccess.Destination != "" || out.DestinationConfig.OnFailure.Destination != testQueueARN {
		t.Fatalf("update of OnSuccess: %+v, %v", out, err)
	}
	if got := r.EventInvokeConfig("fn", ""); got.MaximumEventAge != time.Hour || got.OnSuccess != "" || got.OnFailure != testQueueARN {
		t.Fatalf("after update EventInvokeConfig = %+v", got)
	}

	// Put replaces: what it leaves out is reset.
	out, err = r.PutFunctionEventInvokeConfig(ctx, "fn", "", &lambdaapi.EventInvokeConfigRequest{MaximumEventAgeInSeconds: ptr(120)})
	if err != nil || out.MaximumRetryAttempts != nil || out.DestinationConfig.OnFailure.Destination != "" {
		t.Fatalf("second put: %+v, %v", out, err)
	}
	if got := r.EventInvokeConfig("fn", ""); got != (EventInvokeConfig{MaximumRetryAttempts: 2, MaximumEventAge: 2 * time.Minute}) {
		t.Fatalf("after second put EventInvokeConfig = %+v", got)
	}

	// An alias and a version have their own.
	if _, err := r.PublishVersion(ctx, "fn", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateAlias(ctx, "fn", &lambdaapi.CreateAliasRequest{Name: "live", FunctionVersion: "1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.PutFunctionEventInvokeConfig(ctx, "fn", "live", &lambdaapi.EventInvokeConfigRequest{MaximumRetryAttempts: ptr(1)}); err != nil {
		t.Fatalf("put on alias: %v", err)
	}
	out, err = r.PutFunctionEventInvokeConfig(ctx, "fn:1", "", &lambdaapi.EventInvokeConfigRequest{DestinationConfig: &lambdaapi.DestinationConfig{OnFailure: dest("https://example.com/x")}})
	if err != nil || out.FunctionArn != arn+":1" {
		t.Fatalf("put on version: %+v, %v", out, err)
	}
	if got := r.EventInvokeConfig("fn", "live"); got.MaximumRetryAttempts != 1 || got.MaximumEventAge != 6*time.Hour {
		t.Fatalf("alias config = %+v", got)
	}
	if got := r.EventInvokeConfig("fn", "1"); got.OnFailure != "https://example.com/x" {
		t.Fatalf("version config = %+v", got)
	}
	if got := r.EventInvokeConfig("fn", "2"); got != DefaultEventInvokeConfig() {
		t.Fatalf("unknown version config = %+v", got)
	}
	if got := r.EventInvokeConfig("nope", ""); got != DefaultEventInvokeConfig() {
		t.Fatalf("unknown function config = %+v", got)
	}

	// List: $LATEST, versions, aliases, paged.
	var arns []string
	marker := ""
	for range 10 {
		page, err := r.ListFunctionEventInvokeConfigs(ctx, "fn", marker, 1)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, c := range page.FunctionEventInvokeConfigs {
			arns = append(arns, c.FunctionArn)
		}
		if marker = page.NextMarker; marker == "" {
			break
		}
	}
	if got, want := strings.Join(arns, " "), arn+":$LATEST "+arn+":1 "+arn+":live"; got != want {
		t.Fatalf("listed %s, want %s", got, want)
	}
	_, err = r.ListFunctionEventInvokeConfigs(ctx, "nope", "", 0)
	wantType(t, err, lambdaerr.TypeResourceNotFound)

	// Deleting the alias deletes its configuration; a new alias of the
	// same name starts without one.
	if err := r.DeleteAlias(ctx, "fn", "live"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateAlias(ctx, "fn", &lambdaapi.CreateAliasRequest{Name: "live", FunctionVersion: "1"}); err != nil {
		t.Fatal(err)
	}
	_, err = r.GetFunctionEventInvokeConfig(ctx, "fn", "live")
	wantType(t, err, lambdaerr.TypeResourceNotFound)
	if err := r.DeleteAlias(ctx, "fn", "live"); err != nil {
		t.Fatal(err)
	}
	// So does deleting the version.
	if err := r.DeleteFunction(ctx, "fn", "1"); err != nil {
		t.Fatal(err)
	}
	if e, _ := r.getEntry(ctx, eventInvokeKey("fn", "1")); e != nil {
		t.Fatal("the version's configuration outlived it")
	}

	// Delete.
	if err := r.DeleteFunctionEventInvokeConfig(ctx, "fn", ""); err != nil {
		t.Fatalf("delete: %v", err)
	}
	err = r.DeleteFunctionEventInvokeConfig(ctx, "fn", "")
	wantType(t, err, lambdaerr.TypeResourceNotFound)
	if got := r.EventInvokeConfig("fn", ""); got != DefaultEventInvokeConfig() {
		t.Fatalf("after delete EventInvokeConfig = %+v", got)
	}
}

func TestDeleteFunctionDeletesItsEventInvokeConfigs(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	ctx := t.Context()
	mustCreate(t, r, "fn")
	if _, err := r.PublishVersion(ctx, "fn", nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"", "1"} {
		if _, err := r.PutFunctionEventInvokeConfig(ctx, "fn", q, &lambdaapi.EventInvokeConfigRequest{MaximumRetryAttempts: ptr(1)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.DeleteFunction(ctx, "fn", ""); err != nil {
		t.Fatal(err)
	}
	keys, err := r.listKeys(ctx, eventInvokeKey("fn", ">"))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Fatalf("keys left after delete: %v", keys)
	}
	r.mu.RLock()
	_, inView := r.view.fns["fn"]
	r.mu.RUnlock()
	if inView {
		t.Fatal("the view still holds the deleted function")
	}
	mustCreate(t, r, "fn")
	_, err = r.GetFunctionEventInvokeConfig(ctx, "fn", "")
	wantType(t, err, lambdaerr.TypeResourceNotFound)
	if got := r.EventInvokeConfig("fn", ""); got != DefaultEventInvokeConfig() {
		t.Fatalf("a re-created function inherited %+v", got)
	}
}

func TestEventInvokeConfigReachesOtherNodes(t *testing.T) {
	st := newStore(t)
	a := newRegistry(t, st)
	b := newRegistry(t, st)
	mustCreate(t, a, "fn")
	if _, err := a.PutFunctionEventInvokeConfig(t.Context(), "fn", "", &lambdaapi.EventInvokeConfigRequest{MaximumRetryAttempts: ptr(0)}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		if got := b.EventInvokeConfig("fn", ""); got.MaximumRetryAttempts != 0 {
			return fmt.Errorf("b sees %+v", got)
		}
		return nil
	})
	if err := b.DeleteFunctionEventInvokeConfig(t.Context(), "fn", ""); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		if got := a.EventInvokeConfig("fn", ""); got != DefaultEventInvokeConfig() {
			return fmt.Errorf("a sees %+v", got)
		}
		return nil
	})
	// A third node built after the writes loads them from the bucket.
	if _, err := a.PutFunctionEventInvokeConfig(t.Context(), "fn", "", &lambdaapi.EventInvokeConfigRequest{MaximumEventAgeInSeconds: ptr(60)}); err != nil {
		t.Fatal(err)
	}
	c := newRegistry(t, st)
	if got := c.EventInvokeConfig("fn", ""); got.MaximumEventAge != time.Minute {
		t.Fatalf("a new node loaded %+v", got)
	}
}

func TestEventInvokeConfigWireShape(t *testing.T) {
	rec := &eventInvokeRecord{Function: "fn", Qualifier: "$LATEST", MaxRetry: ptr(0), LastModifiedMs: 1573687896493, OnFailure: testQueueARN}
	b, err := json.Marshal(rec.wire("arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"LastModified":1573687896.493,"FunctionArn":"arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST","MaximumRetryAttempts":0,` +
		`"DestinationConfig":{"OnSuccess":{},"OnFailure":{"Destination":"arn:aws:sqs:us-east-1:000000000000:failures"}}}`
	if string(b) != want {
		t.Fatalf("wire shape\n%s\nwant\n%s", b, want)
	}
}

func TestDeadLetterConfigAcceptsOnlyBuiltInQueues(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	mustCreate(t, r, "fn")
	tests := []struct {
		name     string
		target   string
		wantType string // "" means accepted
		wantPart string
	}{
		{name: "a queue of this server", target: testQueueARN},
		{name: "an empty target, which clears it", target: ""},
		{name: "an SNS topic", target: "arn:aws:sns:us-east-1:000000000000:topic", wantType: lambdaerr.TypeInvalidParameterValue,
			wantPart: "is an Amazon SNS topic, which this server does not support: use a built-in queue ARN (arn:aws:sqs:us-east-1:000000000000:NAME)"},
		{name: "an S3 bucket", target: "arn:aws:s3:::bucket", wantType: lambdaerr.TypeInvalidParameterValue, wantPart: "accepts only built-in queue ARNs"},
		{name: "a queue of another account", target: "arn:aws:sqs:us-east-1:111111111111:q", wantType: lambdaerr.TypeInvalidParameterValue, wantPart: "region us-east-1, account 000000000000"},
		{name: "a FIFO queue", target: "arn:aws:sqs:us-east-1:000000000000:q.fifo", wantType: lambdaerr.TypeInvalidParameterValue, wantPart: "FIFO"},
		{name: "a bad queue name", target: "arn:aws:sqs:us-east-1:000000000000:a/b", wantType: lambdaerr.TypeInvalidParameterValue, wantPart: "queue name"},
		{name: "something that is not an ARN", target: "queue", wantType: lambdaerr.TypeValidation, wantPart: "deadLetterConfig.targetArn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := createReq(t, "dlq")
			req.DeadLetterConfig = &lambdaapi.DeadLetterConfig{TargetArn: tc.target}
			_, errCreate := r.CreateFunction(t.Context(), req)
			_, errUpdate := r.UpdateFunctionConfiguration(t.Context(), "fn", &lambdaapi.UpdateFunctionConfigurationRequest{
				DeadLetterConfig: &lambdaapi.DeadLetterConfig{TargetArn: tc.target},
			})
			if tc.wantType == "" {
				if errCreate != nil || errUpdate != nil {
					t.Fatalf("create: %v; update: %v", errCreate, errUpdate)
				}
				if err := r.DeleteFunction(t.Context(), "dlq", ""); err != nil {
					t.Fatal(err)
				}
				fc, err := r.GetFunctionConfiguration(t.Context(), "fn", "")
				if err != nil {
					t.Fatal(err)
				}
				if got := ""; fc.DeadLetterConfig != nil {
					got = fc.DeadLetterConfig.TargetArn
					if got != tc.target {
						t.Fatalf("DeadLetterConfig = %q, want %q", got, tc.target)
					}
				} else if tc.target != "" {
					t.Fatalf("DeadLetterConfig missing, want %q", tc.target)
				}
				return
			}
			for op, err := range map[string]error{"create": errCreate, "update": errUpdate} {
				e := wantType(t, err, tc.wantType)
				if !strings.Contains(e.Message, tc.wantPart) {
					t.Errorf("%s: message %q lacks %q", op, e.Message, tc.wantPart)
				}
			}
		})
	}
}
