package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/updraft/updraft/internal/authz"
	"github.com/updraft/updraft/internal/awsquery"
	"github.com/updraft/updraft/internal/iam"
	"github.com/updraft/updraft/internal/sqs"
	"github.com/updraft/updraft/internal/sts"
)

// queryService returns the handler of a query-protocol request (IAM, STS
// or SQS: POST / with a form naming Version), or nil. It reads the body to
// find the Version and gives r an identical one.
func (s *Server) queryService(r *http.Request) http.Handler {
	var h http.Handler
	body, err := io.ReadAll(io.LimitReader(r.Body, awsquery.MaxBodyBytes+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	if err != nil {
		return nil
	}
	var namespace, service string
	switch awsquery.VersionOf(r.URL.RawQuery, body) {
	case iam.APIVersion:
		h, namespace, service = s.deps.IAM, "https://iam.amazonaws.com/doc/2010-05-08/", "iam"
	case sqs.APIVersion:
		// The SQS handler authorises each operation itself.
		if s.deps.SQS == nil {
			return nil
		}
		if !signedFor(r, "sqs") {
			return wrongQueryService("http://queue.amazonaws.com/doc/2012-11-05/", "sqs")
		}
		return s.deps.SQS
	case sts.APIVersion:
		// GetCallerIdentity needs no permission; AssumeRole checks its own.
		h, namespace, service = s.deps.STS, "https://sts.amazonaws.com/doc/2011-06-15/", "sts"
	}
	if h == nil {
		return nil
	}
	// The verifier let either service through (see SigningScope); now
	// that the Version is known, the scope must name its service.
	if !signedFor(r, service) {
		return wrongQueryService(namespace, service)
	}
	if service == "iam" && s.deps.Authorizer != nil {
		if req, err := awsquery.ParseForm(r.URL.RawQuery, body); err == nil && req.Action != "" {
			action, resource := s.iamResource(r, req)
			if err := s.authorize(r, action, resource, nil); err != nil {
				var d *authz.Denied
				if !errors.As(err, &d) {
					return nil
				}
				return deniedQuery(namespace, d)
			}
		}
	}
	return withCaller(h, s.deps.Root)
}

// iamResource names the IAM action of req and the entity it acts on, as
// IAM authorises them: arn:aws:iam::ACCOUNT:user/NAME, role/NAME,
// policy/NAME or the policy ARN given; "*" for listings.
func (s *Server) iamResource(r *http.Request, req *awsquery.Request) (string, string) {
	action := "iam:" + req.Action
	base := "arn:aws:iam::" + s.deps.AccountID + ":"
	switch {
	case req.Get("PolicyArn") != "":
		return action, req.Get("PolicyArn")
	case req.Get("RoleName") != "":
		return action, base + "role/" + req.Get("RoleName")
	case req.Get("UserName") != "":
		return action, base + "user/" + req.Get("UserName")
	case req.Action == "CreatePolicy":
		return action, base + "policy/" + req.Get("PolicyName")
	case strings.HasSuffix(req.Action, "AccessKey") || req.Action == "ListAccessKeys" || req.Action == "GetUser":
		// Without UserName these act on the caller's own user.
		if p, ok := principalFrom(r); ok && p.Type == iam.PrincipalUser {
			return action, p.ARN
		}
	}
	return action, "*"
}

// deniedQuery answers a refused query-protocol request as IAM does: 403
// AccessDenied in its XML error document.
func deniedQuery(namespace string, d *authz.Denied) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqID := newRequestID()
		body := awsquery.MarshalError(namespace, reqID, awsquery.Errorf(http.StatusForbidden, "AccessDenied", "%s", d.Message))
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("X-Amzn-RequestId", reqID)
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write(body)
	})
}

// withCaller puts the caller's principal in the request context.
//
// TODO(lead): until authentication resolves the signing key to a
// principal (iam.Store.LookupAccessKey / LookupSession), every request
// that reaches IAM or STS is the account root: this is the one place
// that assumes so.
func withCaller(h http.Handler, root iam.Principal) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := iam.PrincipalFrom(r.Context()); !ok {
			r = r.WithContext(iam.WithPrincipal(r.Context(), root))
		}
		h.ServeHTTP(w, r)
	})
}
