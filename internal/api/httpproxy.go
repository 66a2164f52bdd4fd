package api

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/rawheader"
)

// The HTTP proxy plays one API Gateway REST API whose resources "/" and
// "/{proxy+}" are both wired with ANY to the function in the URL by a
// Lambda proxy integration (payload format 1.0). These are the fixed
// values its events carry where API Gateway would name its own objects.
const (
	// proxyAPIID is requestContext.apiId.
	proxyAPIID = "updraftapi"
	// proxyResourceID is requestContext.resourceId.
	proxyResourceID = "proxy0"
	// proxyStage is requestContext.stage: HTTP APIs call the stage that is
	// served without a path prefix "$default", which is what this is.
	proxyStage = "$default"
	// proxyResource is resource and requestContext.resourcePath of every
	// path but the root, which is the "/" resource.
	proxyResource = "/{proxy+}"
	// proxyTimeLayout is requestContext.requestTime's CLF layout.
	proxyTimeLayout = "02/Jan/2006:15:04:05 -0700"
)

// httpProxyRoutes registers the HTTP proxy: any method on
// /updraft/v1/http/{function}[/{path...}] invokes the function with an API
// Gateway proxy event and answers what it returns.
func (s *Server) httpProxyRoutes(h route) {
	h("/updraft/v1/http/{function}", s.httpProxy)
	h("/updraft/v1/http/{function}/{path...}", s.httpProxy)
}

// proxyMeta is what an API Gateway proxy event carries besides the HTTP
// request: the ids API Gateway would mint, the time it received the
// request and the account that owns the API.
type proxyMeta struct {
	RequestID         string
	ExtendedRequestID string
	Time              time.Time
	AccountID         string
}

// proxyReply is the HTTP answer to a proxied request.
type proxyReply struct {
	Status int
	Header http.Header
	Body   []byte
}

// errMalformedProxyResponse is why a function's result is not a proxy
// response; API Gateway logs "Malformed Lambda proxy response" and answers
// 502.
var errMalformedProxyResponse = errors.New("malformed Lambda proxy response")

// httpProxy serves /updraft/v1/http/...: it never returns an error, because
// every failure is answered the way API Gateway answers it (gateway
// responses with {"message": ...}), not in Lambda's error shape.
func (s *Server) httpProxy(w http.ResponseWriter, r *http.Request) error {
	requestID := newRequestID()
	reply := s.proxy(r, requestID)
	h := w.Header()
	for k, vs := range reply.Header {
		h[k] = vs
	}
	h.Set(lambdaapi.HeaderRequestID, requestID)
	w.WriteHeader(reply.Status)
	_, _ = w.Write(reply.Body)
	return nil
}

// proxy reads r, invokes the function with the event and maps the result.
func (s *Server) proxy(r *http.Request, requestID string) *proxyReply {
	body, err := io.ReadAll(io.LimitReader(r.Body, invoke.MaxSyncRequestBytes+1))
	if err != nil {
		return gatewayReply(http.StatusBadRequest, "BadRequestException", `{"message":"Bad Request"}`)
	}
	if len(body) > invoke.MaxSyncRequestBytes {
		return tooLargeReply()
	}
	ev := proxyEvent(r, body, proxyMeta{
		RequestID:         requestID,
		ExtendedRequestID: extendedRequestID(),
		Time:              time.Now(),
		AccountID:         s.deps.AccountID,
	})
	payload, err := json.Marshal(ev)
	if err != nil {
		s.logger.Error("encode proxy event", "err", err)
		return internalErrorReply(http.StatusInternalServerError)
	}
	// The event, not only the body, must fit Lambda's request limit.
	if len(payload) > invoke.MaxSyncRequestBytes {
		return tooLargeReply()
	}
	function := r.PathValue("function")
	resp, err := s.deps.Invoker.Invoke(r.Context(), &invoke.Request{
		FunctionName:   function,
		InvocationType: lambdaapi.InvocationRequestResponse,
		Payload:        payload,
		RequestID:      requestID,
		TraceID:        r.Header.Get(lambdaapi.HeaderTraceID),
	})
	if err != nil {
		if le, ok := lambdaerr.As(err); !ok || le.Status >= 500 {
			s.logger.Warn("http proxy invoke failed", "function", function, "request_id", requestID, "err", err)
		}
		return proxyErrorReply(err)
	}
	if resp.FunctionError != "" {
		s.logger.Debug("http proxy: function error", "function", function, "request_id", requestID, "error_type", resp.ErrorType)
		return internalErrorReply(http.StatusBadGateway)
	}
	reply, err := proxyReplyOf(resp.Payload)
	if err != nil {
		s.logger.Warn("http proxy: bad function result", "function", function, "request_id", requestID, "err", err)
		return internalErrorReply(http.StatusBadGateway)
	}
	return reply
}

