package e2e

import (
	"time"

	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/testutil"
)

// TestSDKFlow walks the life of a function with aws-sdk-go-v2's Lambda
// client: create, invoke (with Tail logs and DryRun), get, list, update
// code, publish, alias, invoke by alias, delete.
func TestSDKFlow(t *testing.T) {
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()

	created := createTestFunction(t, c, "sdk-flow", fnOpts{})
	if created.State != types.StatePending || created.LastUpdateStatus != "" || created.StateReasonCode != types.StateReasonCodeCreating {
		t.Fatalf("state = %s/%s (%s), want Pending with no LastUpdateStatus", created.State, created.LastUpdateStatus, created.StateReasonCode)
	}
	// The SDK's waiter, as a deployment tool would use it: its first
	// poll, at once, finds the function Active (a second poll would come
	// a second later).
	start := time.Now()
	if err := lambda.NewFunctionActiveV2Waiter(c).Wait(ctx(t), getFunctionInput("sdk-flow"), 30*time.Second); err != nil {
		t.Fatalf("FunctionActiveV2 waiter: %v", err)
	}
	if d := time.Since(start); d >= time.Second {
		t.Errorf("FunctionActiveV2 waiter took %v: the function was not Active at its first poll", d)
	}
	if aws.ToString(created.FunctionArn) != "arn:aws:lambda:us-east-1:000000000000:function:sdk-flow" {
		t.Fatalf("arn = %s", aws.ToString(created.FunctionArn))
	}

	res, err := c.Invoke(ctx(t), &lambda.InvokeInput{
		FunctionName: aws.String("sdk-flow"),
		Payload:      []byte(`{"action":"echo","echo":{"hello":"sdk"}}`),
		LogType:      types.LogTypeTail,
	})
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	if res.StatusCode != 200 || res.FunctionError != nil || aws.ToString(res.ExecutedVersion) != "$LATEST" {
		t.Fatalf("invoke: status %d, error %v, version %s", res.StatusCode, res.FunctionError, aws.ToString(res.ExecutedVersion))
	}
	var echo struct {
		Echo      map[string]string `json:"echo"`
		RequestID string            `json:"requestId"`
		Code      string            `json:"code"`
	}
	if err := json.Unmarshal(res.Payload, &echo); err != nil || echo.Echo["hello"] != "sdk" {
		t.Fatalf("payload %s: %v", res.Payload, err)
	}
	logs, err := base64.StdEncoding.DecodeString(aws.ToString(res.LogResult))
	if err != nil {
		t.Fatalf("log result: %v", err)
	}
	for _, want := range []string{"START RequestId: " + echo.RequestID, "END RequestId: " + echo.RequestID, "REPORT RequestId: " + echo.RequestID, "Init Duration:"} {
		if !strings.Contains(string(logs), want) {
			t.Errorf("tail log lacks %q:\n%s", want, logs)
		}
	}

	dry, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("sdk-flow"), InvocationType: types.InvocationTypeDryRun})
	if err != nil || dry.StatusCode != 204 {
		t.Fatalf("dry run: %v status %d", err, dry.StatusCode)
	}

	got, err := c.GetFunction(ctx(t), &lambda.GetFunctionInput{FunctionName: aws.String("sdk-flow")})
	if err != nil || aws.ToString(got.Configuration.CodeSha256) != aws.ToString(created.CodeSha256) {
		t.Fatalf("get: %v", err)
	}
	list, err := c.ListFunctions(ctx(t), &lambda.ListFunctionsInput{})
	if err != nil || len(list.Functions) != 1 || aws.ToString(list.Functions[0].FunctionName) != "sdk-flow" {
		t.Fatalf("list: %v %+v", err, list)
	}

	upd, err := c.UpdateFunctionCode(ctx(t), &lambda.UpdateFunctionCodeInput{
		FunctionName: aws.String("sdk-flow"),
		ZipFile:      testutil.FunctionZip(t, "./internal/testutil/testfn", "-X main.codeVersion=v2"),
	})
	if err != nil || aws.ToString(upd.RevisionId) == aws.ToString(created.RevisionId) {
		t.Fatalf("update code: %v", err)
	}
	var version string
	invokeJSON(t, c, "sdk-flow", map[string]string{"action": "version"}, &version)
	if version != "v2" {
		t.Fatalf("after update the function runs %q, want v2", version)
	}

	pub, err := c.PublishVersion(ctx(t), &lambda.PublishVersionInput{FunctionName: aws.String("sdk-flow")})
	if err != nil || aws.ToString(pub.Version) != "1" {
		t.Fatalf("publish: %v %v", err, pub)
	}
	alias, err := c.CreateAlias(ctx(t), &lambda.CreateAliasInput{FunctionName: aws.String("sdk-flow"), Name: aws.String("live"), FunctionVersion: aws.String("1")})
	if err != nil || aws.ToString(alias.AliasArn) != "arn:aws:lambda:us-east-1:000000000000:function:sdk-flow:live" {
		t.Fatalf("alias: %v %v", err, alias)
	}
	byAlias, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("sdk-flow"), Qualifier: aws.String("live"), Payload: []byte(`{}`)})
	if err != nil || aws.ToString(byAlias.ExecutedVersion) != "1" {
		t.Fatalf("invoke alias: %v version %v", err, byAlias)
	}
	var aliasEcho struct {
		Arn     string `json:"arn"`
		Version string `json:"version"`
	}
	_ = json.Unmarshal(byAlias.Payload, &aliasEcho)
	if aliasEcho.Arn != "arn:aws:lambda:us-east-1:000000000000:function:sdk-flow:live" || aliasEcho.Version != "1" {
		t.Fatalf("function saw arn %q version %q", aliasEcho.Arn, aliasEcho.Version)
	}
	// name:qualifier and ARN forms reach the same version.
	for _, name := range []string{"sdk-flow:live", "arn:aws:lambda:us-east-1:000000000000:function:sdk-flow:1", "000000000000:function:sdk-flow"} {
		r, err := c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String(name)})
		if err != nil || r.FunctionError != nil {
			t.Fatalf("invoke %s: %v", name, err)
		}
	}

	if _, err := c.DeleteFunction(ctx(t), &lambda.DeleteFunctionInput{FunctionName: aws.String("sdk-flow")}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = c.Invoke(ctx(t), &lambda.InvokeInput{FunctionName: aws.String("sdk-flow")})
	if code := apiErrorCode(err); code != "ResourceNotFoundException" {
		t.Fatalf("invoke after delete: %v (code %q)", err, code)
	}
}
