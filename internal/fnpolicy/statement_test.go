package fnpolicy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/lambdaerr"
)

const fnARN = "arn:aws:lambda:us-east-1:123456789012:function:f"

func ptr(s string) *string { return &s }

func req(sid, action, principal string) *AddPermissionRequest {
	return &AddPermissionRequest{StatementId: ptr(sid), Action: ptr(action), Principal: ptr(principal)}
}

func TestBuildStatementWritesLambdasShape(t *testing.T) {
	tests := []struct {
		name     string
		req      *AddPermissionRequest
		resource string
		want     string
	}{
		{
			name:     "an account id becomes its root ARN",
			req:      req("xaccount", "lambda:InvokeFunction", "223456789012"),
			resource: fnARN,
			want:     `{"Sid":"xaccount","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::223456789012:root"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f"}`,
		},
		{
			name: "a service with a source ARN and account gets both conditions, StringEquals first",
			req: func() *AddPermissionRequest {
				r := req("s3", "lambda:InvokeFunction", "s3.amazonaws.com")
				r.SourceArn, r.SourceAccount = "arn:aws:s3:::my-bucket", "123456789012"
				return r
			}(),
			resource: fnARN,
			want:     `{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","Condition":{"StringEquals":{"AWS:SourceAccount":"123456789012"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::my-bucket"}}}`,
		},
		{
			name:     "a user ARN stays as it is and the qualifier is in the resource",
			req:      req("u", "lambda:GetFunction", "arn:aws:iam::123456789012:user/alice"),
			resource: fnARN + ":prod",
			want:     `{"Sid":"u","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"lambda:GetFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f:prod"}`,
		},
		{
			name:     "a star principal stays a star",
			req:      req("any", "lambda:*", "*"),
			resource: fnARN,
			want:     `{"Sid":"any","Effect":"Allow","Principal":"*","Action":"lambda:*","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f"}`,
		},
		{
			name: "organisation, token and function URL auth type join StringEquals",
			req: func() *AddPermissionRequest {
				r := req("url", "lambda:InvokeFunctionUrl", "*")
				r.PrincipalOrgID, r.EventSourceToken, r.FunctionUrlAuthType = "o-a1b2c3d4e5", "tok.1", "NONE"
				return r
			}(),
			resource: fnARN,
			want:     `{"Sid":"url","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5","lambda:EventSourceToken":"tok.1","lambda:FunctionUrlAuthType":"NONE"}}}`,
		},
		{
			name: "a source ARN with an ampersand is not HTML-escaped",
			req: func() *AddPermissionRequest {
				r := req("amp", "lambda:InvokeFunction", "sns.amazonaws.com")
				r.SourceArn = "arn:aws:sns:us-east-1:123456789012:a&b"
				return r
			}(),
			resource: fnARN,
			want:     `{"Sid":"amp","Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:sns:us-east-1:123456789012:a&b"}}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, raw, err := buildStatement(tc.req, tc.resource)
			if err != nil {
				t.Fatal(err)
			}
			if string(raw) != tc.want {
				t.Fatalf("statement\n got %s\nwant %s", raw, tc.want)
			}
		})
	}
}

func TestBuildStatementRefusesBadInput(t *testing.T) {
	tests := []struct {
		name    string
		req     *AddPermissionRequest
		typ     string
		message string
	}{
		{"a missing statement id", &AddPermissionRequest{Action: ptr("lambda:InvokeFunction"), Principal: ptr("*")},
			lambdaerr.TypeValidation, "1 validation error detected: Value null at 'statementId' failed to satisfy constraint: Member must not be null"},
		{"a statement id with a dot", req("a.b", "lambda:InvokeFunction", "*"),
			lambdaerr.TypeValidation, "1 validation error detected: Value 'a.b' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)"},
		{"an empty statement id", req("", "lambda:InvokeFunction", "*"),
			lambdaerr.TypeValidation, "1 validation error detected: Value '' at 'statementId' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"a statement id of 101 characters", req(strings.Repeat("a", 101), "lambda:InvokeFunction", "*"),
			lambdaerr.TypeValidation, "failed to satisfy constraint: Member must have length less than or equal to 100"},
		{"an action of another service", req("s", "s3:GetObject", "*"),
			lambdaerr.TypeValidation, "1 validation error detected: Value 's3:GetObject' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])"},
		{"two bad members", req("a b", "invoke", "*"),
			lambdaerr.TypeValidation, "2 validation errors detected: Value 'a b' at 'statementId'"},
		{"a principal with a space", req("s", "lambda:InvokeFunction", "a b"),
			lambdaerr.TypeValidation, "Value 'a b' at 'principal' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+"},
		{"a principal that is no account, ARN or service", req("s", "lambda:InvokeFunction", "alice"),
			lambdaerr.TypeInvalidParameterValue, "The provided principal was invalid. Please check the principal and try again."},
		{"an IAM ARN the policy language refuses", req("s", "lambda:InvokeFunction", "arn:aws:iam::12:user/x"),
			lambdaerr.TypeInvalidParameterValue, "The provided principal was invalid. Please check the principal and try again."},
		{"a source account of eleven digits", func() *AddPermissionRequest {
			r := req("s", "lambda:InvokeFunction", "s3.amazonaws.com")
			r.SourceAccount = "12345678901"
			return r
		}(), lambdaerr.TypeValidation, "at 'sourceAccount' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{12}"},
		{"a source ARN that is no ARN", func() *AddPermissionRequest {
			r := req("s", "lambda:InvokeFunction", "s3.amazonaws.com")
			r.SourceArn = "bucket"
			return r
		}(), lambdaerr.TypeValidation, "Value 'bucket' at 'sourceArn'"},
		{"an unknown function URL auth type", func() *AddPermissionRequest {
			r := req("s", "lambda:InvokeFunctionUrl", "*")
			r.FunctionUrlAuthType = "OPEN"
			return r
		}(), lambdaerr.TypeValidation, "Member must satisfy enum value set: [NONE, AWS_IAM]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := buildStatement(tc.req, fnARN)
			le, ok := lambdaerr.As(err)
			if !ok {
				t.Fatalf("err = %v, want a %s", err, tc.typ)
			}
			if le.Type != tc.typ || !strings.Contains(le.Message, tc.message) {
				t.Fatalf("err = %s %q, want %s containing %q", le.Type, le.Message, tc.typ, tc.message)
			}
		})
	}
}

func TestCheckDocumentRefusesAPolicyPastTheQuota(t *testing.T) {
	var statements []json.RawMessage
	for i := 0; ; i++ {
		_, raw, err := buildStatement(req("s"+strings.Repeat("x", 90)+string(rune('a'+i%26))+string(rune('a'+i/26)), "lambda:InvokeFunction", "123456789012"), fnARN)
		if err != nil {
			t.Fatal(err)
		}
		statements = append(statements, raw)
		if err := checkDocument(statements); err != nil {
			if !lambdaerr.IsType(err, lambdaerr.TypePolicyLengthExceeded) || !strings.Contains(err.Error(), "is bigger than the limit (20480).") {
				t.Fatalf("err = %v, want PolicyLengthExceededException", err)
			}
			return
		}
		if i > 1000 {
			t.Fatal("no quota reached")
		}
	}
}

func TestValidateStatementIDAllowsDotsOnRemove(t *testing.T) {
	if err := validateStatementID("a.b-c_d"); err != nil {
		t.Fatal(err)
	}
	if err := validateStatementID("a/b"); !lambdaerr.IsType(err, lambdaerr.TypeValidation) {
		t.Fatalf("err = %v, want ValidationException", err)
	}
}
