package policy

import (
	"testing"
)

const acct = "123456789012"

var (
	alice = Principal{ARN: "arn:aws:iam::123456789012:user/alice", Account: acct, Type: PrincipalUser, UserName: "alice", UserID: "AIDAEXAMPLEALICE"}
	// A session of role Dev (path /team/).
	devSession = Principal{ARN: "arn:aws:sts::123456789012:assumed-role/Dev/s1", Account: acct, Type: PrincipalAssumedRole,
		RoleARN: "arn:aws:iam::123456789012:role/team/Dev", UserID: "AROAEXAMPLEDEV:s1"}
	root      = Principal{ARN: "arn:aws:iam::123456789012:root", Account: acct, Type: PrincipalRoot}
	snsSvc    = Principal{Type: PrincipalService, Service: "sns.amazonaws.com"}
	otherUser = Principal{ARN: "arn:aws:iam::999999999999:user/mallory", Account: "999999999999", Type: PrincipalUser}
)

func mustParse(t testing.TB, kind Kind, doc string) *Policy {
	t.Helper()
	p, err := Parse(kind, doc)
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return p
}

func ctx(kv ...string) map[string][]string {
	m := map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = append(m[kv[i]], kv[i+1])
	}
	return m
}

// TestEvaluateIdentity runs examples of the IAM User Guide ("Example IAM
// identity-based policies", "IAM JSON policy elements: Condition
// operators", "Policy evaluation logic") through one identity-based policy.
func TestEvaluateIdentity(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		req    Request
		want   Decision
	}{
		// NotAction with Allow: everything except IAM.
		{"NotAction with Allow allows what it does not list",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`,
			Request{Principal: alice, Action: "lambda:CreateFunction", Resource: "arn:aws:lambda:us-east-1:123456789012:function:f"}, Allow},
		{"NotAction with Allow does not allow what it lists",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`,
			Request{Principal: alice, Action: "iam:CreateUser", Resource: "arn:aws:iam::123456789012:user/bob"}, ImplicitDeny},
		// NotResource with Deny: everything outside one bucket is denied.
		{"NotResource with Deny denies other resources",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::amzn-s3-demo-bucket","arn:aws:s3:::amzn-s3-demo-bucket/*"]}]}`,
			Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::other/x"}, ExplicitDeny},
		{"NotResource with Deny spares its resources",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::amzn-s3-demo-bucket","arn:aws:s3:::amzn-s3-demo-bucket/*"]}]}`,
			Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::amzn-s3-demo-bucket/x"}, Allow},
		{"Deny beats Allow",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:*","Resource":"*"},{"Effect":"Deny","Action":"lambda:DeleteFunction","Resource":"*"}]}`,
			Request{Principal: alice, Action: "lambda:DeleteFunction", Resource: "arn:aws:lambda:us-east-1:123456789012:function:f"}, ExplicitDeny},
		{"actions match case-insensitively with wildcards",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"Lambda:invoke*","Resource":"*"}}`,
			Request{Principal: alice, Action: "lambda:InvokeFunction", Resource: "arn:aws:lambda:us-east-1:123456789012:function:f"}, Allow},
		{"? matches one character",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:?eceiveMessage","Resource":"*"}}`,
			Request{Principal: alice, Action: "sqs:ReceiveMessage", Resource: "*"}, Allow},
		{"a * in the resource segment spans colons",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:123456789012:function:my-fn*"}}`,
			Request{Principal: alice, Action: "lambda:InvokeFunction", Resource: "arn:aws:lambda:us-east-1:123456789012:function:my-fn:PROD"}, Allow},
		{"a * in the region segment does not swallow the account",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:function:f"}}`,
			Request{Principal: alice, Action: "lambda:InvokeFunction", Resource: "arn:aws:lambda:us-east-1:123456789012:function:f"}, ImplicitDeny},
		{"resources match case-sensitively",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:*:function:MyFn"}}`,
			Request{Principal: alice, Action: "lambda:InvokeFunction", Resource: "arn:aws:lambda:us-east-1:123456789012:function:myfn"}, ImplicitDeny},
		// Policy variables: "IAM: Allows IAM users to manage their own credentials".
		{"${aws:username} in a resource",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::*:user/${aws:username}"}}`,
			Request{Principal: alice, Action: "iam:CreateAccessKey", Resource: "arn:aws:iam::123456789012:user/alice"}, Allow},
		{"${aws:username} of another user",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::*:user/${aws:username}"}}`,
			Request{Principal: alice, Action: "iam:CreateAccessKey", Resource: "arn:aws:iam::123456789012:user/bob"}, ImplicitDeny},
		{"${aws:username} is literal in a 2008-10-17 policy",
			`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::*:user/${aws:username}"}}`,
			Request{Principal: alice, Action: "iam:CreateAccessKey", Resource: "arn:aws:iam::123456789012:user/alice"}, ImplicitDeny},
		{"a role session has no ${aws:username}",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}}`,
			Request{Principal: devSession, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/${aws:username}/x"}, ImplicitDeny},
		{"a default value stands in for a missing key",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:PrincipalTag/team, 'shared'}/*"}}`,
			Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/shared/x"}, Allow},
		{"${*} is a literal star",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${*}"}}`,
			Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/x"}, ImplicitDeny},
		{"${*} matches a star",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${*}${?}${$}"}}`,
			Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*?$"}, Allow},
		{"StringLike with a variable in the value",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}}}`,
			Request{Principal: alice, Action: "s3:ListBucket", Resource: "arn:aws:s3:::b", Context: ctx("s3:prefix", "home/alice/docs")}, Allow},
		// IfExists: "…IfExists condition operators".
		{"IfExists holds when the key is absent",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*","Condition":{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}}}`,
			Request{Principal: alice, Action: "ec2:RunInstances", Resource: "*"}, Allow},
		{"IfExists checks a present key",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*","Condition":{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}}}`,
			Request{Principal: alice, Action: "ec2:RunInstances", Resource: "*", Context: ctx("ec2:InstanceType", "c5.large")}, ImplicitDeny},
		// Set operators: "Multivalued context keys".
		{"ForAllValues holds for an absent key",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*","Condition":{"ForAllValues:StringEquals":{"dynamodb:Attributes":["ID","Message","Tags"]}}}}`,
			Request{Principal: alice, Action: "dynamodb:GetItem", Resource: "*"}, Allow},
		{"ForAllValues holds when every value is listed",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*","Condition":{"ForAllValues:StringEquals":{"dynamodb:Attributes":["ID","Message","Tags"]}}}}`,
			Request{Principal: alice, Action: "dynamodb:GetItem", Resource: "*", Context: ctx("dynamodb:Attributes", "ID", "dynamodb:Attributes", "Tags")}, Allow},
		{"ForAllValues fails when one value is not listed",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*","Condition":{"ForAllValues:StringEquals":{"dynamodb:Attributes":["ID","Message","Tags"]}}}}`,
			Request{Principal: alice, Action: "dynamodb:GetItem", Resource: "*", Context: ctx("dynamodb:Attributes", "ID", "dynamodb:Attributes", "Secret")}, ImplicitDeny},
		{"ForAllValues holds for an empty set",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*","Condition":{"ForAllValues:StringEquals":{"dynamodb:Attributes":["ID"]}}}}`,
			Request{Principal: alice, Action: "dynamodb:GetItem", Resource: "*", Context: map[string][]string{"dynamodb:Attributes": {}}}, Allow},
		{"ForAnyValue fails for an absent key",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["Owner"]}}}}`,
			Request{Principal: alice, Action: "ec2:CreateTags", Resource: "*"}, ImplicitDeny},
		{"ForAnyValue holds when one value is listed",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["Owner"]}}}}`,
			Request{Principal: alice, Action: "ec2:CreateTags", Resource: "*", Context: ctx("aws:TagKeys", "Cost", "aws:TagKeys", "Owner")}, Allow},
		{"ForAllValues:StringNotLike denies none of the listed",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAllValues:StringNotLike":{"aws:TagKeys":["aws:*"]}}}}`,
			Request{Principal: alice, Action: "ec2:CreateTags", Resource: "*", Context: ctx("aws:TagKeys", "Cost", "aws:TagKeys", "aws:x")}, ImplicitDeny},
		// Source IP: "AWS: Denies access to AWS based on the source IP".
		{"NotIpAddress denies outside the ranges",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24","2001:DB8:1234:5678::/64"]}}}]}`,
			Request{Principal: alice, Action: "lambda:ListFunctions", Resource: "*", Context: ctx("aws:SourceIp", "198.51.100.7")}, ExplicitDeny},
		{"NotIpAddress spares an address inside",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24","2001:DB8:1234:5678::/64"]}}}]}`,
			Request{Principal: alice, Action: "lambda:ListFunctions", Resource: "*", Context: ctx("aws:SourceIp", "203.0.113.9")}, Allow},
		{"IpAddress matches IPv6",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}}}}`,
			Request{Principal: alice, Action: "lambda:ListFunctions", Resource: "*", Context: ctx("aws:SourceIp", "2001:db8:1234:5678::1")}, Allow},
		{"IpAddress with a single address",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.1"}}}}`,
			Request{Principal: alice, Action: "lambda:ListFunctions", Resource: "*", Context: ctx("aws:SourceIp", "203.0.113.2")}, ImplicitDeny},
		// Dates: "AWS: Allows access based on date and time".
		{"within the date window",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}}}`,
			Request{Principal: alice, Action: "lambda:GetFunction", Resource: "*", Context: ctx("aws:CurrentTime", "2020-05-01T12:00:00Z")}, Allow},
		{"after the date window",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}}}`,
			Request{Principal: alice, Action: "lambda:GetFunction", Resource: "*", Context: ctx("aws:CurrentTime", "2020-07-01T00:00:00Z")}, ImplicitDeny},
		{"epoch time against an ISO date",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:*","Resource":"*","Condition":{"DateLessThan":{"aws:EpochTime":"2020-06-30T23:59:59Z"}}}}`,
			Request{Principal: alice, Action: "lambda:GetFunction", Resource: "*", Context: ctx("aws:EpochTime", "1588334400")}, Allow},
		// "AWS: Denies access … when the request is not sent using SSL".
		{"Bool denies plain HTTP",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
			Request{Principal: alice, Action: "sqs:SendMessage", Resource: "*", Context: ctx("aws:SecureTransport", "false")}, ExplicitDeny},
		{"Bool spares HTTPS",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}]}`,
			Request{Principal: alice, Action: "sqs:SendMessage", Resource: "*", Context: ctx("aws:SecureTransport", "true")}, Allow},
		{"Bool on an absent key is false",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}`,
			Request{Principal: alice, Action: "sqs:SendMessage", Resource: "*"}, ImplicitDeny},
		// Negated operators on an absent key: the condition is true.
		{"StringNotEquals holds for an absent key",
			`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}}}`,
			Request{Principal: alice, Action: "sqs:SendMessage", Resource: "*"}, ExplicitDeny},
		{"StringNotEquals with two values means neither",
			`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}}}`,
			Request{Principal: alice, Action: "sqs:SendMessage", Resource: "*", Context: ctx("aws:RequestedRegion", "eu-west-1")}, ImplicitDeny},
		{"condition keys are case-insensitive, values case-sensitive",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"AWS:RequestedRegion":"us-east-1"}}}}`,
			Request{Principal: alice, Action: "sqs:SendMessage", Resource: "*", Context: ctx("aws:requestedregion", "US-EAST-1")}, ImplicitDeny},
		{"StringEqualsIgnoreCase ignores case",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"aws:RequestedRegion":"us-east-1"}}}}`,
			Request{Principal: alice, Action: "sqs:SendMessage", Resource: "*", Context: ctx("aws:RequestedRegion", "US-EAST-1")}, Allow},
		{"multiple keys in one operator all must hold",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1","aws:PrincipalAccount":"123456789012"}}}}`,
			Request{Principal: otherUser, Action: "sqs:SendMessage", Resource: "*", Context: ctx("aws:RequestedRegion", "us-east-1")}, ImplicitDeny},
		{"Null true denies temporary credentials' absence",
			`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"true"}}}}`,
			Request{Principal: alice, Action: "sqs:SendMessage", Resource: "*"}, ExplicitDeny},
		{"Null false needs the key",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"false"}}}}`,
			Request{Principal: devSession, Action: "sqs:SendMessage", Resource: "*", Context: ctx("aws:TokenIssueTime", "2024-01-01T00:00:00Z")}, Allow},
		{"NumericLessThanEquals",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"}}}}`,
			Request{Principal: alice, Action: "s3:ListBucket", Resource: "*", Context: ctx("s3:max-keys", "11")}, ImplicitDeny},
		{"ArnLike on aws:SourceArn",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:123456789012:*"}}}}`,
			Request{Principal: alice, Action: "sqs:SendMessage", Resource: "*", Context: ctx("aws:SourceArn", "arn:aws:sns:us-east-1:123456789012:topic")}, Allow},
		{"ArnNotEquals on an absent key holds",
			`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ArnNotEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:123456789012:topic"}}}}`,
			Request{Principal: alice, Action: "sqs:SendMessage", Resource: "*"}, ExplicitDeny},
		{"BinaryEquals",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"BinaryEquals":{"x:key":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}}}`,
			Request{Principal: alice, Action: "sqs:SendMessage", Resource: "*", Context: ctx("x:key", "QmluYXJ5VmFsdWVJbkJhc2U2NA==")}, Allow},
		{"aws:PrincipalArn of a session is its role",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/team/Dev"}}}}`,
			Request{Principal: devSession, Action: "sqs:SendMessage", Resource: "*"}, Allow},
		{"no statement applies",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:*","Resource":"*"}}`,
			Request{Principal: alice, Action: "lambda:InvokeFunction", Resource: "*"}, ImplicitDeny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, Identity, tc.policy)
			if got := Evaluate(&tc.req, []*Policy{p}, nil); got != tc.want {
				t.Errorf("Evaluate = %v, want %v", got, tc.want)
			}
			if got := p.Evaluate(&tc.req); got != tc.want {
				t.Errorf("Policy.Evaluate = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestEvaluateResource covers identity-based and resource-based policies
// together ("Policy evaluation for requests within a single account").
func TestEvaluateResource(t *testing.T) {
	const fn = "arn:aws:lambda:us-east-1:123456789012:function:f"
	invokeBy := func(principal string) string {
		return `{"Version":"2012-10-17","Statement":{"Sid":"s1","Effect":"Allow","Principal":` + principal +
			`,"Action":"lambda:InvokeFunction","Resource":"` + fn + `"}}`
	}
	allowAll := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:*","Resource":"*"}}`
	tests := []struct {
		name      string
		identity  []string
		resource  []string
		principal Principal
		resAcct   string
		want      Decision
		source    Source
	}{
		{"a resource policy naming the user allows without an identity policy", nil, []string{invokeBy(`{"AWS":"arn:aws:iam::123456789012:user/alice"}`)}, alice, "", Allow, SourceNone},
		{"a resource policy naming the account allows its users", nil, []string{invokeBy(`{"AWS":"123456789012"}`)}, alice, "", Allow, SourceNone},
		{"a resource policy naming the account root ARN allows its users", nil, []string{invokeBy(`{"AWS":"arn:aws:iam::123456789012:root"}`)}, alice, "", Allow, SourceNone},
		{"a resource policy naming the role allows its sessions", nil, []string{invokeBy(`{"AWS":"arn:aws:iam::123456789012:role/team/Dev"}`)}, devSession, "", Allow, SourceNone},
		{"a resource policy naming a service allows it", nil, []string{invokeBy(`{"Service":"sns.amazonaws.com"}`)}, snsSvc, "", Allow, SourceNone},
		{"a service not named is denied", nil, []string{invokeBy(`{"Service":"s3.amazonaws.com"}`)}, snsSvc, "", ImplicitDeny, SourceResource},
		{"a resource policy naming someone else does not allow", nil, []string{invokeBy(`{"AWS":"arn:aws:iam::123456789012:user/bob"}`)}, alice, "", ImplicitDeny, SourceIdentity},
		{"everyone", nil, []string{invokeBy(`"*"`)}, otherUser, "", Allow, SourceNone},
		{"an identity policy alone allows", []string{allowAll}, nil, alice, "", Allow, SourceNone},
		{"a resource Deny beats an identity Allow", []string{allowAll},
			[]string{`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":{"AWS":"123456789012"},"Action":"lambda:InvokeFunction","Resource":"*"}}`}, alice, "", ExplicitDeny, SourceResource},
		{"NotPrincipal with Deny spares the named", []string{allowAll},
			[]string{`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"lambda:InvokeFunction","Resource":"*"}}`}, alice, "", Allow, SourceNone},
		{"the root user is allowed by default", nil, nil, root, "", Allow, SourceNone},
		{"cross-account needs the identity side too", nil, []string{invokeBy(`{"AWS":"999999999999"}`)}, otherUser, acct, ImplicitDeny, SourceIdentity},
		{"cross-account needs the resource side too", []string{allowAll}, nil, otherUser, acct, ImplicitDeny, SourceResource},
		{"cross-account with both sides", []string{allowAll}, []string{invokeBy(`{"AWS":"999999999999"}`)}, otherUser, acct, Allow, SourceNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var id, res []*Policy
			for _, d := range tc.identity {
				id = append(id, mustParse(t, Identity, d))
			}
			for _, d := range tc.resource {
				res = append(res, mustParse(t, Resource, d))
			}
			req := &Request{Principal: tc.principal, Action: "lambda:InvokeFunction", Resource: fn, ResourceAccount: tc.resAcct}
			got := EvaluateExplained(req, id, res)
			if got.Decision != tc.want || got.Source != tc.source {
				t.Errorf("EvaluateExplained = %+v, want %v from %v", got, tc.want, tc.source)
			}
		})
	}
}

func TestTrustPolicy(t *testing.T) {
	p := mustParse(t, Trust, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com","states.amazonaws.com"]},"Action":"sts:AssumeRole"},
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`)
	lambda := Principal{Type: PrincipalService, Service: "lambda.amazonaws.com"}
	if !p.MatchesPrincipal(lambda) || !p.MatchesPrincipal(alice) || p.MatchesPrincipal(otherUser) {
		t.Error("MatchesPrincipal: want lambda and alice, not mallory")
	}
	if d := p.Evaluate(&Request{Principal: lambda, Action: "sts:AssumeRole"}); d != Allow {
		t.Errorf("lambda assumes: %v", d)
	}
	if d := p.Evaluate(&Request{Principal: alice, Action: "sts:AssumeRole"}); d != ImplicitDeny {
		t.Errorf("alice without MFA assumes: %v", d)
	}
	if d := p.Evaluate(&Request{Principal: alice, Action: "sts:AssumeRole", Context: ctx("aws:MultiFactorAuthPresent", "true")}); d != Allow {
		t.Errorf("alice with MFA assumes: %v", d)
	}
	if !p.AllowsAction("STS:assumerole") || p.AllowsAction("sts:GetSessionToken") {
		t.Error("AllowsAction")
	}
}

func TestAccessDeniedMessage(t *testing.T) {
	req := &Request{Principal: alice, Action: "lambda:InvokeFunction", Resource: "arn:aws:lambda:us-east-1:123456789012:function:f"}
	tests := []struct {
		r    Result
		want string
	}{
		{Result{Decision: ImplicitDeny, Source: SourceIdentity}, "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:f because no identity-based policy allows the lambda:InvokeFunction action"},
		{Result{Decision: ImplicitDeny, Source: SourceResource}, "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:f because no resource-based policy allows the lambda:InvokeFunction action"},
		{Result{Decision: ExplicitDeny, Source: SourceIdentity}, "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:f with an explicit deny in an identity-based policy"},
		{Result{Decision: ExplicitDeny, Source: SourceResource}, "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:f with an explicit deny in a resource-based policy"},
		{Result{Decision: Allow}, ""},
	}
	for _, tc := range tests {
		if got := AccessDeniedMessage(req, tc.r); got != tc.want {
			t.Errorf("AccessDeniedMessage(%+v) =\n %q\nwant\n %q", tc.r, got, tc.want)
		}
	}
}
