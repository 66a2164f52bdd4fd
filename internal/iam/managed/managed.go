// Package managed is the catalogue of AWS managed policies that updraft
// provides as built-ins: the policies people attach to Lambda execution
// roles and to the users who manage functions, queues, streams, tables
// and state machines. Each has AWS's name, ARN (arn:aws:iam::aws:policy/
// followed by its path and name), path, default version id and document,
// as published in the AWS Managed Policy Reference
// (docs.aws.amazon.com/aws-managed-policy/latest/reference/NAME.html).
//
// The catalogue is data: it does not parse the documents (package policy
// does, and a test checks that every document parses as an
// identity-based policy) and it never changes at run time.
package managed

import "strings"

// Policy is one AWS managed policy.
type Policy struct {
	// Name is the policy name, e.g. "AWSLambdaBasicExecutionRole".
	Name string
	// Path is "/" or "/service-role/".
	Path string
	// ARN is "arn:aws:iam::aws:policy" + Path + Name.
	ARN string
	// DefaultVersionID is the version AWS marks as default, e.g. "v1".
	DefaultVersionID string
	// Description is AWS's description of the policy.
	Description string
	// Document is the JSON policy document of the default version.
	Document string
}

// All returns every built-in policy, sorted by name. The slice is a copy.
func All() []Policy {
	out := make([]Policy, len(catalogue))
	copy(out, catalogue)
	return out
}

// ByARN finds a policy by ARN (arn:aws:iam::aws:policy/service-role/AWSLambdaRole).
func ByARN(arn string) (Policy, bool) {
	for _, p := range catalogue {
		if p.ARN == arn {
			return p, true
		}
	}
	return Policy{}, false
}

// ByName finds a policy by name ("AWSLambdaRole"); names are unique among
// AWS managed policies.
func ByName(name string) (Policy, bool) {
	for _, p := range catalogue {
		if p.Name == name {
			return p, true
		}
	}
	return Policy{}, false
}

// IsAWSManagedARN reports whether arn names an AWS managed policy (account
// "aws"), whether or not this catalogue holds it.
func IsAWSManagedARN(arn string) bool {
	return strings.HasPrefix(arn, "arn:aws:iam::aws:policy/")
}

func mk(name, path, version, desc, doc string) Policy {
	return Policy{Name: name, Path: path, ARN: "arn:aws:iam::aws:policy" + path + name,
		DefaultVersionID: version, Description: desc, Document: doc}
}
