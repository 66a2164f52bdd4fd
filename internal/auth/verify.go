package auth

import (
	"context"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults for a [Verifier]; see the With* options.
const (
	// DefaultMaxSkew is how far the signing time may be from the server's
	// clock, either way: 15 minutes, as in AWS.
	DefaultMaxSkew = 15 * time.Minute
	// DefaultMaxBodyBytes bounds the body the verifier reads to hash it.
	// It is the largest request Lambda accepts (CreateFunction with a
	// base64-encoded 50 MB zip: "Request must be smaller than 70167211
	// bytes for the CreateFunction operation").
	DefaultMaxBodyBytes = 70_167_211
	// DefaultMemoryBodyBytes is the largest body kept in memory; larger
	// ones are spooled to a temporary file. It covers a 6 MB synchronous
	// Invoke payload.
	DefaultMemoryBodyBytes = 8 << 20
)

// timeFormat is the SigV4 timestamp form of X-Amz-Date (ISO 8601 basic).
const timeFormat = "20060102T150405Z"

// Verifier checks AWS Signature Version 4 on incoming requests against a
// fixed set of credentials. It accepts the Authorization header form and the
// presigned query form. Without [WithScope] it accepts any service name and
// region in the credential scope; the server passes WithScope so that a
// request is signed for its region and for the service its path serves.
// A Verifier is immutable after [New] and safe for
// concurrent use.
type Verifier struct {
	secrets  map[string]string // access key ID → secret access key
	root     any               // the identity of the fixed credentials
	lookup   KeyLookup         // further keys (IAM users, sessions); nil: none
	now      func() time.Time
	maxSkew  time.Duration
	maxBody  int64
	memBody  int64
	spoolDir string
	budget   *budget   // bytes held by bodies under verification; never nil after New
	keys     *keyCache // derived signing keys
	region   string    // the region credential scopes must name, with allowed
	allowed  func(*http.Request) Allowed
	onError  func(http.ResponseWriter, *http.Request, error)
}

// Option configures a [Verifier].
type Option func(*Verifier)

// WithClock sets the clock used for the signing-time window. Tests pass a
// fixed clock; the default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(v *Verifier) { v.now = now }
}

// WithMaxSkew sets how far the signing time may be from the clock, either
// way (default [DefaultMaxSkew]). It does not apply to presigned requests
// that carry X-Amz-Expires, which are valid until then.
func WithMaxSkew(d time.Duration) Option {
	return func(v *Verifier) { v.maxSkew = d }
}

// WithMaxBodyBytes sets the largest body, in bytes, that will be read to
// check its hash (default [DefaultMaxBodyBytes]); a larger body fails with
// RequestEntityTooLargeException (413). Must be positive.
func WithMaxBodyBytes(n int64) Option {
	return func(v *Verifier) { v.maxBody = n }
}

// WithMemoryBodyBytes sets the largest body, in bytes, kept in memory after
// hashing (default [DefaultMemoryBodyBytes]); larger bodies are spooled to a
// temporary file. Zero spools every non-empty body.
func WithMemoryBodyBytes(n int64) Option {
	return func(v *Verifier) { v.memBody = n }
}

// WithSpoolDir sets the directory for spooled bodies ("" means the system
// temporary directory).
func WithSpoolDir(dir string) Option {
	return func(v *Verifier) { v.spoolDir = dir }
}

// KeyLookup finds the secret of an access key the fixed credentials do not
// hold, and the identity it stands for. sessionToken is the request's
// X-Amz-Security-Token ("" if none), which temporary credentials need. An
// unknown, inactive, expired or revoked key returns ok false.
type KeyLookup func(accessKeyID, sessionToken string) (secret string, identity any, ok bool)

// WithKeyLookup makes the Verifier accept the keys lookup knows besides
// the fixed credentials.
func WithKeyLookup(lookup KeyLookup) Option {
	return func(v *Verifier) { v.lookup = lookup }
}

// WithRootIdentity sets the identity [Scope.Identity] carries for the
// fixed credentials.
func WithRootIdentity(identity any) Option {
	return func(v *Verifier) { v.root = identity }
}

// WithErrorHandler sets how [Verifier.Middleware] answers a request that
// fails verification. The default is [WriteError]. The API layer uses it to
// map errors into its own catalogue and to add a request ID.
func WithErrorHandler(h func(w http.ResponseWriter, r *http.Request, err error)) Option {
	return func(v *Verifier) { v.onError = h }
}

