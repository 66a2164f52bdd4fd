// Package authz authorises requests: it decides whether the principal
// behind a verified request may perform an action on a resource, from the
// principal's identity-based policies (internal/iam), the resource's
// resource-based policy (a function's, from AddPermission) and, for the
// sessions of functions whose role names no role defined here, the
// built-in data-plane policy. Policies are compiled once per document
// (keyed by its digest) and each principal's compiled set is kept until
// the identity store changes; a decision costs one evaluation without
// allocation beyond the request context.
package authz

import (
	"crypto/sha256"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/updraft/updraft/internal/iam"
	"github.com/updraft/updraft/internal/iam/policy"
)

// Identities is what the authoriser reads of the identity store.
type Identities interface {
	// PoliciesOf returns the identity-based policies of p.
	PoliciesOf(p iam.Principal) []iam.PolicyDoc
	// Role looks a role up by ARN or name.
	Role(arnOrName string) (iam.Role, bool)
	// Generation grows whenever identities or policies change.
	Generation() uint64
}

// ResourcePolicies returns the resource-based policy of a resource ARN,
// if it has one (a function's policy), with its digest.
type ResourcePolicies func(resourceARN string) (doc string, digest [32]byte, ok bool)

// UnknownRoles says what the sessions of functions whose role names no
// role defined here may do.
type UnknownRoles string

const (
	// UnknownRolesAllow gives them the built-in data-plane policy
	// ([DataPlanePolicy]): local development with roles from tutorials.
	UnknownRolesAllow UnknownRoles = "allow"
	// UnknownRolesRefuse is AWS's behaviour: CreateFunction refuses such
	// a role, and a session of one can do nothing.
	UnknownRolesRefuse UnknownRoles = "refuse"
)