// extendedRequestID mints requestContext.extendedRequestId, which API
// Gateway writes as 16 characters of base64.
func extendedRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// proxyEvent builds the REST API (payload format 1.0) proxy event of r as
// API Gateway does ("Input format of a Lambda function for proxy
// integration"): single-value maps hold the last value of a repeated
// header or parameter, the multi-value maps all of them in order, and
// maps with nothing in them are null. Header names are as the client
// sent them, as API Gateway keeps them (rawheader; Go's canonical form
// where they are not known, e.g. over TLS); the Host header is included.
// body is r's body, already read.
func proxyEvent(r *http.Request, body []byte, m proxyMeta) *events.APIGatewayProxyRequest {
	rest := r.PathValue("path")
	ev := &events.APIGatewayProxyRequest{
		Resource:   proxyResource,
		Path:       "/" + rest,
		HTTPMethod: r.Method,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:         m.AccountID,
			ResourceID:        proxyResourceID,
			Stage:             proxyStage,
			DomainName:        r.Host,
			DomainPrefix:      domainPrefix(r.Host),
			RequestID:         m.RequestID,
			ExtendedRequestID: m.ExtendedRequestID,
			Protocol:          r.Proto,
			Identity: events.APIGatewayRequestIdentity{
				SourceIP:  sourceIP(r.RemoteAddr),
				UserAgent: r.UserAgent(),
			},
			ResourcePath:     proxyResource,
			Path:             r.URL.Path,
			HTTPMethod:       r.Method,
			RequestTime:      m.Time.UTC().Format(proxyTimeLayout),
			RequestTimeEpoch: m.Time.UnixMilli(),
			APIID:            proxyAPIID,
		},
	}
	if rest == "" {
		// The root is API Gateway's "/" resource, which has no {proxy+}.
		ev.Resource, ev.RequestContext.ResourcePath = "/", "/"
	} else {
		ev.PathParameters = map[string]string{"proxy": rest}
	}
	header := r.Header.Clone()
	if r.Host != "" {
		header.Set("Host", r.Host)
	}
	ev.Headers, ev.MultiValueHeaders = singleAndMulti(spelled(header, rawheader.Names(r)))
	ev.QueryStringParameters, ev.MultiValueQueryStringParameters = singleAndMulti(r.URL.Query())
	if len(body) > 0 {
		if isTextBody(r.Header.Get("Content-Type"), body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// spelled renames the canonical names of header to the client's
// spellings in raw (canonical → as sent); names raw lacks, and all of
// them when raw is nil, stay canonical.
func spelled(header http.Header, raw map[string]string) map[string][]string {
	if raw == nil {
		return header
	}
	out := make(map[string][]string, len(header))
	for k, vs := range header {
		if name, ok := raw[k]; ok {
			k = name
		}
		out[k] = vs
	}
	return out
}

// singleAndMulti splits headers or query parameters into the two maps of
// a proxy event: the last value of each name, and all of them. Both are
// nil when there is nothing.
func singleAndMulti(values map[string][]string) (map[string]string, map[string][]string) {
	if len(values) == 0 {
		return nil, nil
	}
	single := make(map[string]string, len(values))
	multi := make(map[string][]string, len(values))
	for k, vs := range values {
		if len(vs) == 0 {
			continue
		}
		single[k] = vs[len(vs)-1]
		multi[k] = slices.Clone(vs)
	}
	return single, multi
}

// isTextBody reports whether a request body goes into the event as text:
// its Content-Type is textual (text/*, JSON, XML, JavaScript, a form, or
// absent) and the bytes are valid UTF-8. Anything else is sent base64 with
// isBase64Encoded true, as API Gateway does for a binary media type.
func isTextBody(contentType string, body []byte) bool {
	if !utf8.Valid(body) {
		return false
	}
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript", mt == "application/x-www-form-urlencoded",
		mt == "application/graphql", mt == "application/x-ndjson":
		return true
	}
	return false
}

// sourceIP is the address part of a remote address.
func sourceIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

// domainPrefix is the first label of the Host, without the port
// ($context.domainPrefix).
func domainPrefix(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	prefix, _, _ := strings.Cut(host, ".")
	return prefix
}

// proxyResponseWire is a proxy response as the function wrote it;
// statusCode is a pointer so that a missing one is told from 0.
type proxyResponseWire struct {
	StatusCode        *int                `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              *string             `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// proxyReplyOf turns a function's result into the HTTP answer, as API
// Gateway does ("Output format of a Lambda function for proxy
// integration"): a JSON object with an integer statusCode (200-599), an
// optional string body (base64 when isBase64Encoded), and headers and
// multiValueHeaders merged, a pair present in both appearing once.
// Content-Type defaults to application/json; framing headers
// (Content-Length, Transfer-Encoding, Connection...) and header names or
// values HTTP cannot carry are dropped. Anything else is
// errMalformedProxyResponse, which the caller answers with 502.
func proxyReplyOf(payload []byte) (*proxyReply, error) {
	var wire proxyResponseWire
	if err := json.Unmarshal(payload, &wire); err != nil {
		return nil, fmt.Errorf("%w: %w", errMalformedProxyResponse, err)
	}
	if wire.StatusCode == nil {
		return nil, fmt.Errorf("%w: no statusCode", errMalformedProxyResponse)
	}
	resp := events.APIGatewayProxyResponse{
		StatusCode:        *wire.StatusCode,
		Headers:           wire.Headers,
		MultiValueHeaders: wire.MultiValueHeaders,
		IsBase64Encoded:   wire.IsBase64Encoded,
	}
	if wire.Body != nil {
		resp.Body = *wire.Body
	}
	if resp.StatusCode < 200 || resp.StatusCode > 599 {
		return nil, fmt.Errorf("%w: statusCode %d", errMalformedProxyResponse, resp.StatusCode)
	}
	reply := &proxyReply{Status: resp.StatusCode, Header: http.Header{}, Body: []byte(resp.Body)}
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("%w: body is not base64: %w", errMalformedProxyResponse, err)
		}
		reply.Body = b
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			addHeader(reply.Header, k, v)
		}
	}
	for k, v := range resp.Headers {
		if !slices.Contains(reply.Header.Values(k), v) {
			addHeader(reply.Header, k, v)
		}
	}
	if reply.Header.Get("Content-Type") == "" {
		reply.Header.Set("Content-Type", "application/json")
	}
	return reply, nil
}

