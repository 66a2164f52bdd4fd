package authz

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/iam"
)

// fakeIdentities holds policies by principal ARN and roles by ARN.
type fakeIdentities struct {
	policies map[string][]string
	roles    map[string]iam.Role
	gen      uint64
}

func (f *fakeIdentities) PoliciesOf(p iam.Principal) []iam.PolicyDoc {
	key := p.ARN
	if p.Type == iam.PrincipalAssumedRole {
		key = p.RoleARN
	}
	var out []iam.PolicyDoc
	for _, d := range f.policies[key] {
		out = append(out, iam.PolicyDoc{Document: d, Digest: sha256.Sum256([]byte(d))})
	}
	return out
}

func (f *fakeIdentities) Role(arn string) (iam.Role, bool) { r, ok := f.roles[arn]; return r, ok }
func (f *fakeIdentities) Generation() uint64               { return f.gen }

const (
	account  = "000000000000"
	userARN  = "arn:aws:iam::000000000000:user/ci"
	roleARN  = "arn:aws:iam::000000000000:role/invoker"
	fnApp1   = "arn:aws:lambda:us-east-1:000000000000:function:app1"
	fnOther  = "arn:aws:lambda:us-east-1:000000000000:function:other"
	appOnly  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:*:function:app*"}]}`
	denyAll  = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`
	trustCI  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/ci"},"Action":"sts:AssumeRole"}]}`
	trustFn  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	assumeIt = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`
)

var (
	user    = iam.Principal{Type: iam.PrincipalUser, ARN: userARN, Account: account, Name: "ci", UserID: "AIDAEXAMPLE"}
	session = func(role string) iam.Principal {
		name := role[strings.LastIndexByte(role, '/')+1:]
		return iam.Principal{Type: iam.PrincipalAssumedRole, ARN: "arn:aws:sts::000000000000:assumed-role/" + name + "/fn",
			Account: account, RoleARN: role, UserID: "AROAEXAMPLE:fn"}
	}
)

func TestAuthorize(t *testing.T) {
	partnerPolicy := `{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"p","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/ci"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:000000000000:function:other"}]}`
	tests := []struct {
		name      string
		policies  map[string][]string
		resources map[string]string
		unknown   UnknownRoles
		p         iam.Principal
		action    string
		resource  string
		allowed   bool
		message   string
	}{
		{name: "root may do everything", p: iam.Principal{Type: iam.PrincipalRoot, ARN: "arn:aws:iam::000000000000:root"},
			action: "iam:DeleteUser", resource: "*", allowed: true},
		{name: "a user without policies may do nothing", p: user, action: "lambda:InvokeFunction", resource: fnApp1,
			message: "User: arn:aws:iam::000000000000:user/ci is not authorized to perform: lambda:InvokeFunction on resource: " + fnApp1 + " because no identity-based policy allows the lambda:InvokeFunction action"},
		{name: "a wildcard resource allows app1", policies: map[string][]string{userARN: {appOnly}}, p: user,
			action: "lambda:InvokeFunction", resource: fnApp1, allowed: true},
		{name: "and a qualified app1", policies: map[string][]string{userARN: {appOnly}}, p: user,
			action: "lambda:InvokeFunction", resource: fnApp1 + ":live", allowed: true},
		{name: "not other", policies: map[string][]string{userARN: {appOnly}}, p: user,
			action: "lambda:InvokeFunction", resource: fnOther},
		{name: "an explicit deny wins", policies: map[string][]string{userARN: {appOnly, denyAll}}, p: user,
			action: "lambda:InvokeFunction", resource: fnApp1, message: "with an explicit deny in an identity-based policy"},
		{name: "a function's policy allows its principal", resources: map[string]string{fnOther: partnerPolicy}, p: user,
			action: "lambda:InvokeFunction", resource: fnOther, allowed: true},
		{name: "a defined role's session has the role's policies", policies: map[string][]string{roleARN: {appOnly}},
			p: session(roleARN), action: "lambda:InvokeFunction", resource: fnApp1, allowed: true},
		{name: "an unknown role gets the data plane", unknown: UnknownRolesAllow,
			p: session("arn:aws:iam::123456789012:role/tutorial"), action: "lambda:InvokeFunction", resource: fnOther, allowed: true},
		{name: "but not the control plane", unknown: UnknownRolesAllow,
			p: session("arn:aws:iam::123456789012:role/tutorial"), action: "lambda:ListFunctions", resource: "*"},
		{name: "nor IAM", unknown: UnknownRolesAllow,
			p: session("arn:aws:iam::123456789012:role/tutorial"), action: "iam:CreateUser", resource: "*"},
		{name: "refused unknown roles may do nothing", unknown: UnknownRolesRefuse,
			p: session("arn:aws:iam::123456789012:role/tutorial"), action: "lambda:InvokeFunction", resource: fnOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids := &fakeIdentities{policies: tc.policies, roles: map[string]iam.Role{roleARN: {ARN: roleARN, RoleName: "invoker"}}}
			var res ResourcePolicies
			if tc.resources != nil {
				res = func(arn string) (string, [32]byte, bool) {
					d, ok := tc.resources[arn]
					return d, sha256.Sum256([]byte(d)), ok
				}
			}
			a, err := New(ids, res, tc.unknown)
			if err != nil {
				t.Fatal(err)
			}
			err = a.Authorize(tc.p, tc.action, tc.resource, Context{SourceIP: "127.0.0.1:5000"})
			if (err == nil) != tc.allowed {
				t.Fatalf("Authorize = %v, want allowed %v", err, tc.allowed)
			}
			var d *Denied
			if err != nil && (!errors.As(err, &d) || !strings.Contains(d.Message, tc.message)) {
				t.Errorf("denial %q, want it to contain %q", err, tc.message)
			}
		})
	}
}

