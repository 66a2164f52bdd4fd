package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/updraft/updraft/internal/auth"
	"github.com/updraft/updraft/internal/authz"
	"github.com/updraft/updraft/internal/iam"
	"github.com/updraft/updraft/internal/lambdaerr"
)

// Authorizer decides whether the caller of a request may act; nil in
// api.Deps authorises nothing (--auth none).
type Authorizer interface {
	Authorize(p iam.Principal, action, resource string, c authz.Context) error
}

// resourceOf builds the ARN a route acts on from the request.
type resourceOf func(s *Server, r *http.Request) string

// routeAction is the IAM action of a route and how to name its resource.
type routeAction struct {
	action   string
	resource resourceOf
}

// anyResource is the resource of actions that take none ("*").
func anyResource(*Server, *http.Request) string { return "*" }

// functionResource is the function named by the {name} path value, with
// its qualifier (path or ?Qualifier=), as Lambda's resource ARN.
func functionResource(s *Server, r *http.Request) string {
	return s.functionARN(r.PathValue("name"), r.URL.Query().Get("Qualifier"))
}

// functionARN turns a function name, partial or full ARN (with or without
// a qualifier) into arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER].
func (s *Server) functionARN(name, qualifier string) string {
	if rest, ok := strings.CutPrefix(name, "arn:"); ok {
		parts := strings.Split(rest, ":") // aws lambda REGION ACCOUNT function NAME [QUALIFIER]
		if len(parts) >= 6 {
			name = strings.Join(parts[5:], ":")
		}
	} else if i := strings.Index(name, ":function:"); i >= 0 {
		name = name[i+len(":function:"):]
	}
	if n, q, ok := strings.Cut(name, ":"); ok {
		name = n
		if qualifier == "" {
			qualifier = q
		}
	}
	arn := "arn:aws:lambda:" + s.deps.Region + ":" + s.deps.AccountID + ":function:" + name
	if qualifier != "" {
		arn += ":" + qualifier
	}
	return arn
}

func layerResource(s *Server, r *http.Request) string {
	arn := "arn:aws:lambda:" + s.deps.Region + ":" + s.deps.AccountID + ":layer:" + r.PathValue("layer")
	if v := r.PathValue("version"); v != "" {
		arn += ":" + v
	}
	return arn
}

func mappingResource(s *Server, r *http.Request) string {
	return "arn:aws:lambda:" + s.deps.Region + ":" + s.deps.AccountID + ":event-source-mapping:" + r.PathValue("uuid")
}

func queueResource(s *Server, r *http.Request) string {
	return "arn:aws:sqs:" + s.deps.Region + ":" + s.deps.AccountID + ":" + r.PathValue("name")
}

func logsResource(s *Server, r *http.Request) string {
	return "arn:aws:logs:" + s.deps.Region + ":" + s.deps.AccountID + ":log-group:/aws/lambda/" + r.PathValue("name") + ":*"
}

// executeAPIResource names an updraft HTTP endpoint as API Gateway names a
// method of an API: arn:aws:execute-api:REGION:ACCOUNT:updraft/$default/METHOD/PATH,
// PATH being what follows /updraft/v1/ (http/FUNCTION/..., async/FUNCTION).
func executeAPIResource(s *Server, r *http.Request) string {
	path := strings.TrimPrefix(r.URL.Path, "/updraft/v1/")
	return "arn:aws:execute-api:" + s.deps.Region + ":" + s.deps.AccountID + ":updraft/$default/" + r.Method + "/" + path
}

