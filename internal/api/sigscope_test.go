package api

import (
	"net/http/httptest"
	"slices"
	"testing"
)

func TestSigningScopeNamesTheServiceOfTheRoute(t *testing.T) {
	tests := []struct {
		name, method, path, target string
		wantServices, wantRegions  []string
	}{
		{name: "a Lambda REST path is lambda", method: "POST", path: "/2015-03-31/functions/f/invocations", wantServices: []string{"lambda"}},
		{name: "updraft's logs endpoint is lambda", method: "GET", path: "/updraft/v1/functions/f/logs", wantServices: []string{"lambda"}},
		{name: "an invocation record is lambda", method: "GET", path: "/updraft/v1/invocations/x", wantServices: []string{"lambda"}},
		{name: "the HTTP proxy is execute-api", method: "PUT", path: "/updraft/v1/http/web/a/b", wantServices: []string{"execute-api"}},
		{name: "the async batch endpoint is execute-api", method: "POST", path: "/updraft/v1/async/rows", wantServices: []string{"execute-api"}},
		{name: "a Kinesis target on / is kinesis", method: "POST", path: "/", target: "Kinesis_20131202.PutRecord", wantServices: []string{"kinesis"}},
		{name: "a form on / is iam, sts or sqs, also in us-east-1", method: "POST", path: "/",
			wantServices: []string{"iam", "sts", "sqs"}, wantRegions: []string{"us-east-1"}},
		{name: "an SQS target on / is sqs", method: "POST", path: "/", target: "AmazonSQS.SendMessage", wantServices: []string{"sqs"}},
		{name: "a queue URL's path is sqs", method: "POST", path: "/000000000000/my-queue.fifo", wantServices: []string{"sqs"}},
		{name: "another two-segment path is lambda", method: "POST", path: "/2015-03-31/functions", wantServices: []string{"lambda"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://localhost"+tc.path, nil)
			if tc.target != "" {
				r.Header.Set("X-Amz-Target", tc.target)
			}
			got := SigningScope(r)
			if !slices.Equal(got.Services, tc.wantServices) || !slices.Equal(got.Regions, tc.wantRegions) {
				t.Errorf("SigningScope = %+v, want services %q regions %q", got, tc.wantServices, tc.wantRegions)
			}
		})
	}
}
