package policy

import "testing"

// typicalPolicy is a three-statement identity-based policy of the kind
// attached to a developer: Lambda on their functions, read-only logs, and
// a deny outside the office network.
const typicalPolicy = `{"Version":"2012-10-17","Statement":[
 {"Sid":"Functions","Effect":"Allow","Action":["lambda:InvokeFunction","lambda:Get*","lambda:List*"],"Resource":"arn:aws:lambda:*:123456789012:function:team-*"},
 {"Sid":"Logs","Effect":"Allow","Action":["logs:Describe*","logs:Get*","logs:FilterLogEvents"],"Resource":"arn:aws:logs:*:123456789012:log-group:/aws/lambda/team-*"},
 {"Sid":"Office","Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:db8::/32"]},"Bool":{"aws:ViaAWSService":"false"}}}]}`

func BenchmarkEvaluate(b *testing.B) {
	p := mustParse(b, Identity, typicalPolicy)
	req := &Request{
		Principal: alice,
		Action:    "lambda:InvokeFunction",
		Resource:  "arn:aws:lambda:us-east-1:123456789012:function:team-orders:PROD",
		Context: map[string][]string{
			"aws:SourceIp":        {"192.0.2.44"},
			"aws:ViaAWSService":   {"false"},
			"aws:SecureTransport": {"true"},
			"aws:CurrentTime":     {"2025-01-01T00:00:00Z"},
		},
	}
	ids := []*Policy{p}
	if d := Evaluate(req, ids, nil); d != Allow {
		b.Fatalf("Evaluate = %v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(req, ids, nil)
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(Identity, typicalPolicy); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEvaluateDoesNotAllocate(t *testing.T) {
	p := mustParse(t, Identity, typicalPolicy)
	req := &Request{Principal: alice, Action: "lambda:GetFunction",
		Resource: "arn:aws:lambda:us-east-1:123456789012:function:team-a",
		Context:  map[string][]string{"aws:sourceip": {"2001:db8::1"}, "aws:ViaAWSService": {"false"}}}
	ids := []*Policy{p}
	if n := testing.AllocsPerRun(100, func() { Evaluate(req, ids, nil) }); n != 0 {
		t.Errorf("Evaluate allocates %v times", n)
	}
}
