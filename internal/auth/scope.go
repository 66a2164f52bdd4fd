package auth

import (
	"fmt"
	"net/http"
	"slices"
)

// Allowed is what one request may be signed for: the services its
// credential scope may name and the regions besides the verifier's own.
// The API layer decides it from the route, so that this package knows
// nothing of paths.
type Allowed struct {
	// Services are the service names the credential scope may name, e.g.
	// "lambda". The first is the one the refusal names, as AWS's message
	// names the service it expected. Empty means any service.
	Services []string
	// Regions are accepted besides the verifier's region: IAM and STS are
	// global services that SDKs sign for us-east-1 ("If you use a service
	// like IAM that uses a globally unique endpoint, use the default
	// region (us-east-1)", AWS General Reference, "Elements of an AWS API
	// request signature").
	Regions []string
}

// WithScope makes the Verifier refuse a request whose credential scope
// names a region other than region (or one of allowed(r).Regions), or a
// service not in allowed(r).Services, with AWS's InvalidSignatureException
// messages. allowed is called before anything else about the request is
// checked against a secret and before any body byte is read, so it must
// not read the body. Without this option any region and service are
// accepted.
func WithScope(region string, allowed func(r *http.Request) Allowed) Option {
	return func(v *Verifier) {
		v.region = region
		v.allowed = allowed
	}
}

// checkScope checks the credential scope of a against what r may be
// signed for. AWS checks the region first.
func (v *Verifier) checkScope(r *http.Request, c credential) error {
	if v.allowed == nil {
		return nil
	}
	al := v.allowed(r)
	if c.Region != v.region && !slices.Contains(al.Regions, c.Region) {
		return newError(TypeInvalidSignature, http.StatusForbidden, msgWrongRegion,
			fmt.Errorf("credential scope region %q, want %q or one of %q", c.Region, v.region, al.Regions))
	}
	if len(al.Services) > 0 && !slices.Contains(al.Services, c.Service) {
		return newError(TypeInvalidSignature, http.StatusForbidden,
			fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", al.Services[0]),
			fmt.Errorf("credential scope service %q, want one of %q", c.Service, al.Services))
	}
	return nil
}