func TestPolicyChangesApply(t *testing.T) {
	ids := &fakeIdentities{policies: map[string][]string{userARN: {appOnly}}}
	a, err := New(ids, nil, UnknownRolesAllow)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Authorize(user, "lambda:InvokeFunction", fnApp1, Context{}); err != nil {
		t.Fatal(err)
	}
	ids.policies = nil
	if err := a.Authorize(user, "lambda:InvokeFunction", fnApp1, Context{}); err != nil {
		t.Fatal("the cached set must stand until the store's generation moves")
	}
	ids.gen++
	if err := a.Authorize(user, "lambda:InvokeFunction", fnApp1, Context{}); err == nil {
		t.Fatal("a removed policy still allows after the store changed")
	}
}

func TestMayAssume(t *testing.T) {
	tests := []struct {
		name   string
		trust  string
		policy []string
		want   bool
	}{
		{"the trust policy names someone else", trustFn, []string{assumeIt}, false},
		{"the trust policy names the caller and its policy allows", trustCI, []string{assumeIt}, true},
		{"the trust policy names the caller but its policy does not allow", trustCI, nil, false},
		{"an explicit deny in the caller's policy", trustCI, []string{assumeIt, denyAll}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids := &fakeIdentities{policies: map[string][]string{userARN: tc.policy}}
			a, err := New(ids, nil, UnknownRolesAllow)
			if err != nil {
				t.Fatal(err)
			}
			role := iam.Role{ARN: roleARN, RoleName: "invoker", AssumeRolePolicyDocument: tc.trust}
			if got := a.MayAssume(user, role, Context{}); got != tc.want {
				t.Errorf("MayAssume = %v, want %v", got, tc.want)
			}
		})
	}
}

// BenchmarkAuthorize is the authorisation of one warm invoke by an IAM
// user with a typical policy: what --auth sigv4 adds to the invoke path
// beyond the signature check.
func BenchmarkAuthorize(b *testing.B) {
	ids := &fakeIdentities{policies: map[string][]string{userARN: {appOnly,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:Get*","lambda:List*"],"Resource":"*"},{"Effect":"Deny","Action":"lambda:Delete*","Resource":"*"}]}`}}}
	a, err := New(ids, nil, UnknownRolesAllow)
	if err != nil {
		b.Fatal(err)
	}
	c := Context{SourceIP: "127.0.0.1:5000"}
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Authorize(user, "lambda:InvokeFunction", fnApp1, c); err != nil {
			b.Fatal(err)
		}
	}
}