// New returns a Verifier that accepts requests signed with any of creds.
// Every credential needs both fields; an access key ID may appear twice only
// with the same secret.
func New(creds []Credentials, opts ...Option) (*Verifier, error) {
	v := &Verifier{
		secrets: make(map[string]string, len(creds)),
		now:     time.Now,
		maxSkew: DefaultMaxSkew,
		maxBody: DefaultMaxBodyBytes,
		memBody: DefaultMemoryBodyBytes,
		budget:  &budget{limit: DefaultSpoolBudget},
		keys:    &keyCache{},
		onError: func(w http.ResponseWriter, _ *http.Request, err error) { WriteError(w, err) },
	}
	if len(creds) == 0 {
		return nil, errors.New("auth: new verifier: no credentials")
	}
	for i, c := range creds {
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return nil, fmt.Errorf("auth: new verifier: credentials %d: access key ID and secret access key are both required", i)
		}
		if s, dup := v.secrets[c.AccessKeyID]; dup && s != c.SecretAccessKey {
			return nil, fmt.Errorf("auth: new verifier: access key ID %s given twice with different secrets", c.AccessKeyID)
		}
		v.secrets[c.AccessKeyID] = c.SecretAccessKey
	}
	for _, o := range opts {
		o(v)
	}
	switch {
	case v.now == nil:
		return nil, errors.New("auth: new verifier: nil clock")
	case v.onError == nil:
		return nil, errors.New("auth: new verifier: nil error handler")
	case v.maxSkew <= 0:
		return nil, fmt.Errorf("auth: new verifier: max skew %v must be positive", v.maxSkew)
	case v.maxBody <= 0:
		return nil, fmt.Errorf("auth: new verifier: max body bytes %d must be positive", v.maxBody)
	case v.budget.limit < v.maxBody:
		// Else a body the limit allows could never be verified, and
		// clients would retry its SlowDown in vain.
		return nil, fmt.Errorf("auth: new verifier: spool budget %d must be at least max body bytes %d", v.budget.limit, v.maxBody)
	case v.allowed != nil && v.region == "":
		return nil, errors.New("auth: new verifier: scope without a region")
	case v.memBody < 0:
		return nil, fmt.Errorf("auth: new verifier: memory body bytes %d must not be negative", v.memBody)
	}
	return v, nil
}

// Scope is what a verified request was signed for and by. It is stored in
// the request context by [Verifier.Middleware].
type Scope struct {
	// AccessKeyID is the verified access key ID.
	AccessKeyID string
	// Region is the region of the credential scope (whatever the client
	// is configured with, e.g. "us-east-1").
	Region string
	// Service is the service of the credential scope ("lambda",
	// "execute-api", ...).
	Service string
	// SignedAt is the signing time (X-Amz-Date), UTC.
	SignedAt time.Time
	// Identity is who the key belongs to: the [WithRootIdentity] value for
	// the fixed credentials, else what the [KeyLookup] returned.
	Identity any
}

type scopeKey struct{}

// NewContext returns a copy of ctx that carries s. Tests of handlers behind
// the middleware use it to stand in for a verified request.
func NewContext(ctx context.Context, s Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, s)
}

// ScopeFromContext returns the [Scope] of the verified request, if any.
func ScopeFromContext(ctx context.Context) (Scope, bool) {
	s, ok := ctx.Value(scopeKey{}).(Scope)
	return s, ok
}

// AccessKeyFromContext returns the verified access key ID of the request,
// if it passed through [Verifier.Middleware].
func AccessKeyFromContext(ctx context.Context) (string, bool) {
	s, ok := ScopeFromContext(ctx)
	return s.AccessKeyID, ok
}

// Middleware verifies each request before passing it to next, with the
// verified [Scope] in its context. A request that fails is answered by the
// error handler (see [WithErrorHandler]) and never reaches next. If the body
// had to be read to check its hash, next gets an identical body, and the
// middleware releases it (removing any spool file) once next returns.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := v.verify(r)
		if b, ok := r.Body.(*spooledBody); ok {
			defer b.Close() //nolint:errcheck // a temp file left behind is all that can go wrong
		}
		if err != nil {
			var ae *Error
			if !errors.As(err, &ae) {
				// The body could not be read or spooled to its end (a
				// full disk): what is left of it would be read as the
				// next request on this connection, so none may follow.
				w.Header().Set("Connection", "close")
			}
			v.onError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), s)))
	})
}

