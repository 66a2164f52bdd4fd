package api

import (
	"net/http"
	"strings"

	"github.com/updraft/updraft/internal/auth"
	"github.com/updraft/updraft/internal/awsquery"
)

// globalRegion is the region SDKs sign IAM's and STS's global endpoints
// for, whatever region they are configured with.
const globalRegion = "us-east-1"

// SigningScope says which services a request's SigV4 credential scope may
// name, by the route it is for; the daemon passes it to the verifier with
// [auth.WithScope] and the server's region. It reads no body:
//
//   - POST / with a Kinesis X-Amz-Target: "kinesis";
//   - POST / with a Step Functions X-Amz-Target: "states";
//   - POST / with a DynamoDB X-Amz-Target: "dynamodb";
//   - any other POST /: IAM's or STS's query protocol, "iam" or "sts",
//     also signed for us-east-1. Which of the two is decided by the
//     form's Version, in the body, so the verifier accepts either and
//     queryService checks the one the Version names once it has read it;
//   - /updraft/v1/http/... and /updraft/v1/async/...: "execute-api", as
//     API Gateway's callers sign (updraft's CLI signs them so too);
//   - every other path, Lambda's REST API and updraft's own endpoints:
//     "lambda".
func SigningScope(r *http.Request) auth.Allowed {
	p := r.URL.Path
	switch {
	case p == "/" && r.Method == http.MethodPost && isKinesis(r):
		return auth.Allowed{Services: []string{"kinesis"}}
	case p == "/" && r.Method == http.MethodPost && isStepFunctions(r):
		return auth.Allowed{Services: []string{"states"}}
	case p == "/" && r.Method == http.MethodPost && isDynamoDB(r):
		return auth.Allowed{Services: []string{"dynamodb"}}
	case p == "/" && r.Method == http.MethodPost:
		return auth.Allowed{Services: []string{"iam", "sts"}, Regions: []string{globalRegion}}
	case strings.HasPrefix(p, "/updraft/v1/http/"), strings.HasPrefix(p, "/updraft/v1/async/"):
		return auth.Allowed{Services: []string{"execute-api"}}
	}
	return auth.Allowed{Services: []string{"lambda"}}
}

// wrongQueryService answers an IAM or STS request signed for the other of
// the two, in the query protocol's shape, with AWS's message.
func wrongQueryService(namespace, service string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqID := newRequestID()
		body := awsquery.MarshalError(namespace, reqID, awsquery.Errorf(http.StatusForbidden, "SignatureDoesNotMatch",
			"Credential should be scoped to correct service: '%s'. ", service))
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("X-Amzn-RequestId", reqID)
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write(body)
	})
}

// signedFor reports whether the verified request r was signed for service;
// a request that passed no verifier (--auth none) always was.
func signedFor(r *http.Request, service string) bool {
	s, ok := auth.ScopeFromContext(r.Context())
	return !ok || s.Service == service
}
