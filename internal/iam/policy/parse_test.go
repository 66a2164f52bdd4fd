package policy

import (
	"errors"
	"testing"
)

// TestParseMalformed checks IAM's MalformedPolicyDocument messages for
// documents IAM refuses (cases as IAM answers CreatePolicy/PutUserPolicy).
func TestParseMalformed(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		doc  string
		want string
	}{
		{"text that is not JSON", Identity, `This is not a json document`, MsgSyntax},
		{"an unknown version", Identity, `{"Version":"2013-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}}`, MsgSyntax},
		{"no Statement", Identity, `{"Version":"2012-10-17"}`, MsgSyntax},
		{"an empty Statement list", Identity, `{"Version":"2012-10-17","Statement":[]}`, MsgSyntax},
		{"a statement that is a string", Identity, `{"Version":"2012-10-17","Statement":["afd"]}`, MsgSyntax},
		{"an unknown top-level element", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"},"Extra field":"value"}`, MsgSyntax},
		{"an unknown statement element", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Extra field":"value"}}`, MsgSyntax},
		{"an Id that is a list", Identity, `{"Version":"2012-10-17","Id":["x"],"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}}`, MsgSyntax},
		{"an invalid Effect", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"invalid","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}}`, MsgSyntax},
		{"no Effect", Identity, `{"Version":"2012-10-17","Statement":{"Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}}`, MsgSyntax},
		{"a Resource that is an object", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":{"a":"arn:aws:s3:::b"}}}`, MsgSyntax},
		{"a list entry that is an object", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:ListBucket","Resource":["adfdf",{}]}}`, MsgSyntax},
		{"both Resource and NotResource", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","NotResource":"*"}}`, MsgSyntax},
		{"both Action and NotAction", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"s3:ListBucket","Action":"iam:dsf","Resource":"arn:aws:s3:::b"}}`, MsgSyntax},
		{"a Condition that is a list", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":[]}}`, MsgSyntax},
		{"a condition operator with a string body", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"DateGreaterThan":"b"}}}`, MsgSyntax},
		{"an unknown condition operator", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"x":{"a":"1"}}}}`, MsgSyntax},
		{"a doubled set-operator colon", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"ForAnyValue::StringEqualsIfExists":{"a:b":"asf"}}}}`, MsgSyntax},
		{"a Sid that is an object", Identity, `{"Version":"2012-10-17","Statement":{"Sid":{},"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}}`, MsgSyntax},
		{"an Effect in the wrong case", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"denY","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}}`, MsgLegacy},
		{"a date that is not a date", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"DateGreaterThan":{"a":"sdfdsf"}}}}`, MsgLegacy},
		{"a month 13", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"DateLessThanEquals":{"a":"234-13"}}}}`, MsgLegacy},
		{"an epoch past int64", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"DateLessThan":{"a":"9223372036854775808"}}}}`, MsgLegacy},
		{"a short ARN with an empty field", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3::example_bucket"}}`, MsgLegacy},
		{"an ARN with no service", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"s3:ListBucket","Resource":"arn:aws::::example_bucket"}}`, MsgLegacy},
		{"a repeated Sid", Identity, `{"Version":"2012-10-17","Statement":[{"Sid":"sdf","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"},{"Sid":"sdf","Effect":"Allow"}]}`, MsgSidUnique},
		{"no Action", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"arn:aws:s3:::b"}}`, MsgNoActions},
		{"an empty Action list", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":[],"Resource":"arn:aws:s3:::b"}}`, MsgNoActions},
		{"a statement with only Effect", Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny"},{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}]}`, MsgNoActions},
		{"no Resource", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket"}}`, MsgNoResources},
		{"an empty Resource list", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":[]}}`, MsgNoResources},
		{"an action without a vendor", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"invalid","Resource":"arn:aws:s3:::b"}}`, MsgVendor},
		{"an empty NotAction", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"","Resource":"arn:aws:s3:::b"}}`, MsgVendor},
		{"an action with two colons", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:List:Bucket","Resource":"arn:aws:s3:::b"}}`, MsgOneColon},
		{"a vendor with a space", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a a:ListBucket","Resource":"arn:aws:s3:::b"}}`, "Vendor a a is not valid"},
		{"a resource that is not an ARN", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"invalid resource"}}`, `Resource invalid resource must be in ARN format or "*".`},
		{"an unknown partition", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"aws:s3:::example_bucket"}}`, `Partition "s3" is not valid for resource "arn:s3:::example_bucket:*".`},
		{"a partition and nothing else", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"s3s:ListBucket","Resource":"a:b:c:d:e:f:g:h"}}`, `Partition "b" is not valid for resource "arn:b:c:d:e:f:g:h".`},
		{"an ARN without a service", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws"}}`, MsgResourceVendor},
		{"an IAM ARN with a region", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:iam:us-east-1::example_bucket"}}`, "IAM resource arn:aws:iam:us-east-1::example_bucket cannot contain region information."},
		{"an S3 ARN with a region", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:us-east-1::example_bucket"}}`, "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information."},
		{"an IAM ARN of no known type", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:iam:::example_bucket"}}`, `IAM resource path must either be "*" or start with user/, federated-user/, role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/.`},
		{"a principal in an identity-based policy", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"s3:ListBucket","Resource":"*"}}`, MsgPrincipalNotAllowed},
		{"a resource policy without a principal", Resource, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}}`, MsgMissingPrincipal},
		{"a trust policy without a principal", Trust, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}`, MsgNoPrincipal},
		{"a trust policy with a resource", Trust, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}}`, MsgTrustResource},
		{"a trust policy granting another action", Trust, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"lambda:InvokeFunction"}}`, MsgTrustActions},
		{"a principal that is not an ARN", Trust, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"sts:AssumeRole"}}`, `Invalid principal in policy: "AWS":"bob"`},
		{"an unknown principal type", Trust, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Robot":"x"},"Action":"sts:AssumeRole"}}`, `Invalid principal in policy: "Robot"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.kind, tc.doc)
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("Parse = %v, want MalformedError %q", err, tc.want)
			}
			if me.Message != tc.want {
				t.Errorf("message = %q, want %q", me.Message, tc.want)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		doc  string
	}{
		{"a statement object", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}}`},
		{"no Version", Identity, `{"Statement":[{"Effect":"Allow","Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::b"]}]}`},
		{"Version 2008-10-17", Identity, `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
		{"null list entries", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:ListBucket",null],"Resource":["arn:aws:s3:::b",null]}}`},
		{"an empty unknown operator", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"x":{}}}}`},
		{"boolean and number condition values", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":10}}}}`},
		{"ISO 8601 forms", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":["2019-07-16T12:00:00Z","2016-12-13t2:00:00.593194+10:59","2019-07-16","1563278400"]}}}}`},
		{"a Lambda function policy", Resource, `{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"sns","Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:my-function","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:sns:us-east-1:123456789012:topic"}}}]}`},
		{"a Lambda trust policy", Trust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`},
		{"a cross-account trust policy", Trust, `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","444455556666","arn:aws:iam::111122223333:role/path/Dev"]},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`},
		{"a principal of everyone", Resource, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse(tc.kind, tc.doc); err != nil {
				t.Fatalf("Parse: %v", err)
			}
		})
	}
}

func TestRequireVersion2012(t *testing.T) {
	p, err := Parse(Identity, `{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}}`)
	if err != nil {
		t.Fatal(err)
	}
	var me *MalformedError
	if err := p.RequireVersion2012(); !errors.As(err, &me) || me.Message != MsgVersion {
		t.Errorf("RequireVersion2012 = %v, want %q", err, MsgVersion)
	}
}

func TestQuota(t *testing.T) {
	doc := `{ "Version": "2012-10-17",
	  "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"} }`
	if got, want := Size(doc), len(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`); got != want {
		t.Errorf("Size = %d, want %d", got, want)
	}
	if err := UserPolicySize.Check(2048); err != nil {
		t.Errorf("Check(2048) = %v", err)
	}
	var le *LimitExceededError
	if err := UserPolicySize.Check(2049); !errors.As(err, &le) || le.Message != "Cannot exceed quota for UserPolicySize: 2048" {
		t.Errorf("Check(2049) = %v", err)
	}
}
