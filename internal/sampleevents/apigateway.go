package sampleevents

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Param is one query parameter or header, kept in the order given:
// repeated names are how multi-value parameters are written.
type Param struct {
	Name, Value string
}

// ParseParam reads "NAME=VALUE" (the value may be empty and may contain
// "=").
func ParseParam(s string) (Param, error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return Param{}, fmt.Errorf("%q: want NAME=VALUE", s)
	}
	return Param{Name: name, Value: value}, nil
}

// HTTPOptions are the options of [APIGateway] and [APIGatewayV2]: the
// HTTP request the API received.
type HTTPOptions struct {
	Common
	// Method is the HTTP method; "" means GET. It is upper-cased.
	Method string
	// Path is the request path; "" means "/". A "?query" part is added
	// to Query, before it.
	Path string
	// Body is the request body, as text.
	Body string
	// Query holds the query parameters in order (not encoded).
	Query []Param
	// Headers holds the request headers in order, names as sent.
	Headers []Param
}

// request is an HTTPOptions resolved: defaults filled, the query split
// off the path, and the API's names derived from the account and region.
type request struct {
	c       Common
	method  string
	path    string
	body    string
	query   []Param
	headers []Param
	apiID   string
	domain  string
}

func (o HTTPOptions) resolve(what string) (request, error) {
	r := request{c: o.Common.resolved(), method: strings.ToUpper(o.Method), path: o.Path, body: o.Body}
	if r.method == "" {
		r.method = "GET"
	}
	path, rawQuery, _ := strings.Cut(r.path, "?")
	var errs []error
	for _, kv := range strings.Split(rawQuery, "&") {
		if kv == "" {
			continue
		}
		name, value, _ := strings.Cut(kv, "=")
		n, err1 := url.QueryUnescape(name)
		v, err2 := url.QueryUnescape(value)
		if err := errors.Join(err1, err2); err != nil {
			errs = append(errs, fmt.Errorf("path %q: query: %w", r.path, err))
		}
		r.query = append(r.query, Param{Name: n, Value: v})
	}
	r.query = append(r.query, o.Query...)
	r.path = path
	if r.path == "" {
		r.path = "/"
	}
	if !strings.HasPrefix(r.path, "/") {
		r.path = "/" + r.path
	}
	if strings.ContainsAny(r.method, " /") {
		errs = append(errs, fmt.Errorf("method %q: want an HTTP method such as GET or POST", o.Method))
	}
	for _, h := range o.Headers {
		if h.Name == "" || strings.ContainsAny(h.Name, " :") {
			errs = append(errs, fmt.Errorf("header name %q: want a token such as Content-Type", h.Name))
		}
	}
	if err := errors.Join(append(errs, r.c.check())...); err != nil {
		return request{}, fmt.Errorf("%s: %w", what, err)
	}
	r.apiID = shortID("api:"+r.c.AccountID+":"+r.c.Region, 10)
	r.domain = r.apiID + ".execute-api." + r.c.Region + ".amazonaws.com"
	// Headers every request through API Gateway carries; the caller's
	// own headers of the same name (in any case) replace them.
	for _, d := range []Param{
		{"Host", r.domain},
		{"X-Forwarded-For", "127.0.0.1"},
		{"X-Forwarded-Port", "443"},
		{"X-Forwarded-Proto", "https"},
	} {
		if !hasHeader(o.Headers, d.Name) {
			r.headers = append(r.headers, d)
		}
	}
	r.headers = append(r.headers, o.Headers...)
	return r, nil
}

// hasHeader reports whether hs has a header named name, in any case.
func hasHeader(hs []Param, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}

// header returns the last value of the header name, in any case.
func (r request) header(name string) string {
	v := ""
	for _, h := range r.headers {
		if strings.EqualFold(h.Name, name) {
			v = h.Value
		}
	}
	return v
}

// requestTimeLayout is requestContext's requestTime (payload 1.0) and
// time (2.0) layout, the Common Log Format's.
const requestTimeLayout = "02/Jan/2006:15:04:05 -0700"