// addHeader adds one header of a function's response unless it frames the
// message (the server does that) or is not a valid header line.
func addHeader(h http.Header, name, value string) {
	switch http.CanonicalHeaderKey(name) {
	case "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "Trailer", "Te", "Proxy-Connection":
		return
	}
	if !validHeaderName(name) || strings.ContainsAny(value, "\r\n\x00") {
		return
	}
	h.Add(name, value)
}

// validHeaderName reports whether name is an HTTP token (RFC 9110 §5.1).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// proxyErrorReply answers an invocation the platform refused, with the
// gateway response API Gateway sends:
//   - no such function, version or alias, or a name or qualifier that
//     cannot be one (ValidationException): 404
//     {"message":"Not Found"}, the RESOURCE_NOT_FOUND gateway response: the
//     route has no integration.
//   - an event over Lambda's request limit: 413, REQUEST_TOO_LARGE.
//   - anything else, a throttle included: 500 {"message": "Internal
//     server error"}, as API Gateway answers when the Lambda API rejects
//     the invocation ("Handling Lambda errors with an API Gateway API"); it
//     reports Lambda's 429 that way too, and local runs should behave as
//     the cloud does.
func proxyErrorReply(err error) *proxyReply {
	le, ok := lambdaerr.As(err)
	switch {
	case ok && (le.Type == lambdaerr.TypeResourceNotFound || le.Type == lambdaerr.TypeValidation):
		return gatewayReply(http.StatusNotFound, "NotFoundException", `{"message":"Not Found"}`)
	case ok && le.Type == lambdaerr.TypeRequestTooLarge:
		return tooLargeReply()
	}
	return internalErrorReply(http.StatusInternalServerError)
}

// internalErrorReply is API Gateway's answer to a function error or a
// malformed result (502) and to a refused invocation (500).
func internalErrorReply(status int) *proxyReply {
	return gatewayReply(status, "InternalServerErrorException", `{"message": "Internal server error"}`)
}

// tooLargeReply is the REQUEST_TOO_LARGE gateway response, sent when the
// event would exceed Lambda's 6 MiB request limit (API Gateway's own
// limit, 10 MB, is larger, so Lambda's is the one that bites).
func tooLargeReply() *proxyReply {
	return gatewayReply(http.StatusRequestEntityTooLarge, "RequestTooLargeException", `{"message":"Request Too Long"}`)
}

// gatewayReply is a gateway response: a JSON message with its error type.
func gatewayReply(status int, errorType, body string) *proxyReply {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(lambdaapi.HeaderErrorType, errorType)
	return &proxyReply{Status: status, Header: h, Body: []byte(body)}
}
