package auth

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// SigV4 names used on the wire.
const (
	algorithm         = "AWS4-HMAC-SHA256"
	scopeTerminator   = "aws4_request"
	unsignedPayload   = "UNSIGNED-PAYLOAD"
	headerAmzDate     = "X-Amz-Date"
	headerContentHash = "X-Amz-Content-Sha256"
	// headerSecurityToken carries the session token of temporary
	// credentials (also as a query parameter of presigned requests).
	headerSecurityToken = "X-Amz-Security-Token"

	queryAlgorithm     = "X-Amz-Algorithm"
	queryCredential    = "X-Amz-Credential"
	queryDate          = "X-Amz-Date"
	queryExpires       = "X-Amz-Expires"
	querySignedHeaders = "X-Amz-SignedHeaders"
	querySignature     = "X-Amz-Signature"
	queryContentHash   = "X-Amz-Content-Sha256"

	// maxPresignExpires is the longest X-Amz-Expires SigV4 allows: 7 days.
	maxPresignExpires = 7 * 24 * 60 * 60
)

// credential is the parsed Credential component:
// AKID/YYYYMMDD/REGION/SERVICE/aws4_request.
type credential struct {
	AccessKeyID string
	Date        string // YYYYMMDD
	Region      string
	Service     string
}

// scope returns the credential scope as it appears in the string to sign.
func (c credential) scope() string {
	return c.Date + "/" + c.Region + "/" + c.Service + "/" + scopeTerminator
}

// authorization is what a client claims about its signature, taken from
// either the Authorization header or the presigned query parameters.
type authorization struct {
	Credential credential
	// SignedHeaders is the SignedHeaders list exactly as sent (names
	// separated by ';'); it is copied verbatim into the canonical request.
	SignedHeaders string
	// Signature is the lower- or upper-case hex signature as sent.
	Signature string
}

// headerNames returns the signed header names in the order given.
func (a authorization) headerNames() []string {
	return strings.Split(a.SignedHeaders, ";")
}

// String formats a as an Authorization header value, the inverse of
// parseAuthorization.
func (a authorization) String() string {
	c := a.Credential
	return algorithm + " Credential=" + c.AccessKeyID + "/" + c.scope() +
		", SignedHeaders=" + a.SignedHeaders + ", Signature=" + a.Signature
}

// parseAuthorization parses an Authorization header of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
//
// Components may be separated by "," with or without spaces (botocore and
// the Go SDK write ", "); their order does not matter. Errors are
// [*Error]s of type IncompleteSignatureException with AWS's wording.
func parseAuthorization(h string) (authorization, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != algorithm {
		return authorization{}, errIncomplete(fmt.Sprintf("Unsupported AWS 'algorithm': %q; only %s is supported.", alg, algorithm))
	}
	fields := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return authorization{}, errIncomplete(fmt.Sprintf("Authorization header has a malformed component %q; expected key=value.", part))
		}
		if _, dup := fields[k]; dup {
			return authorization{}, errIncomplete(fmt.Sprintf("Authorization header has a duplicate '%s' parameter.", k))
		}
		fields[k] = v
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if _, ok := fields[k]; !ok {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", k))
		}
	}
	if len(missing) > 0 {
		return authorization{}, errIncomplete(strings.Join(missing, " "))
	}
	return newAuthorization(fields["Credential"], fields["SignedHeaders"], fields["Signature"])
}

// parsePresigned parses the presigned query form. q must hold the decoded
// query parameters. It returns the authorization, the X-Amz-Date value and
// X-Amz-Expires in seconds (0 when absent).
func parsePresigned(q url.Values) (a authorization, date string, expires int64, err error) {
	get := func(k string) (string, bool) {
		vs, ok := q[k]
		if !ok || len(vs) == 0 {
			return "", false
		}
		return vs[0], len(vs) == 1
	}
	var missing []string
	vals := map[string]string{}
	for _, k := range []string{queryAlgorithm, queryCredential, querySignature, querySignedHeaders, queryDate} {
		v, ok := get(k)
		if !ok {
			missing = append(missing, fmt.Sprintf("Query-string authentication requires exactly one '%s' parameter.", k))
		}
		vals[k] = v
	}
	if len(missing) > 0 {
		return authorization{}, "", 0, errIncomplete(strings.Join(missing, " "))
	}
	if vals[queryAlgorithm] != algorithm {
		return authorization{}, "", 0, errIncomplete(fmt.Sprintf("Unsupported AWS 'algorithm': %q; only %s is supported.", vals[queryAlgorithm], algorithm))
	}
	if e, ok := q[queryExpires]; ok {
		if len(e) != 1 {
			return authorization{}, "", 0, errIncomplete("Query-string authentication requires exactly one 'X-Amz-Expires' parameter.")
		}
		expires, err = strconv.ParseInt(e[0], 10, 64)
		if err != nil || expires <= 0 {
			return authorization{}, "", 0, errIncomplete("X-Amz-Expires should be a number of seconds greater than zero.")
		}
		if expires > maxPresignExpires {
			return authorization{}, "", 0, errIncomplete(fmt.Sprintf("X-Amz-Expires must be less than a week (in seconds) that is %d.", maxPresignExpires))
		}
	}
	a, err = newAuthorization(vals[queryCredential], vals[querySignedHeaders], vals[querySignature])
	if err != nil {
		return authorization{}, "", 0, err
	}
	return a, vals[queryDate], expires, nil
}

// newAuthorization validates the three components common to both forms.
func newAuthorization(cred, signedHeaders, signature string) (authorization, error) {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || slicesContainEmpty(parts) {
		return authorization{}, errIncomplete(fmt.Sprintf(
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/%s, got '%s'.", scopeTerminator, cred))
	}
	if parts[4] != scopeTerminator {
		return authorization{}, errIncomplete(fmt.Sprintf(
			"Credential should be scoped with a valid terminator: '%s', not '%s'.", scopeTerminator, parts[4]))
	}
	if !isDigits(parts[1], 8) {
		return authorization{}, errIncomplete(fmt.Sprintf("Credential date must be in YYYYMMDD form, got '%s'.", parts[1]))
	}
	if signedHeaders == "" {
		return authorization{}, errIncomplete("SignedHeaders must not be empty.")
	}
	hasHost := false
	for name := range strings.SplitSeq(signedHeaders, ";") {
		// HTTP/2 clients may sign the :authority pseudo-header in place
		// of Host (the AWS SDK for JavaScript v3 does); it carries the
		// same value.
		if name == authorityHeader {
			hasHost = true
			continue
		}
		if !isToken(name) {
			return authorization{}, errIncomplete(fmt.Sprintf("SignedHeaders contains an invalid header name %q.", name))
		}
		if strings.EqualFold(name, "host") {
			hasHost = true
		}
	}
	if !hasHost {
		return authorization{}, errIncomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if !isHex(signature, 64) {
		return authorization{}, errIncomplete("Signature must be 64 hexadecimal characters.")
	}
	return authorization{
		Credential: credential{
			AccessKeyID: parts[0],
			Date:        parts[1],
			Region:      parts[2],
			Service:     parts[3],
		},
		SignedHeaders: signedHeaders,
		Signature:     signature,
	}, nil
}

func slicesContainEmpty(ss []string) bool {
	for _, s := range ss {
		if s == "" {
			return true
		}
	}
	return false
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// isToken reports whether s is a non-empty RFC 9110 token (a valid header
// field name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