// Verify checks the SigV4 signature of r. It returns nil or an error that is
// an [*Error] for every authentication failure (any other error, such as a
// failure to read the body, is wrapped and means the request could not be
// checked).
//
// If the signature covers a body hash, Verify reads the body to check it and
// replaces r.Body with one that reads the same bytes; the caller must Close
// the new r.Body (the http.Server only closes the body it created), which
// removes the temporary file a large body was spooled to.
func (v *Verifier) Verify(r *http.Request) error {
	_, err := v.verify(r)
	return err
}

func (v *Verifier) verify(r *http.Request) (Scope, error) {
	rawQuery := wireQuery(r)
	query, _ := url.ParseQuery(rawQuery) // a malformed pair only fails its own lookup
	authz := r.Header.Values("Authorization")
	presigned := query.Has(queryAlgorithm) || query.Has(queryCredential) || query.Has(querySignature)
	hasHeader := len(authz) > 0 && strings.TrimSpace(authz[0]) != ""

	var (
		a       authorization
		ts      string
		expires int64
		claimed string // the client's stated payload hash, if any
		err     error
	)
	switch {
	case !hasHeader && !presigned:
		return Scope{}, errMissingToken()
	case hasHeader && presigned:
		return Scope{}, errIncomplete("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	case len(authz) > 1:
		return Scope{}, errIncomplete("Only one Authorization header is allowed.")
	case hasHeader:
		if a, err = parseAuthorization(authz[0]); err != nil {
			return Scope{}, err
		}
		ts = r.Header.Get(headerAmzDate)
		if ts == "" {
			d, err := http.ParseTime(r.Header.Get("Date"))
			if err != nil {
				return Scope{}, errIncomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
			}
			ts = d.UTC().Format(timeFormat)
		}
		claimed = r.Header.Get(headerContentHash)
	default:
		if a, ts, expires, err = parsePresigned(query); err != nil {
			return Scope{}, err
		}
		claimed = r.Header.Get(headerContentHash)
		if claimed == "" {
			claimed = query.Get(queryContentHash)
		}
	}

	// Everything that needs no body comes first: the scope, the key, the
	// time and, when the hash is stated, the signature over it. Only then
	// may the body be read (and spooled), so a stranger cannot make the
	// server hold a byte.
	if err := v.checkScope(r, a.Credential); err != nil {
		return Scope{}, err
	}
	identity := v.root
	secret, ok := v.secrets[a.Credential.AccessKeyID]
	if !ok && v.lookup != nil {
		token := r.Header.Get(headerSecurityToken)
		if token == "" {
			token = query.Get(headerSecurityToken)
		}
		secret, identity, ok = v.lookup(a.Credential.AccessKeyID, token)
	}
	if !ok {
		return Scope{}, errUnrecognized(a.Credential.AccessKeyID)
	}
	signedAt, err := v.checkTime(a, ts, expires)
	if err != nil {
		return Scope{}, err
	}

	c := v.newCandidates(r, a, ts, rawQuery, secret, presigned)
	switch {
	case claimed == unsignedPayload && !presigned:
		// Every AWS service but S3 hashes the body it received, so a
		// header-signed request that left its payload unsigned never
		// matches there; it fails the same way here, unread.
		return Scope{}, errSignature(errors.New("UNSIGNED-PAYLOAD is accepted only on presigned requests"))
	case claimed == unsignedPayload:
		// A presigned URL is made before its body exists (botocore and
		// the Go SDK presign with UNSIGNED-PAYLOAD); it is accepted as
		// such, as before.
		if !c.match(unsignedPayload) {
			return Scope{}, c.mismatch()
		}
	case isHex(claimed, 64):
		// The signature covers the stated hash; check it first so a forged
		// request is turned away before its body is read.
		if !c.match(claimed) {
			return Scope{}, c.mismatch()
		}
		sum, release, err := hashBody(r, v.maxBody, v.memBody, v.spoolDir, v.budget)
		defer release()
		if err != nil {
			return Scope{}, err
		}
		if !strings.EqualFold(sum, claimed) {
			return Scope{}, errInvalid("The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
	case claimed != "":
		// STREAMING-* payloads are aws-chunked bodies with per-chunk
		// signatures, used only by S3; no Lambda client sends them.
		return Scope{}, errIncomplete(fmt.Sprintf(
			"x-amz-content-sha256 must be %s or a hex SHA-256 digest, got '%s'.", unsignedPayload, claimed))
	default:
		// No stated hash: the payload hash is the body's, as every AWS
		// service but S3 computes it. A presigned URL may have been
		// signed with UNSIGNED-PAYLOAD without saying so (botocore
		// presigns that way); try it first since it costs no read.
		if presigned && c.match(unsignedPayload) {
			break
		}
		sum, release, err := hashBody(r, v.maxBody, v.memBody, v.spoolDir, v.budget)
		defer release()
		if err != nil {
			return Scope{}, err
		}
		if !c.match(sum) {
			return Scope{}, c.mismatch()
		}
	}
	return Scope{
		AccessKeyID: a.Credential.AccessKeyID,
		Region:      a.Credential.Region,
		Service:     a.Credential.Service,
		SignedAt:    signedAt,
		Identity:    identity,
	}, nil
}

// checkTime parses the signing timestamp and checks it against the
// credential scope date and the clock.
func (v *Verifier) checkTime(a authorization, ts string, expires int64) (time.Time, error) {
	t, err := time.Parse(timeFormat, ts)
	if err != nil {
		return time.Time{}, errIncomplete(fmt.Sprintf(
			"Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", ts))
	}
	if ts[:8] != a.Credential.Date {
		return time.Time{}, errInvalid(fmt.Sprintf(
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			a.Credential.Date, ts[:8], ts))
	}
	now := v.now().UTC()
	skew := fmtSkew(v.maxSkew)
	if late := now.Add(v.maxSkew); t.After(late) {
		return time.Time{}, errInvalid(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s)",
			ts, late.Format(timeFormat), now.Format(timeFormat), skew))
	}
	if expires > 0 {
		if end := t.Add(time.Duration(expires) * time.Second); now.After(end) {
			return time.Time{}, errInvalid(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s + %d sec.)",
				end.Format(timeFormat), now.Format(timeFormat), ts, expires))
		}
		return t, nil
	}
	if early := now.Add(-v.maxSkew); t.Before(early) {
		return time.Time{}, errInvalid(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s)",
			ts, early.Format(timeFormat), now.Format(timeFormat), skew))
	}
	return t, nil
}

