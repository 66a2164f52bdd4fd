package managed_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/iam/managed"
	"github.com/updraft/updraft/internal/iam/policy"
)

func TestEveryDocumentParses(t *testing.T) {
	for _, p := range managed.All() {
		t.Run(p.Name, func(t *testing.T) {
			doc, err := policy.Parse(policy.Identity, p.Document)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if err := doc.RequireVersion2012(); err != nil {
				t.Errorf("version: %v", err)
			}
			if err := policy.ManagedPolicySize.Check(policy.Size(p.Document)); err != nil && p.Name != "ReadOnlyAccess" {
				// AWS's own documents may exceed the customer quota, but
				// the trimmed ones here should not.
				t.Errorf("size: %v", err)
			}
		})
	}
}

func TestCatalogue(t *testing.T) {
	all := managed.All()
	if len(all) != 23 {
		t.Errorf("%d policies, want 23", len(all))
	}
	if !slices.IsSortedFunc(all, func(a, b managed.Policy) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("catalogue is not sorted by name")
	}
	for _, p := range all {
		if p.ARN != "arn:aws:iam::aws:policy"+p.Path+p.Name || !managed.IsAWSManagedARN(p.ARN) {
			t.Errorf("%s: ARN %s", p.Name, p.ARN)
		}
		if got, ok := managed.ByARN(p.ARN); !ok || got.Name != p.Name {
			t.Errorf("ByARN(%s) = %v, %v", p.ARN, got.Name, ok)
		}
		if got, ok := managed.ByName(p.Name); !ok || got.ARN != p.ARN {
			t.Errorf("ByName(%s) = %v, %v", p.Name, got.ARN, ok)
		}
		if !strings.HasPrefix(p.DefaultVersionID, "v") {
			t.Errorf("%s: version %q", p.Name, p.DefaultVersionID)
		}
	}
	// AWSLambdaInvocation-DynamoDB is at the root path, unlike the
	// *ExecutionRole policies.
	if _, ok := managed.ByARN("arn:aws:iam::aws:policy/AWSLambdaInvocation-DynamoDB"); !ok {
		t.Error("AWSLambdaInvocation-DynamoDB not found at arn:aws:iam::aws:policy/AWSLambdaInvocation-DynamoDB")
	}
	if _, ok := managed.ByName("NoSuchPolicy"); ok {
		t.Error("ByName found a policy that does not exist")
	}
	all[0].Name = "changed"
	if managed.All()[0].Name == "changed" {
		t.Error("All returns the catalogue itself")
	}
}

// TestGrants checks a few well-known consequences of the documents.
func TestGrants(t *testing.T) {
	alice := policy.Principal{ARN: "arn:aws:iam::123456789012:user/alice", Account: "123456789012", Type: policy.PrincipalUser}
	tests := []struct {
		policy, action, resource string
		want                     policy.Decision
	}{
		{"AWSLambdaBasicExecutionRole", "logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f:log-stream:x", policy.Allow},
		{"AWSLambdaBasicExecutionRole", "sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:123456789012:q", policy.ImplicitDeny},
		{"AWSLambdaSQSQueueExecutionRole", "sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:123456789012:q", policy.Allow},
		{"PowerUserAccess", "lambda:CreateFunction", "arn:aws:lambda:us-east-1:123456789012:function:f", policy.Allow},
		{"PowerUserAccess", "iam:CreateUser", "arn:aws:iam::123456789012:user/bob", policy.ImplicitDeny},
		{"AWSLambda_ReadOnlyAccess", "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:f", policy.ImplicitDeny},
		{"AWSLambda_ReadOnlyAccess", "lambda:GetFunction", "arn:aws:lambda:us-east-1:123456789012:function:f", policy.Allow},
		{"ReadOnlyAccess", "dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/t", policy.ImplicitDeny},
		{"AdministratorAccess", "states:StartExecution", "arn:aws:states:us-east-1:123456789012:stateMachine:m", policy.Allow},
		{"AWSStepFunctionsFullAccess", "iam:PassRole", "arn:aws:iam::123456789012:role/service-role/StepFunctionsRole", policy.ImplicitDeny},
		{"AmazonDynamoDBReadOnlyAccess", "kinesis:DescribeStream", "arn:aws:kinesis:us-east-1:123456789012:stream/s", policy.Allow},
		{"AmazonDynamoDBReadOnlyAccess", "dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/t", policy.ImplicitDeny},
	}
	for _, tc := range tests {
		mp, ok := managed.ByName(tc.policy)
		if !ok {
			t.Fatalf("no %s", tc.policy)
		}
		p, err := policy.Parse(policy.Identity, mp.Document)
		if err != nil {
			t.Fatal(err)
		}
		req := &policy.Request{Principal: alice, Action: tc.action, Resource: tc.resource}
		if got := policy.Evaluate(req, []*policy.Policy{p}, nil); got != tc.want {
			t.Errorf("%s %s: %v, want %v", tc.policy, tc.action, got, tc.want)
		}
	}
}
