package policy

import "strings"

// Kind says where a policy document is attached, which decides whether it
// may or must name principals.
type Kind uint8

const (
	// Identity is a policy attached to a user, group or role (inline or
	// managed): it must not have Principal or NotPrincipal.
	Identity Kind = iota + 1
	// Resource is a policy attached to a resource, such as a function's
	// policy: each statement needs Principal or NotPrincipal, and
	// Resource or NotResource.
	Resource
	// Trust is a role's assume-role policy: each statement needs Principal
	// or NotPrincipal, its actions are role-assumption actions
	// (sts:AssumeRole …) and it names no resource.
	Trust
)

func (k Kind) String() string {
	switch k {
	case Identity:
		return "identity-based"
	case Resource, Trust:
		return "resource-based"
	}
	return "unknown"
}

// Effect is a statement's Effect.
type Effect uint8

// The two effects.
const (
	EffectAllow Effect = iota + 1
	EffectDeny
)

func (e Effect) String() string {
	if e == EffectDeny {
		return "Deny"
	}
	return "Allow"
}

// The policy language versions ("IAM JSON policy elements: Version").
const (
	// Version2012 is the current language, the only one with policy
	// variables.
	Version2012 = "2012-10-17"
	// Version2008 is the original language: "${aws:username}" in it is
	// literal text. A document without Version is read the same way.
	Version2008 = "2008-10-17"
)

// Policy is a parsed, validated and compiled policy document. It is
// immutable and safe for concurrent use.
type Policy struct {
	// Kind is the kind the document was parsed as.
	Kind Kind
	// Version is the document's Version, "" when absent.
	Version string
	// ID is the optional Id element.
	ID string
	// Statements in document order.
	Statements []Statement
}

// Statement is one statement of a policy. The exported fields are the
// document's elements as written (each list holds the single string when
// the document used a string); the compiled forms are private.
type Statement struct {
	Sid    string
	Effect Effect
	// Action or NotAction: exactly one is non-nil.
	Action, NotAction []string
	// Resource or NotResource; both nil in a trust policy.
	Resource, NotResource []string
	// Principal or NotPrincipal; both nil in an identity-based policy.
	Principal, NotPrincipal *PrincipalSpec
	// Condition is operator → key → values, as written.
	Condition map[string]map[string][]string

	actions      []pattern
	notAction    bool
	resources    []arnPattern
	notResource  bool
	hasResource  bool
	principals   principalMatcher
	notPrincipal bool
	hasPrincipal bool
	conds        []condition
}

// PrincipalSpec is a Principal or NotPrincipal element: "*" or a map of
// principal types to identifiers.
type PrincipalSpec struct {
	// Any is set for "Principal": "*".
	Any bool
	// AWS holds account ids, account root ARNs, user, role and
	// assumed-role session ARNs, or "*".
	AWS []string
	// Service holds service principals ("lambda.amazonaws.com").
	Service []string
	// Federated holds identity providers.
	Federated []string
	// CanonicalUser holds S3 canonical user ids (kept, never matched).
	CanonicalUser []string
}

// matchStatement reports whether st applies to req, principal aside.
func (st *Statement) matchStatement(req *Request) bool {
	if !st.matchAction(req.Action) {
		return false
	}
	if st.hasResource {
		res := req.Resource
		hit := false
		for i := range st.resources {
			if st.resources[i].match(res, req) {
				hit = true
				break
			}
		}
		if hit == st.notResource {
			return false
		}
	}
	for i := range st.conds {
		if !st.conds[i].eval(req) {
			return false
		}
	}
	return true
}

func (st *Statement) matchAction(action string) bool {
	hit := false
	for i := range st.actions {
		if st.actions[i].match(action, nil) {
			hit = true
			break
		}
	}
	return hit != st.notAction
}

// matchPrincipal reports whether st's Principal (or NotPrincipal) covers
// p; a statement without either (identity-based) covers everyone.
func (st *Statement) matchPrincipal(p *Principal) bool {
	if !st.hasPrincipal {
		return true
	}
	return st.principals.match(p) != st.notPrincipal
}

// principalMatcher is a compiled Principal element.
type principalMatcher struct {
	any       bool     // "*"
	awsAny    bool     // {"AWS": "*"}
	accounts  []string // account ids, from "123456789012" or arn:…:iam::123456789012:root
	arns      []string // user, role and session ARNs
	services  []string
	federated []string
}

func compilePrincipal(ps *PrincipalSpec) principalMatcher {
	m := principalMatcher{any: ps.Any}
	for _, v := range ps.AWS {
		switch {
		case v == "*":
			m.awsAny = true
		case isAccountID(v):
			m.accounts = append(m.accounts, v)
		case strings.HasSuffix(v, ":root") && strings.Contains(v, ":iam::"):
			m.accounts = append(m.accounts, arnAccount(v))
		default:
			m.arns = append(m.arns, v)
		}
	}
	m.services = ps.Service
	m.federated = ps.Federated
	return m
}

// match follows "AWS JSON policy elements: Principal": "*" and {"AWS":
// "*"} are everyone; an account id or its root ARN stands for the
// account, so it covers every IAM identity of that account (updraft, like
// a same-account evaluation, lets such a resource-policy grant stand on
// its own); a role ARN covers the role's sessions; a service principal
// covers that service.
func (m *principalMatcher) match(p *Principal) bool {
	if m.any {
		return true
	}
	if p.Type == PrincipalService {
		for _, s := range m.services {
			if strings.EqualFold(s, p.Service) {
				return true
			}
		}
		return false
	}
	if m.awsAny {
		return true
	}
	if p.Account != "" {
		for _, a := range m.accounts {
			if a == p.Account {
				return true
			}
		}
	}
	for _, a := range m.arns {
		if (p.ARN != "" && a == p.ARN) || (p.RoleARN != "" && a == p.RoleARN) {
			return true
		}
	}
	if p.Federated != "" {
		for _, f := range m.federated {
			if f == p.Federated {
				return true
			}
		}
	}
	return false
}

// isAccountID reports whether s is a 12-digit account id.
func isAccountID(s string) bool { return len(s) == 12 && isDigits(s) }

// arnAccount is the account field (the fifth) of an ARN.
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}
