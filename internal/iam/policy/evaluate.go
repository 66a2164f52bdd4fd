package policy

// Decision is the outcome of evaluating a request.
type Decision uint8

// The three outcomes ("Policy evaluation logic"): a Deny statement that
// applies, an Allow that applies with no Deny, or neither.
const (
	ImplicitDeny Decision = iota
	Allow
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "ImplicitDeny"
}

// Source says which kind of policy decided a denial, for the AccessDenied
// message.
type Source uint8

const (
	// SourceNone: the request was allowed.
	SourceNone Source = iota
	// SourceIdentity: an identity-based policy denied explicitly, or none
	// allowed.
	SourceIdentity
	// SourceResource: a resource-based policy denied explicitly, or (for
	// a cross-account request) none allowed.
	SourceResource
)

// Result is a decision with what the AccessDenied message needs.
type Result struct {
	Decision Decision
	// Source is the policy type behind a denial; SourceNone when allowed.
	Source Source
	// Sid is the Sid of the deciding statement, when it has one: the
	// Deny of an explicit deny, or the Allow of an allow.
	Sid string
}

// Evaluate decides req against the identity-based policies of the caller
// and the resource-based policies of the resource; see [EvaluateExplained].
func Evaluate(req *Request, identity, resource []*Policy) Decision {
	return EvaluateExplained(req, identity, resource).Decision
}

// EvaluateExplained decides req as AWS does for requests within one
// account ("Policy evaluation for requests within a single account"):
//
//   - an explicit Deny in any applicable policy wins;
//   - otherwise the request is allowed if any identity-based policy or
//     any resource-based policy whose Principal covers the caller allows
//     it ("If either the identity-based policy or the resource-based
//     policy within the same account allows the request and the other
//     doesn't, the request is still allowed");
//   - otherwise it is implicitly denied.
//
// The account root user is allowed unless a policy denies it ("all
// requests are implicitly denied with the exception of the AWS account
// root user"). When req.ResourceAccount names another account than the
// caller's, both an identity-based and a resource-based policy must allow
// ("Cross-account policy evaluation logic"). Policies of Kind Trust count
// as resource-based. It does not allocate.
func EvaluateExplained(req *Request, identity, resource []*Policy) Result {
	idAllow, resAllow := "", ""
	idAllowed, resAllowed := false, false
	for _, p := range identity {
		if p == nil {
			continue
		}
		for i := range p.Statements {
			st := &p.Statements[i]
			if !st.matchStatement(req) {
				continue
			}
			if st.Effect == EffectDeny {
				return Result{Decision: ExplicitDeny, Source: SourceIdentity, Sid: st.Sid}
			}
			if !idAllowed {
				idAllowed, idAllow = true, st.Sid
			}
		}
	}
	for _, p := range resource {
		if p == nil {
			continue
		}
		for i := range p.Statements {
			st := &p.Statements[i]
			if !st.matchPrincipal(&req.Principal) || !st.matchStatement(req) {
				continue
			}
			if st.Effect == EffectDeny {
				return Result{Decision: ExplicitDeny, Source: SourceResource, Sid: st.Sid}
			}
			if !resAllowed {
				resAllowed, resAllow = true, st.Sid
			}
		}
	}
	cross := req.ResourceAccount != "" && req.Principal.Account != "" && req.ResourceAccount != req.Principal.Account
	switch {
	case cross:
		switch {
		case idAllowed && resAllowed:
			return Result{Decision: Allow, Sid: resAllow}
		case !idAllowed && req.Principal.Type != PrincipalRoot && req.Principal.Type != PrincipalService:
			// A service principal and the account root need no
			// identity-based permission of their own.
			return Result{Decision: ImplicitDeny, Source: SourceIdentity}
		case !resAllowed:
			return Result{Decision: ImplicitDeny, Source: SourceResource}
		}
		return Result{Decision: Allow, Sid: resAllow}
	case idAllowed:
		return Result{Decision: Allow, Sid: idAllow}
	case resAllowed:
		return Result{Decision: Allow, Sid: resAllow}
	case req.Principal.Type == PrincipalRoot:
		return Result{Decision: Allow}
	}
	if req.Principal.Type == PrincipalService || req.Principal.Type == PrincipalAnonymous {
		// Only a resource-based policy could have let them in.
		return Result{Decision: ImplicitDeny, Source: SourceResource}
	}
	return Result{Decision: ImplicitDeny, Source: SourceIdentity}
}

// Evaluate decides req against this one policy alone: ExplicitDeny if a
// Deny statement applies, Allow if an Allow does, else ImplicitDeny.
// For resource-based and trust policies a statement applies only when its
// Principal covers req.Principal. Use it for a trust policy: a role may be
// assumed when its trust policy gives Allow for action "sts:AssumeRole"
// (the caller's identity-based permission is checked separately).
func (p *Policy) Evaluate(req *Request) Decision {
	d := ImplicitDeny
	for i := range p.Statements {
		st := &p.Statements[i]
		if !st.matchPrincipal(&req.Principal) || !st.matchStatement(req) {
			continue
		}
		if st.Effect == EffectDeny {
			return ExplicitDeny
		}
		d = Allow
	}
	return d
}

// MatchesPrincipal reports whether some Allow statement's Principal (or
// NotPrincipal) covers p, regardless of action, resource and conditions:
// "is this caller named by the policy at all". For an identity-based
// policy it is always true.
func (p *Policy) MatchesPrincipal(pr Principal) bool {
	for i := range p.Statements {
		st := &p.Statements[i]
		if st.Effect == EffectAllow && st.matchPrincipal(&pr) {
			return true
		}
	}
	return false
}

// AllowsAction reports whether some Allow statement names action in
// Action (or omits it from NotAction), ignoring resources, principals and
// conditions: a quick filter, e.g. to list what a policy could grant.
func (p *Policy) AllowsAction(action string) bool {
	for i := range p.Statements {
		st := &p.Statements[i]
		if st.Effect == EffectAllow && st.matchAction(action) {
			return true
		}
	}
	return false
}

// AccessDeniedMessage is the message of AWS's AccessDenied error for a
// denied request ("Troubleshooting access denied error messages"):
//
//	User: ARN is not authorized to perform: ACTION on resource: RESOURCE because no identity-based policy allows the ACTION action
//	User: ARN is not authorized to perform: ACTION on resource: RESOURCE with an explicit deny in a resource-based policy
//
// The "on resource:" part is left out when the request has no resource
// (or "*"). It returns "" for an allowed request.
func AccessDeniedMessage(req *Request, r Result) string {
	if r.Decision == Allow {
		return ""
	}
	who := req.Principal.ARN
	if who == "" {
		who = req.Principal.Service
	}
	if who == "" {
		who = "anonymous"
	}
	msg := "User: " + who + " is not authorized to perform: " + req.Action
	if req.Resource != "" && req.Resource != "*" {
		msg += " on resource: " + req.Resource
	}
	kind := "identity-based"
	if r.Source == SourceResource {
		kind = "resource-based"
	}
	if r.Decision == ExplicitDeny {
		return msg + " with an explicit deny in a" + article(kind) + " policy"
	}
	return msg + " because no " + kind + " policy allows the " + req.Action + " action"
}

func article(kind string) string {
	if kind[0] == 'i' {
		return "n " + kind
	}
	return " " + kind
}