// DataPlanePolicy is what a function whose role is not defined here may do
// under [UnknownRolesAllow]: the account's data plane — invoke functions,
// use the built-in queues, streams and tables, start workflow executions,
// write its logs — and nothing of the control plane or IAM.
const DataPlanePolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "InvokeFunctions", "Effect": "Allow",
     "Action": ["lambda:InvokeFunction", "lambda:InvokeAsync"], "Resource": "*"},
    {"Sid": "Queues", "Effect": "Allow",
     "Action": ["sqs:SendMessage", "sqs:SendMessageBatch", "sqs:ReceiveMessage", "sqs:DeleteMessage",
                "sqs:DeleteMessageBatch", "sqs:ChangeMessageVisibility", "sqs:ChangeMessageVisibilityBatch",
                "sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ListQueues"], "Resource": "*"},
    {"Sid": "Streams", "Effect": "Allow",
     "Action": ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:GetRecords", "kinesis:GetShardIterator",
                "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards",
                "kinesis:ListStreams"], "Resource": "*"},
    {"Sid": "Tables", "Effect": "Allow",
     "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem",
                "dynamodb:TransactGetItems", "dynamodb:TransactWriteItems", "dynamodb:DescribeTable",
                "dynamodb:ConditionCheckItem"], "Resource": "*"},
    {"Sid": "Workflows", "Effect": "Allow",
     "Action": ["states:StartExecution", "states:StartSyncExecution", "states:DescribeExecution",
                "states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"], "Resource": "*"},
    {"Sid": "Logs", "Effect": "Allow",
     "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}
  ]
}`

// Denied is the error of a refused request; Message is AWS's wording
// ("User: ARN is not authorized to perform: ACTION on resource: ARN
// because ..."), which each service puts in its own error shape.
type Denied struct {
	Message   string
	Action    string
	Resource  string
	Principal iam.Principal
}

func (d *Denied) Error() string { return d.Message }

// Context is what conditions may read of a request besides who makes it.
type Context struct {
	// SourceIP is the caller's address (aws:SourceIp).
	SourceIP string
	// SecureTransport is set for requests over TLS (aws:SecureTransport).
	SecureTransport bool
	// Now is the request time (aws:CurrentTime, aws:EpochTime); zero
	// means time.Now.
	Now time.Time
	// Keys are further condition keys (lambda:FunctionArn, ...).
	Keys map[string][]string
}

// Authorizer decides requests. It is safe for concurrent use.
type Authorizer struct {
	ids       Identities
	resources ResourcePolicies
	unknown   UnknownRoles
	dataPlane *policy.Policy

	mu       sync.Mutex
	gen      uint64                            // ids.Generation() the caches were filled at; guarded by mu
	compiled map[compiledKey]*policy.Policy    // by kind and document digest; guarded by mu
	sets     map[principalKey][]*policy.Policy // by principal; guarded by mu
}

type principalKey struct{ arn, id string }

type compiledKey struct {
	kind   policy.Kind
	digest [32]byte
}

// New returns an Authorizer over ids; resources may be nil (no
// resource-based policies).
func New(ids Identities, resources ResourcePolicies, unknown UnknownRoles) (*Authorizer, error) {
	dp, err := policy.Parse(policy.Identity, DataPlanePolicy)
	if err != nil {
		return nil, err
	}
	return &Authorizer{
		ids: ids, resources: resources, unknown: unknown, dataPlane: dp,
		compiled: map[compiledKey]*policy.Policy{}, sets: map[principalKey][]*policy.Policy{},
	}, nil
}

// Authorize returns nil when p may perform action on resource, and a
// *Denied otherwise. The account root may do everything.
func (a *Authorizer) Authorize(p iam.Principal, action, resource string, c Context) error {
	if p.Type == iam.PrincipalRoot {
		return nil
	}
	req := a.request(p, action, resource, c)
	identity := a.identityPolicies(p)
	var resPolicies []*policy.Policy
	if a.resources != nil {
		if doc, digest, ok := a.resources(resource); ok {
			if rp := a.compile(policy.Resource, doc, digest); rp != nil {
				resPolicies = []*policy.Policy{rp}
			}
		}
	}
	r := policy.EvaluateExplained(&req, identity, resPolicies)
	if r.Decision == policy.Allow {
		return nil
	}
	return &Denied{Message: policy.AccessDeniedMessage(&req, r), Action: action, Resource: resource, Principal: p}
}

// MayAssume decides sts:AssumeRole of role by caller: the role's trust
// policy must allow the caller, and the caller's own policies must allow
// sts:AssumeRole on the role (the root's always do); an explicit deny in
// either refuses.
func (a *Authorizer) MayAssume(caller iam.Principal, role iam.Role, c Context) bool {
	trust := a.compile(policy.Trust, role.AssumeRolePolicyDocument, sha256.Sum256([]byte(role.AssumeRolePolicyDocument)))
	if trust == nil {
		return false
	}
	req := a.request(caller, "sts:AssumeRole", role.ARN, c)
	if trust.Evaluate(&req) != policy.Allow {
		return false
	}
	if caller.Type == iam.PrincipalRoot {
		return true
	}
	return policy.Evaluate(&req, a.identityPolicies(caller), nil) == policy.Allow
}

// request builds the policy request of p.
func (a *Authorizer) request(p iam.Principal, action, resource string, c Context) policy.Request {
	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	keys := make(map[string][]string, 4+len(c.Keys))
	for k, v := range c.Keys {
		keys[k] = v
	}
	keys["aws:CurrentTime"] = []string{now.UTC().Format(time.RFC3339)}
	keys["aws:EpochTime"] = []string{strconv.FormatInt(now.Unix(), 10)}
	keys["aws:SecureTransport"] = []string{strconv.FormatBool(c.SecureTransport)}
	if c.SourceIP != "" {
		if host, _, err := net.SplitHostPort(c.SourceIP); err == nil {
			keys["aws:SourceIp"] = []string{host}
		} else {
			keys["aws:SourceIp"] = []string{c.SourceIP}
		}
	}
	pp := policy.Principal{ARN: p.ARN, Account: p.Account, UserID: p.UserID}
	switch p.Type {
	case iam.PrincipalUser:
		pp.Type, pp.UserName = policy.PrincipalUser, p.Name
	case iam.PrincipalAssumedRole:
		pp.Type, pp.RoleARN = policy.PrincipalAssumedRole, p.RoleARN
	default:
		pp.Type = policy.PrincipalRoot
	}
	return policy.Request{Principal: pp, Action: action, Resource: resource, Context: keys}
}

// identityPolicies returns p's compiled identity-based policies: its own,
// or the data-plane policy for a session of a role not defined here.
func (a *Authorizer) identityPolicies(p iam.Principal) []*policy.Policy {
	a.mu.Lock()
	defer a.mu.Unlock()
	if g := a.ids.Generation(); g != a.gen {
		a.gen = g
		clear(a.sets)
	}
	key := principalKey{p.ARN, p.UserID}
	if set, ok := a.sets[key]; ok {
		return set
	}
	var set []*policy.Policy
	if p.Type == iam.PrincipalAssumedRole {
		if _, defined := a.ids.Role(p.RoleARN); !defined {
			if a.unknown == UnknownRolesAllow {
				set = []*policy.Policy{a.dataPlane}
			}
			a.sets[key] = set
			return set
		}
	}
	for _, d := range a.ids.PoliciesOf(p) {
		if cp := a.compileLocked(policy.Identity, d.Document, d.Digest); cp != nil {
			set = append(set, cp)
		}
	}
	a.sets[key] = set
	return set
}

func (a *Authorizer) compile(kind policy.Kind, doc string, digest [32]byte) *policy.Policy {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.compileLocked(kind, doc, digest)
}

// compileLocked parses doc once per digest; a document that does not parse
// (stored before a stricter parser) grants nothing.
func (a *Authorizer) compileLocked(kind policy.Kind, doc string, digest [32]byte) *policy.Policy {
	key := compiledKey{kind, digest}
	if p, ok := a.compiled[key]; ok {
		return p
	}
	p, err := policy.Parse(kind, doc)
	if err != nil {
		p = nil
	}
	if len(a.compiled) > 10000 {
		clear(a.compiled)
	}
	a.compiled[key] = p
	return p
}
