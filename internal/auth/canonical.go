package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// This file rebuilds the SigV4 canonical request from the request as it
// arrived on the wire ("Create a canonical request for Signature Version 4"
// in the IAM User Guide):
//
//	Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n HashedPayload
//
// The rules clients actually follow differ in small ways from the prose, so
// where two real clients disagree the verifier tries each reading in turn
// (see canonicalURIs, canonicalQueries, hostValues). None of the
// alternatives lets one request be passed off as another with different
// meaning: each is a different spelling of the same path, query or host.

// canonicalURIs returns the canonical URI candidates for a request whose
// escaped path on the wire is rawPath.
//
// For every service but S3 the canonical URI is the wire path URI-encoded
// once more, so "/functions/my-fn%3Aprod" becomes
// "/functions/my-fn%253Aprod" and "$LATEST" sent raw becomes "%24LATEST".
// aws-sdk-go-v2 (httpbinding.EscapePath on URL.EscapedPath) and botocore
// (quote(path, safe='/~') on the already-encoded URL path) both do this.
// botocore also removes dot segments and empty segments first
// (utils.remove_dot_segments); the Go SDK does not, so when that changes the
// path, that spelling is tried second. S3 signs the path encoded once, so for
// service "s3" the wire path itself is used.
func canonicalURIs(rawPath, service string) []string {
	if rawPath == "" {
		rawPath = "/"
	}
	if service == "s3" {
		return []string{rawPath}
	}
	uris := []string{escapePath(rawPath)}
	if n := removeDotSegments(rawPath); n != rawPath {
		uris = append(uris, escapePath(n))
	}
	// curl's --aws-sigv4 signs the path as sent, without the second
	// encoding SigV4 asks of every service but S3; accepting that spelling
	// too lets curl reach paths holding ':' or '$' (name:qualifier). The
	// signature still covers the path: only its canonical form differs.
	if uris[0] != rawPath {
		uris = append(uris, rawPath)
	}
	return uris
}

// escapePath percent-encodes every byte of p except the RFC 3986 unreserved
// characters and '/', with upper-case hex. A '%' is encoded too, which is
// what makes the canonical URI the double encoding of the path.
func escapePath(p string) string {
	var b strings.Builder
	b.Grow(len(p) + len(p)/4)
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' || isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
	return b.String()
}