// routeActions maps each route pattern to the action AWS authorises it
// with. A pattern missing here is refused to everyone but the root.
var routeActions = map[string]routeAction{
	"POST /2015-03-31/functions":                                       {"lambda:CreateFunction", nil}, // the handler authorises with the name from the body
	"POST /2015-03-31/functions/{$}":                                   {"lambda:CreateFunction", nil},
	"GET /2015-03-31/functions":                                        {"lambda:ListFunctions", anyResource},
	"GET /2015-03-31/functions/{$}":                                    {"lambda:ListFunctions", anyResource},
	"GET /2015-03-31/functions/{name}":                                 {"lambda:GetFunction", functionResource},
	"DELETE /2015-03-31/functions/{name}":                              {"lambda:DeleteFunction", functionResource},
	"GET /2015-03-31/functions/{name}/configuration":                   {"lambda:GetFunctionConfiguration", functionResource},
	"PUT /2015-03-31/functions/{name}/configuration":                   {"lambda:UpdateFunctionConfiguration", functionResource},
	"PUT /2015-03-31/functions/{name}/code":                            {"lambda:UpdateFunctionCode", functionResource},
	"POST /2015-03-31/functions/{name}/versions":                       {"lambda:PublishVersion", functionResource},
	"GET /2015-03-31/functions/{name}/versions":                        {"lambda:ListVersionsByFunction", functionResource},
	"POST /2015-03-31/functions/{name}/aliases":                        {"lambda:CreateAlias", functionResource},
	"GET /2015-03-31/functions/{name}/aliases":                         {"lambda:ListAliases", functionResource},
	"GET /2015-03-31/functions/{name}/aliases/{alias}":                 {"lambda:GetAlias", functionResource},
	"PUT /2015-03-31/functions/{name}/aliases/{alias}":                 {"lambda:UpdateAlias", functionResource},
	"DELETE /2015-03-31/functions/{name}/aliases/{alias}":              {"lambda:DeleteAlias", functionResource},
	"PUT /2017-10-31/functions/{name}/concurrency":                     {"lambda:PutFunctionConcurrency", functionResource},
	"DELETE /2017-10-31/functions/{name}/concurrency":                  {"lambda:DeleteFunctionConcurrency", functionResource},
	"GET /2019-09-30/functions/{name}/concurrency":                     {"lambda:GetFunctionConcurrency", functionResource},
	"POST /2015-03-31/functions/{name}/invocations":                    {"lambda:InvokeFunction", functionResource},
	"POST /2021-11-15/functions/{name}/response-streaming-invocations": {"lambda:InvokeFunction", functionResource},
	"POST /2014-11-13/functions/{name}/invoke-async/":                  {"lambda:InvokeAsync", functionResource},
	"POST /2014-11-13/functions/{name}/invoke-async":                   {"lambda:InvokeAsync", functionResource},

	"PUT /2019-09-25/functions/{name}/event-invoke-config":      {"lambda:PutFunctionEventInvokeConfig", functionResource},
	"POST /2019-09-25/functions/{name}/event-invoke-config":     {"lambda:UpdateFunctionEventInvokeConfig", functionResource},
	"GET /2019-09-25/functions/{name}/event-invoke-config":      {"lambda:GetFunctionEventInvokeConfig", functionResource},
	"DELETE /2019-09-25/functions/{name}/event-invoke-config":   {"lambda:DeleteFunctionEventInvokeConfig", functionResource},
	"GET /2019-09-25/functions/{name}/event-invoke-config/list": {"lambda:ListFunctionEventInvokeConfigs", functionResource},

	"GET /2018-10-31/layers":                               {"lambda:ListLayers", anyResource},
	"GET /2018-10-31/layers/{$}":                           {"lambda:ListLayers", anyResource},
	"POST /2018-10-31/layers/{layer}/versions":             {"lambda:PublishLayerVersion", layerResource},
	"GET /2018-10-31/layers/{layer}/versions":              {"lambda:ListLayerVersions", layerResource},
	"GET /2018-10-31/layers/{layer}/versions/{version}":    {"lambda:GetLayerVersion", layerResource},
	"DELETE /2018-10-31/layers/{layer}/versions/{version}": {"lambda:DeleteLayerVersion", layerResource},

	"POST /2015-03-31/event-source-mappings":          {"lambda:CreateEventSourceMapping", anyResource},
	"POST /2015-03-31/event-source-mappings/{$}":      {"lambda:CreateEventSourceMapping", anyResource},
	"GET /2015-03-31/event-source-mappings":           {"lambda:ListEventSourceMappings", anyResource},
	"GET /2015-03-31/event-source-mappings/{$}":       {"lambda:ListEventSourceMappings", anyResource},
	"GET /2015-03-31/event-source-mappings/{uuid}":    {"lambda:GetEventSourceMapping", mappingResource},
	"PUT /2015-03-31/event-source-mappings/{uuid}":    {"lambda:UpdateEventSourceMapping", mappingResource},
	"DELETE /2015-03-31/event-source-mappings/{uuid}": {"lambda:DeleteEventSourceMapping", mappingResource},

	"POST /2015-03-31/functions/{name}/policy":         {"lambda:AddPermission", functionResource},
	"GET /2015-03-31/functions/{name}/policy":          {"lambda:GetPolicy", functionResource},
	"DELETE /2015-03-31/functions/{name}/policy/{sid}": {"lambda:RemovePermission", functionResource},

	"GET /updraft/v1/invocations/{id}":        {"lambda:GetFunction", anyResource},
	"POST /updraft/v1/async/{function}":       {"execute-api:Invoke", executeAPIResource},
	"GET /updraft/v1/async/{function}":        {"execute-api:Invoke", executeAPIResource},
	"/updraft/v1/http/{function}":             {"execute-api:Invoke", executeAPIResource},
	"/updraft/v1/http/{function}/{path...}":   {"execute-api:Invoke", executeAPIResource},
	"GET /updraft/v1/queues":                  {"sqs:ListQueues", anyResource},
	"POST /updraft/v1/queues/{name}/messages": {"sqs:SendMessage", queueResource},
	"POST /updraft/v1/queues/{name}/receive":  {"sqs:ReceiveMessage", queueResource},
	"GET /updraft/v1/code/{sha}":              {"lambda:GetFunction", anyResource},
	"GET /updraft/v1/functions/{name}/logs":   {"logs:GetLogEvents", logsResource},
	"/":                                       {"", nil}, // UnknownOperation for everyone
}

