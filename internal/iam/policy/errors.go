package policy

import (
	"errors"
	"fmt"
)

// MalformedError is a policy document IAM would reject with the error
// code MalformedPolicyDocument (HTTP 400). Message is IAM's own text, to
// be returned to the client as is.
type MalformedError struct {
	Message string
}

func (e *MalformedError) Error() string { return "MalformedPolicyDocument: " + e.Message }

// The messages of MalformedPolicyDocument, as IAM words them (taken from
// the responses of IAM's CreatePolicy/PutUserPolicy/CreateRole that
// botocore-based emulators such as moto replay; note that IAM answers
// "Syntax errors in policy." for an unknown element, a missing Effect or a
// value of the wrong JSON type rather than naming the field).
const (
	MsgSyntax              = "Syntax errors in policy."
	MsgLegacy              = "The policy failed legacy parsing"
	MsgVersion             = "Policy document must be version 2012-10-17 or greater."
	MsgSidUnique           = "Statement IDs (SID) in a single policy must be unique."
	MsgNoActions           = "Policy statement must contain actions."
	MsgNoResources         = "Policy statement must contain resources."
	MsgVendor              = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	MsgOneColon            = "Actions/Condition can contain only one colon."
	MsgPrincipalNotAllowed = "Policy document should not specify a principal."
	MsgResourceVendor      = "Resource vendor must be fully qualified and cannot contain regexes."
	// MsgNoPrincipal is IAM's answer to a trust policy statement without
	// Principal (CreateRole, UpdateAssumeRolePolicy).
	MsgNoPrincipal = "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!"
	// MsgMissingPrincipal is the answer of services with resource policies
	// (S3 PutBucketPolicy, SQS SetQueueAttributes) to a statement without
	// Principal.
	MsgMissingPrincipal = "Missing required field Principal"
	// MsgTrustResource is IAM's answer to a trust policy naming resources.
	MsgTrustResource = "Has prohibited field Resource."
	// MsgTrustActions is IAM's answer to a trust policy whose actions are
	// not role-assumption actions (the double space is IAM's).
	MsgTrustActions = "Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity"
)

func malformed(msg string) error { return &MalformedError{Message: msg} }

func malformedf(format string, args ...any) error {
	return &MalformedError{Message: fmt.Sprintf(format, args...)}
}

// errLegacy is the internal signal of a value IAM's legacy parser refuses.
var errLegacy = errors.New("legacy parsing")