const upperHex = "0123456789ABCDEF"

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// removeDotSegments is botocore's utils.remove_dot_segments: RFC 3986
// §5.2.4 plus collapsing consecutive slashes.
func removeDotSegments(p string) string {
	if p == "" {
		return "/"
	}
	var out []string
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	var b strings.Builder
	if p[0] == '/' {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(out, "/"))
	if p[len(p)-1] == '/' && len(out) > 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// queryPair is one name=value pair of a query string.
type queryPair struct{ key, value string }

// canonicalQueries returns the canonical query string candidates for the raw
// query string on the wire, leaving out the parameter named skip (the
// signature itself, for presigned requests).
//
// The specification (and aws-sdk-go-v2) decodes each name and value,
// re-encodes it with strict SigV4 encoding (unreserved characters kept,
// space as %20), then sorts by encoded name and value. botocore instead
// sorts the raw pairs as they appear in the URL. For the query strings
// either client sends, the two agree; when they do not, the raw spelling is
// tried second.
func canonicalQueries(rawQuery, skip string) []string {
	var strict, raw []queryPair
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, errK := url.QueryUnescape(k)
		dv, errV := url.QueryUnescape(v)
		if errK != nil {
			dk = k
		}
		if errV != nil {
			dv = v
		}
		if dk == skip && skip != "" {
			continue
		}
		raw = append(raw, queryPair{k, v})
		strict = append(strict, queryPair{encodeQueryComponent(dk), encodeQueryComponent(dv)})
	}
	a, b := joinSorted(strict), joinSorted(raw)
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

func joinSorted(ps []queryPair) string {
	slices.SortFunc(ps, func(x, y queryPair) int {
		if c := strings.Compare(x.key, y.key); c != 0 {
			return c
		}
		return strings.Compare(x.value, y.value)
	})
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// encodeQueryComponent is SigV4's UriEncode for a query name or value:
// everything but unreserved characters is %XX-encoded, space included.
func encodeQueryComponent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
	return b.String()
}

// hostValues returns the values the client may have signed for the host
// header. The Host header is taken as sent (net/http moves it to r.Host).
// botocore and the Go SDK drop a default port (:80, :443) before signing and
// their HTTP stacks then omit it from the header too, but a proxy in between
// may add it back, so the port-less spelling is tried second.
func hostValues(r *http.Request) []string {
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	hosts := []string{host}
	for _, port := range []string{":80", ":443"} {
		if h, ok := strings.CutSuffix(host, port); ok && h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// authorityHeader is HTTP/2's :authority pseudo-header, which net/http
// turns into Request.Host.
const authorityHeader = ":authority"

// canonicalHeaders builds the CanonicalHeaders block (each line
// "name:value\n") for the signed header names, using host for the host
// header. Values of a repeated header are joined with ',' after trimming
// and collapsing inner whitespace with trim.
func canonicalHeaders(r *http.Request, names []string, host string, trim func(string) string) string {
	var b strings.Builder
	for _, name := range names {
		lname := strings.ToLower(name)
		b.WriteString(name)
		b.WriteByte(':')
		var values []string
		switch lname {
		case "host", authorityHeader:
			values = []string{host}
		default:
			values = r.Header.Values(name)
			if len(values) == 0 {
				values = impliedHeader(r, lname)
			}
		}
		for i, v := range values {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(trim(v))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// The SigV4 "Trimall" of a header value has two readings among real
// clients. botocore's _header_value splits on any whitespace and joins
// with one space, so a tab becomes a space; aws-sdk-go-v2's
// StripExcessSpaces trims and collapses only the space character and
// keeps a tab as it is. A value without tabs or other whitespace reads
// the same either way.

// trimAllWhitespace is botocore's reading: " ".join(value.split()).
func trimAllWhitespace(v string) string {
	return strings.Join(strings.Fields(v), " ")
}

// trimAllSpaces is aws-sdk-go-v2's reading: leading, trailing and runs of
// ' ' only.
func trimAllSpaces(v string) string {
	v = strings.Trim(v, " ")
	if !strings.Contains(v, "  ") {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// otherWhitespace reports whether a signed header value holds whitespace
// other than ' ', the only case where the two readings differ.
func otherWhitespace(r *http.Request, names []string) bool {
	for _, name := range names {
		for _, v := range r.Header.Values(name) {
			if strings.ContainsFunc(v, func(c rune) bool { return c != ' ' && unicode.IsSpace(c) }) {
				return true
			}
		}
	}
	return false
}

// impliedHeader returns the value of a header that net/http consumed into a
// Request field instead of leaving it in r.Header.
func impliedHeader(r *http.Request, lname string) []string {
	switch lname {
	case "content-length":
		if r.ContentLength >= 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return []string{strings.Join(r.TransferEncoding, ",")}
		}
	}
	return nil
}

// canonicalRequest joins the six parts of the canonical request.
func canonicalRequest(method, uri, query, headers, signedHeaders, payloadHash string) string {
	return method + "\n" + uri + "\n" + query + "\n" + headers + "\n" + signedHeaders + "\n" + payloadHash
}

// stringToSign is the SigV4 string to sign for a canonical request.
func stringToSign(timestamp string, c credential, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return algorithm + "\n" + timestamp + "\n" + c.scope() + "\n" + hex.EncodeToString(sum[:])
}

// signingKey derives the SigV4 signing key for the secret and scope.
func signingKey(secret string, c credential) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), c.Date)
	k = hmacSHA256(k, c.Region)
	k = hmacSHA256(k, c.Service)
	return hmacSHA256(k, scopeTerminator)
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// wirePath returns the path of the request-target exactly as the client
// sent it (still percent-encoded), and wireQuery the raw query string.
// r.RequestURI is used when set (server requests) because r.URL.Path is
// decoded and r.URL.EscapedPath may re-encode it differently.
func wirePath(r *http.Request) string {
	uri := r.RequestURI
	if uri == "" || uri == "*" {
		if r.URL.Opaque != "" {
			uri = r.URL.Opaque
		} else {
			return r.URL.EscapedPath()
		}
	}
	uri, _, _ = strings.Cut(uri, "?")
	if !strings.HasPrefix(uri, "/") {
		// absolute-form ("http://host/path") or an opaque "//host/path".
		if _, rest, ok := strings.Cut(uri, "//"); ok {
			uri = rest
		}
		if i := strings.IndexByte(uri, '/'); i >= 0 {
			uri = uri[i:]
		} else {
			uri = "/"
		}
	}
	return uri
}

// wireQuery returns the raw query string as sent.
func wireQuery(r *http.Request) string {
	if r.RequestURI != "" {
		if _, q, ok := strings.Cut(r.RequestURI, "?"); ok {
			return q
		}
		return ""
	}
	return r.URL.RawQuery
}
