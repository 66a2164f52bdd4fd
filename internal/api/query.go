package api

import (
	"bytes"
	"io"
	"net/http"

	"github.com/updraft/updraft/internal/awsquery"
	"github.com/updraft/updraft/internal/iam"
	"github.com/updraft/updraft/internal/sts"
)

// queryService returns the handler of a query-protocol request (IAM or
// STS: POST / with a form naming Version), or nil. It reads the body to
// find the Version and gives r an identical one.
func (s *Server) queryService(r *http.Request) http.Handler {
	var h http.Handler
	body, err := io.ReadAll(io.LimitReader(r.Body, awsquery.MaxBodyBytes+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	if err != nil {
		return nil
	}
	switch awsquery.VersionOf(r.URL.RawQuery, body) {
	case iam.APIVersion:
		h = s.deps.IAM
	case sts.APIVersion:
		h = s.deps.STS
	}
	if h == nil {
		return nil
	}
	return withCaller(h, s.deps.Root)
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