// fmtSkew formats d as AWS does in its clock-skew messages ("15 min.").
func fmtSkew(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min.", int64(d/time.Minute))
	}
	return fmt.Sprintf("%g sec.", d.Seconds())
}

// candidates holds every spelling of the canonical request (apart from the
// payload hash) that a real client may have signed.
type candidates struct {
	method, timestamp, signedHeaders string
	cred                             credential
	key, signature                   []byte
	uris, queries, headers           []string

	first string // the canonical request of the last failed match, for logs
}

func (v *Verifier) newCandidates(r *http.Request, a authorization, ts, rawQuery, secret string, presigned bool) *candidates {
	skip := ""
	if presigned {
		skip = querySignature
	}
	names := a.headerNames()
	twoReadings := otherWhitespace(r, names)
	var headers []string
	for _, h := range hostValues(r) {
		headers = append(headers, canonicalHeaders(r, names, h, trimAllWhitespace))
		if twoReadings {
			headers = append(headers, canonicalHeaders(r, names, h, trimAllSpaces))
		}
	}
	sig, _ := hex.DecodeString(a.Signature) // validated as 64 hex digits by the parser
	return &candidates{
		method:        r.Method,
		timestamp:     ts,
		signedHeaders: a.SignedHeaders,
		cred:          a.Credential,
		key:           v.keys.get(secret, a.Credential),
		signature:     sig,
		uris:          canonicalURIs(wirePath(r), a.Credential.Service),
		queries:       canonicalQueries(rawQuery, skip),
		headers:       headers,
	}
}

// match reports whether any spelling, with payloadHash, carries the
// client's signature.
func (c *candidates) match(payloadHash string) bool {
	c.first = ""
	for _, uri := range c.uris {
		for _, q := range c.queries {
			for _, h := range c.headers {
				cr := canonicalRequest(c.method, uri, q, h, c.signedHeaders, payloadHash)
				if c.first == "" {
					c.first = cr
				}
				sts := stringToSign(c.timestamp, c.cred, cr)
				if hmac.Equal(hmacSHA256(c.key, sts), c.signature) {
					return true
				}
			}
		}
	}
	return false
}

// mismatch is the error for a signature that matched no spelling. Its cause
// carries the server's canonical request for the logs, as AWS shows it to
// the caller of some services; here it is not sent to the client.
func (c *candidates) mismatch() error {
	return errSignature(fmt.Errorf("canonical request %q, string to sign %q",
		c.first, stringToSign(c.timestamp, c.cred, c.first)))
}
