package daemon

import (
	"net/http"

	"github.com/updraft/updraft/internal/api"
	"github.com/updraft/updraft/internal/authz"
	"github.com/updraft/updraft/internal/iam"
)

// sqsAuthorizer checks an SQS operation's caller, whom the API's
// authenticator put in the request context, with a; nil (no
// authorisation, --auth none) when a is nil.
func sqsAuthorizer(a api.Authorizer) func(r *http.Request, action, resource string) error {
	if a == nil {
		return nil
	}
	return func(r *http.Request, action, resource string) error {
		p, ok := iam.PrincipalFrom(r.Context())
		if !ok {
			return nil
		}
		return a.Authorize(p, action, resource, authz.Context{SourceIP: r.RemoteAddr, SecureTransport: r.TLS != nil})
	}
}
