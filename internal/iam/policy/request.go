package policy

import "strings"

// PrincipalType is the kind of caller a [Principal] describes; it is the
// value of the aws:PrincipalType condition key for the IAM kinds.
type PrincipalType string

// The principal types ("AWS global condition context keys",
// aws:PrincipalType: Account, User, FederatedUser, AssumedRole, Anonymous).
const (
	PrincipalRoot          PrincipalType = "Account"
	PrincipalUser          PrincipalType = "User"
	PrincipalAssumedRole   PrincipalType = "AssumedRole"
	PrincipalFederatedUser PrincipalType = "FederatedUser"
	PrincipalAnonymous     PrincipalType = "Anonymous"
	// PrincipalService is an AWS service acting on its own behalf
	// ("lambda.amazonaws.com" reading a queue, "sqs.amazonaws.com" ...);
	// AWS gives such calls no aws:PrincipalType.
	PrincipalService PrincipalType = "Service"
	// PrincipalRole is a role named as such (a trust or resource policy
	// naming the role itself); callers normally present a role's session
	// as [PrincipalAssumedRole] with RoleARN set.
	PrincipalRole PrincipalType = "Role"
)

// Principal is who makes a request.
type Principal struct {
	// ARN is the caller's ARN: arn:aws:iam::123456789012:root,
	// arn:aws:iam::123456789012:user/path/alice,
	// arn:aws:sts::123456789012:assumed-role/Role/session. Empty for a
	// service or anonymous caller.
	ARN string
	// Account is the caller's 12-digit account id.
	Account string
	// Type is the kind of caller.
	Type PrincipalType
	// Service is the service principal ("lambda.amazonaws.com") when Type
	// is PrincipalService.
	Service string
	// RoleARN is the role behind an assumed-role session, with its path
	// (arn:aws:iam::123456789012:role/path/Role): a policy that names the
	// role matches its sessions.
	RoleARN string
	// Federated is the identity provider of a web-identity or SAML caller
	// (an OIDC/SAML provider ARN or "cognito-identity.amazonaws.com"),
	// matched by a Principal {"Federated": ...}.
	Federated string
	// UserName is the friendly name of an IAM user: the value of
	// ${aws:username} when the context does not give one.
	UserName string
	// UserID is the unique id (AIDA…, or AROA…:session): the value of
	// ${aws:userid} when the context does not give one.
	UserID string
}

// Request is what is being authorised: who, which action, on which
// resource, and the request context that conditions and policy variables
// read.
type Request struct {
	Principal Principal
	// Action is "service:Operation", e.g. "lambda:InvokeFunction";
	// matched case-insensitively.
	Action string
	// Resource is the ARN acted on; "*" or empty for actions that take no
	// resource.
	Resource string
	// ResourceAccount is the account that owns Resource. When it is set
	// and differs from Principal.Account the request is cross-account and
	// both an identity-based and a resource-based policy must allow it
	// ("Cross-account policy evaluation logic"); empty means same account.
	ResourceAccount string
	// Context maps condition keys ("aws:SourceIp", "aws:CurrentTime",
	// "aws:SecureTransport", "lambda:FunctionArn") to their values; a
	// single-valued key has one value. Keys are looked up
	// case-insensitively, as IAM treats condition key names. Keys absent
	// here but derivable from Principal (aws:username, aws:userid,
	// aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType) are
	// derived.
	Context map[string][]string
}

// values is the set of values a condition key has in a request: a slice
// from the context or one derived string, without allocating.
type values struct {
	list []string
	one  string
	n    int // number of values; 0 means absent
}

func (v *values) at(i int) string {
	if v.list != nil {
		return v.list[i]
	}
	return v.one
}

// lookup finds key in the request context, ignoring case, then among the
// keys derived from the principal.
func (r *Request) lookup(key string) values {
	if r == nil {
		return values{}
	}
	if vs, ok := r.Context[key]; ok {
		return values{list: vs, n: len(vs)}
	}
	for k, vs := range r.Context {
		if strings.EqualFold(k, key) {
			return values{list: vs, n: len(vs)}
		}
	}
	var s string
	switch {
	case strings.EqualFold(key, "aws:username"):
		if r.Principal.Type == PrincipalUser {
			s = r.Principal.UserName
			if s == "" {
				s = lastPathElem(r.Principal.ARN)
			}
		}
	case strings.EqualFold(key, "aws:userid"):
		s = r.Principal.UserID
	case strings.EqualFold(key, "aws:PrincipalArn"):
		s = r.Principal.ARN
		if r.Principal.Type == PrincipalAssumedRole && r.Principal.RoleARN != "" {
			// aws:PrincipalArn of a role session is the role's ARN.
			s = r.Principal.RoleARN
		}
	case strings.EqualFold(key, "aws:PrincipalAccount"):
		s = r.Principal.Account
	case strings.EqualFold(key, "aws:PrincipalType"):
		if r.Principal.Type != PrincipalService && r.Principal.Type != PrincipalRole {
			s = string(r.Principal.Type)
		}
	case strings.EqualFold(key, "aws:PrincipalServiceName"):
		s = r.Principal.Service
	}
	if s == "" {
		return values{}
	}
	return values{one: s, n: 1}
}

// variable resolves a policy variable: the first value of key.
func (r *Request) variable(key string) (string, bool) {
	v := r.lookup(key)
	if v.n == 0 {
		return "", false
	}
	return v.at(0), true
}

// lastPathElem is the name at the end of an IAM ARN (user/path/alice →
// alice).
func lastPathElem(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return ""
}
