package policy

import "testing"

func FuzzParse(f *testing.F) {
	f.Add(typicalPolicy)
	f.Add(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:role/R"]},"Action":"sts:AssumeRole"}}`)
	f.Add(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:s3:::b/${aws:username}/*","Condition":{"ForAllValues:StringLikeIfExists":{"aws:TagKeys":["a*"]},"DateLessThan":{"aws:CurrentTime":"2020-01-01"},"Null":{"x:y":"true"}}}}`)
	f.Add(`{"Statement":[{"Effect":"Deny","Action":["*"],"Resource":"*","Condition":{"NumericGreaterThan":{"s3:max-keys":5},"BinaryEquals":{"a:b":"AA=="}}}]}`)
	reqs := []*Request{
		{Principal: alice, Action: "lambda:InvokeFunction", Resource: "arn:aws:lambda:us-east-1:123456789012:function:f",
			Context: ctx("aws:SourceIp", "192.0.2.1", "aws:CurrentTime", "2019-01-01T00:00:00Z", "aws:TagKeys", "abc", "s3:max-keys", "7", "a:b", "AA==")},
		{Principal: devSession, Action: "sts:AssumeRole", Resource: "*"},
		{Principal: snsSvc, Action: "", Resource: ""},
		{},
	}
	f.Fuzz(func(t *testing.T, doc string) {
		for _, kind := range []Kind{Identity, Resource, Trust} {
			p, err := Parse(kind, doc)
			if err != nil {
				if _, ok := err.(*MalformedError); !ok {
					t.Fatalf("Parse error %T %v is not a MalformedError", err, err)
				}
				continue
			}
			for _, r := range reqs {
				Evaluate(r, []*Policy{p}, []*Policy{p})
				p.Evaluate(r)
				p.MatchesPrincipal(r.Principal)
			}
		}
	})
}
