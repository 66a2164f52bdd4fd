package api_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/updraft/updraft/internal/lambdaapi"
)

const eicPath = "/2019-09-25/functions/fn/event-invoke-config"

var lastModifiedNumberRE = regexp.MustCompile(`"LastModified":\d+(\.\d+)?`)

// TestEventInvokeConfigWireShape checks the FunctionEventInvokeConfig
// operations' responses byte for byte against testdata/eic_*.golden
// (LastModified masked: it is the time of the write).
func TestEventInvokeConfigWireShape(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, "fn")
	f.mustCreate(t, "rec") // a function destination must exist
	tests := []struct {
		golden string
		method string
		target string
		body   string
		status int
	}{
		{golden: "eic_get_missing", method: "GET", target: eicPath, status: 404},
		{golden: "eic_update_missing", method: "POST", target: eicPath, body: `{"MaximumRetryAttempts":1}`, status: 404},
		{golden: "eic_delete_missing", method: "DELETE", target: eicPath, status: 404},
		{golden: "eic_put_unknown_function", method: "PUT", target: "/2019-09-25/functions/nope/event-invoke-config", body: `{"MaximumRetryAttempts":1}`, status: 404},
		{golden: "eic_put_unknown_alias", method: "PUT", target: eicPath + "?Qualifier=live", body: `{"MaximumRetryAttempts":1}`, status: 404},
		{golden: "eic_put_out_of_range", method: "PUT", target: eicPath, body: `{"MaximumRetryAttempts":3,"MaximumEventAgeInSeconds":30}`, status: 400},
		{golden: "eic_put_empty", method: "PUT", target: eicPath, body: `{}`, status: 400},
		{golden: "eic_put_sns", method: "PUT", target: eicPath, body: `{"DestinationConfig":{"OnFailure":{"Destination":"arn:aws:sns:us-east-1:000000000000:t"}}}`, status: 400},
		{golden: "eic_put_wrong_type", method: "PUT", target: eicPath, body: `{"MaximumRetryAttempts":"two"}`, status: 400},
		{golden: "eic_list_max_items", method: "GET", target: eicPath + "/list?MaxItems=51", status: 400},
		{golden: "eic_put", method: "PUT", target: eicPath, status: 200,
			body: `{"MaximumRetryAttempts":0,"DestinationConfig":{"OnFailure":{"Destination":"arn:aws:sqs:us-east-1:000000000000:failed"},"OnSuccess":{"Destination":"arn:aws:lambda:us-east-1:000000000000:function:rec"}}}`},
		{golden: "eic_update", method: "POST", target: "/2019-09-25/functions/" + fnARN + "fn/event-invoke-config", body: `{"MaximumEventAgeInSeconds":600}`, status: 200},
		{golden: "eic_get", method: "GET", target: eicPath + "?Qualifier=$LATEST", status: 200},
		{golden: "eic_list", method: "GET", target: eicPath + "/list", status: 200},
		{golden: "eic_delete", method: "DELETE", target: eicPath, status: 204},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			rec := f.do(t, tc.method, tc.target, strings.NewReader(tc.body))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.status, rec.Body)
			}
			got := lastModifiedNumberRE.ReplaceAll(goldenResponse(t, rec), []byte(`"LastModified":<epoch seconds>`))
			checkGolden(t, tc.golden, got)
		})
	}
}

// TestEventInvokeConfigThroughTheSDK drives the operations with
// aws-sdk-go-v2, whose deserializers must accept every response.
func TestEventInvokeConfigThroughTheSDK(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, "fn")
	ts := httptest.NewServer(f.srv)
	t.Cleanup(ts.Close)
	c := lambda.New(lambda.Options{
		Region:           testRegion,
		BaseEndpoint:     aws.String(ts.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1,
	})
	ctx := t.Context()
	const queue = "arn:aws:sqs:us-east-1:000000000000:failed"
	before := time.Now().Add(-time.Second)

	put, err := c.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{
		FunctionName:         aws.String("fn"),
		MaximumRetryAttempts: aws.Int32(0),
		DestinationConfig:    &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String(queue)}},
	})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if aws.ToString(put.FunctionArn) != fnARN+"fn:$LATEST" || aws.ToInt32(put.MaximumRetryAttempts) != 0 || put.MaximumEventAgeInSeconds != nil ||
		put.LastModified == nil || put.LastModified.Before(before) || aws.ToString(put.DestinationConfig.OnFailure.Destination) != queue {
		t.Fatalf("put returned %+v", put)
	}

	upd, err := c.UpdateFunctionEventInvokeConfig(ctx, &lambda.UpdateFunctionEventInvokeConfigInput{
		FunctionName: aws.String("fn"), MaximumEventAgeInSeconds: aws.Int32(300),
	})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if aws.ToInt32(upd.MaximumRetryAttempts) != 0 || aws.ToInt32(upd.MaximumEventAgeInSeconds) != 300 {
		t.Fatalf("update returned retries %v, age %v", upd.MaximumRetryAttempts, upd.MaximumEventAgeInSeconds)
	}

	get, err := c.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("fn"), Qualifier: aws.String("$LATEST")})
	if err != nil || aws.ToInt32(get.MaximumEventAgeInSeconds) != 300 {
		t.Fatalf("get: %+v, %v", get, err)
	}
	list, err := c.ListFunctionEventInvokeConfigs(ctx, &lambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String("fn"), MaxItems: aws.Int32(50)})
	if err != nil || len(list.FunctionEventInvokeConfigs) != 1 || list.NextMarker != nil {
		t.Fatalf("list: %+v, %v", list, err)
	}
	if _, err := c.DeleteFunctionEventInvokeConfig(ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String("fn")}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = c.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("fn")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("get after delete: %v", err)
	}
	_, err = c.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("fn"), MaximumRetryAttempts: aws.Int32(3)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
		t.Fatalf("put of 3 retries: %v", err)
	}
}

// TestEventInvokeConfigRoutesDoNotShadowOthers checks that the list path
// is its own route and that unknown methods still fall through.
func TestEventInvokeConfigRoutesDoNotShadowOthers(t *testing.T) {
	f := newFixture(t)
	f.mustCreate(t, "fn")
	rec := f.doJSON(t, "PUT", eicPath, lambdaapi.EventInvokeConfigRequest{MaximumRetryAttempts: new(int)})
	wantStatus(t, rec, http.StatusOK)
	rec = f.do(t, "GET", eicPath+"/list", nil)
	wantStatus(t, rec, http.StatusOK)
	if !strings.HasPrefix(rec.Body.String(), `{"FunctionEventInvokeConfigs":[{`) {
		t.Fatalf("list body %s", rec.Body)
	}
	rec = f.do(t, "PATCH", eicPath, nil)
	if rec.Code != http.StatusNotFound || rec.Header().Get("X-Amzn-ErrorType") != "UnknownOperationException" {
		t.Fatalf("PATCH = %d %s", rec.Code, rec.Header().Get("X-Amzn-ErrorType"))
	}
}