// principalFrom returns the verified caller of r; false when requests are
// not authenticated (--auth none), which authorises everything.
func principalFrom(r *http.Request) (iam.Principal, bool) {
	return iam.PrincipalFrom(r.Context())
}

// withPrincipal moves the identity the authenticator verified into the
// request context as the caller's principal.
func withPrincipal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sc, ok := auth.ScopeFromContext(r.Context()); ok {
			if p, ok := sc.Identity.(iam.Principal); ok {
				p.AccessKeyID = sc.AccessKeyID
				r = r.WithContext(iam.WithPrincipal(r.Context(), p))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// authorize checks the caller of r for action on resource; nil when
// allowed or when nothing is authorised. The error is an *authz.Denied.
func (s *Server) authorize(r *http.Request, action, resource string, keys map[string][]string) error {
	if s.deps.Authorizer == nil {
		return nil
	}
	p, ok := principalFrom(r)
	if !ok {
		return nil
	}
	return s.deps.Authorizer.Authorize(p, action, resource, authz.Context{
		SourceIP: r.RemoteAddr, SecureTransport: r.TLS != nil, Keys: keys,
	})
}

// authorizeRoute checks the action of the route r matched.
func (s *Server) authorizeRoute(r *http.Request) error {
	if s.deps.Authorizer == nil {
		return nil
	}
	ra, known := routeActions[r.Pattern]
	switch {
	case known && ra.action == "":
		return nil
	case known && ra.resource == nil:
		return nil // the handler authorises once it knows the resource
	case !known:
		if p, ok := principalFrom(r); ok && p.Type != iam.PrincipalRoot {
			return &authz.Denied{Message: "User: " + p.ARN + " is not authorized to perform this operation", Principal: p}
		}
		return nil
	}
	return s.authorize(r, ra.action, ra.resource(s, r), nil)
}

// deniedError renders a refusal for Lambda's routes; execute-api routes
// answer as API Gateway does.
func deniedError(d *authz.Denied) error {
	return lambdaerr.AccessDenied("%s", d.Message)
}

// writeGatewayDenied answers a refused execute-api request as API Gateway
// does: 403 {"Message": ...}.
func writeGatewayDenied(w http.ResponseWriter, d *authz.Denied) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
	w.WriteHeader(http.StatusForbidden)
	_ = json.NewEncoder(w).Encode(map[string]string{"Message": d.Message})
}

// authorizeDenied is authorize with a refusal in Lambda's error shape.
func (s *Server) authorizeDenied(r *http.Request, action, resource string) error {
	err := s.authorize(r, action, resource, nil)
	var d *authz.Denied
	if errors.As(err, &d) {
		return deniedError(d)
	}
	return err
}

// checkRole applies to a function's execution role what AWS checks: the
// caller must be allowed iam:PassRole on it (or it could hand a function
// more than it may do itself), and with --unknown-roles refuse the role
// must be defined here.
func (s *Server) checkRole(r *http.Request, role string) error {
	if s.deps.Roles != nil && s.deps.Roles.RefuseUnknown() && !s.deps.Roles.Defined(role) {
		return lambdaerr.InvalidParameterValue("The role defined for the function cannot be assumed by Lambda.")
	}
	if role == "" {
		return nil
	}
	return s.authorizeDenied(r, "iam:PassRole", role)
}

// Roles tells which execution roles are defined (internal/iam) and
// whether others are refused.
type Roles interface {
	Defined(roleARN string) bool
	RefuseUnknown() bool
}