// APIGateway returns the event an API Gateway REST API's Lambda proxy
// integration (payload format 1.0) sends, shaped as in "Input format of a
// Lambda function for proxy integration": the resource "/{proxy+}" (or
// "/" for the root) with the path in pathParameters.proxy; headers and
// queryStringParameters holding the last value of each name and the
// multiValue maps all of them in order (null when there are none);
// header names as sent; requestContext with the stage "prod", the
// stage-prefixed path, resourcePath, the API's id and execute-api domain,
// a UUID requestId, requestTime in CLF and requestTimeEpoch in
// milliseconds. Host and X-Forwarded-* headers are added as API Gateway
// adds them.
func APIGateway(o HTTPOptions) (events.APIGatewayProxyRequest, error) {
	r, err := o.resolve("apigateway")
	if err != nil {
		return events.APIGatewayProxyRequest{}, err
	}
	const stage = "prod"
	ev := events.APIGatewayProxyRequest{
		Resource:   "/{proxy+}",
		Path:       r.path,
		HTTPMethod: r.method,
		Body:       r.body,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:         r.c.AccountID,
			ResourceID:        shortID("resource:"+r.apiID, 6),
			Stage:             stage,
			DomainName:        r.domain,
			DomainPrefix:      r.apiID,
			RequestID:         newUUID(),
			ExtendedRequestID: randomBase64(11),
			Protocol:          "HTTP/1.1",
			Identity: events.APIGatewayRequestIdentity{
				SourceIP:  "127.0.0.1",
				UserAgent: r.header("User-Agent"),
			},
			ResourcePath:     "/{proxy+}",
			Path:             "/" + stage + r.path,
			HTTPMethod:       r.method,
			RequestTime:      r.c.Time.Format(requestTimeLayout),
			RequestTimeEpoch: r.c.Time.UnixMilli(),
			APIID:            r.apiID,
		},
	}
	if r.path == "/" {
		ev.Resource, ev.RequestContext.ResourcePath = "/", "/"
	} else {
		ev.PathParameters = map[string]string{"proxy": strings.TrimPrefix(r.path, "/")}
	}
	ev.Headers, ev.MultiValueHeaders = singleAndMulti(r.headers, false)
	ev.QueryStringParameters, ev.MultiValueQueryStringParameters = singleAndMulti(r.query, false)
	return ev, nil
}

// singleAndMulti splits params into payload 1.0's single-value map (the
// last value of each name) and multi-value map (all, in order); both are
// nil when params is empty. With lower, names are lower-cased first.
func singleAndMulti(params []Param, lower bool) (map[string]string, map[string][]string) {
	if len(params) == 0 {
		return nil, nil
	}
	single := map[string]string{}
	multi := map[string][]string{}
	for _, p := range params {
		name := p.Name
		if lower {
			name = strings.ToLower(name)
		}
		single[name] = p.Value
		multi[name] = append(multi[name], p.Value)
	}
	return single, multi
}

// APIGatewayV2 returns the event an HTTP API's Lambda integration with
// payload format 2.0 sends, shaped as in "Create AWS Lambda proxy
// integrations for HTTP APIs" (Payload format structure): version "2.0",
// routeKey and stage "$default", rawPath, rawQueryString as sent, header
// names lower-cased, repeated headers and query parameters "combined with
// commas", Cookie headers moved to cookies (one entry per cookie), and
// requestContext.http with the method, path, protocol, sourceIp and
// userAgent; time in CLF and timeEpoch in milliseconds.
func APIGatewayV2(o HTTPOptions) (events.APIGatewayV2HTTPRequest, error) {
	r, err := o.resolve("apigateway-v2")
	if err != nil {
		return events.APIGatewayV2HTTPRequest{}, err
	}
	const stage = "$default"
	ev := events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: "$default",
		RawPath:  r.path,
		Body:     r.body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     "$default",
			AccountID:    r.c.AccountID,
			Stage:        stage,
			RequestID:    randomBase64(11),
			APIID:        r.apiID,
			DomainName:   r.domain,
			DomainPrefix: r.apiID,
			Time:         r.c.Time.Format(requestTimeLayout),
			TimeEpoch:    r.c.Time.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.method,
				Path:      r.path,
				Protocol:  "HTTP/1.1",
				SourceIP:  "127.0.0.1",
				UserAgent: r.header("User-Agent"),
			},
		},
	}
	var raw []string
	for _, p := range r.query {
		raw = append(raw, url.QueryEscape(p.Name)+"="+url.QueryEscape(p.Value))
	}
	ev.RawQueryString = strings.Join(raw, "&")
	ev.QueryStringParameters = commaJoined(r.query, false)
	var headers []Param
	for _, h := range r.headers {
		if strings.EqualFold(h.Name, "Cookie") {
			for c := range strings.SplitSeq(h.Value, ";") {
				if c = strings.TrimSpace(c); c != "" {
					ev.Cookies = append(ev.Cookies, c)
				}
			}
			continue
		}
		headers = append(headers, h)
	}
	ev.Headers = commaJoined(headers, true)
	return ev, nil
}

// commaJoined is payload 2.0's map of params: values of a repeated name
// joined with commas, in order; nil when params is empty. With lower,
// names are lower-cased first.
func commaJoined(params []Param, lower bool) map[string]string {
	_, multi := singleAndMulti(params, lower)
	if multi == nil {
		return nil
	}
	m := make(map[string]string, len(multi))
	for k, vs := range multi {
		m[k] = strings.Join(vs, ",")
	}
	return m
}
