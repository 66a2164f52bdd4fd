package iam

import (
	"crypto/sha256"
	"time"

	"github.com/updraft/updraft/internal/awsquery"
)

// Tag is a key/value tag of a user, role or policy.
type Tag = awsquery.Tag

// User is an IAM user.
type User struct {
	UserName string
	// UserID is "AIDA" and 17 upper-case letters and digits.
	UserID string
	// ARN is arn:aws:iam::ACCOUNT:user/PATH/NAME (PATH "/" gives user/NAME).
	ARN        string
	Path       string
	CreateDate time.Time
	Tags       []Tag
}

// AccessKeyStatus is Active or Inactive.
type AccessKeyStatus string

// Access key statuses.
const (
	KeyActive   AccessKeyStatus = "Active"
	KeyInactive AccessKeyStatus = "Inactive"
)

// AccessKey is a user's long-term key. SecretAccessKey is only filled by
// CreateAccessKey: IAM shows a secret once.
type AccessKey struct {
	UserName string
	// AccessKeyID is "AKIA" and 16 upper-case letters and digits.
	AccessKeyID     string
	SecretAccessKey string
	Status          AccessKeyStatus
	CreateDate      time.Time
}

// Role is an IAM role. Values handed out share Tags with the store:
// callers must not modify them.
type Role struct {
	RoleName string
	// RoleID is "AROA" and 17 upper-case letters and digits.
	RoleID string
	// ARN is arn:aws:iam::ACCOUNT:role/PATH/NAME.
	ARN  string
	Path string
	// AssumeRolePolicyDocument is the trust policy (JSON, not encoded).
	AssumeRolePolicyDocument string
	Description              string
	// MaxSessionDuration is the longest session, 3600 to 43200 seconds.
	MaxSessionDuration int
	CreateDate         time.Time
	Tags               []Tag
}

// ManagedPolicy is a customer managed policy or an AWS managed one.
type ManagedPolicy struct {
	PolicyName string
	// PolicyID is "ANPA" and 17 upper-case letters and digits.
	PolicyID string
	// ARN is arn:aws:iam::ACCOUNT:policy/PATH/NAME, or
	// arn:aws:iam::aws:policy/PATH/NAME for an AWS managed policy.
	ARN              string
	Path             string
	Description      string
	DefaultVersionID string
	// AttachmentCount counts the users and roles it is attached to.
	AttachmentCount int
	CreateDate      time.Time
	UpdateDate      time.Time
	Tags            []Tag
	// AWSManaged is true for AWS managed policies (read-only).
	AWSManaged bool
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	// Document is the policy JSON (not URL-encoded).
	Document         string
	VersionID        string
	IsDefaultVersion bool
	CreateDate       time.Time
}

// AttachedPolicy names a managed policy attached to a user or role.
type AttachedPolicy struct {
	PolicyName string
	PolicyARN  string
}

// PolicyKind says which grammar a policy document must follow.
type PolicyKind int

// Policy kinds.
const (
	// PolicyIdentity is an identity-based policy (inline or managed).
	PolicyIdentity PolicyKind = iota
	// PolicyTrust is a role's trust policy (AssumeRolePolicyDocument).
	PolicyTrust
)

// String returns "identity" or "trust".
func (k PolicyKind) String() string {
	if k == PolicyTrust {
		return "trust"
	}
	return "identity"
}

// Validator checks a policy document before it is stored; its error's
// message becomes the MalformedPolicyDocument message the client sees
// (e.g. "Syntax errors in policy."), so it must be written for clients.
type Validator func(kind PolicyKind, doc string) error

// AWSPolicy is one AWS managed policy of the catalogue.
type AWSPolicy struct {
	// ARN is arn:aws:iam::aws:policy/PATH/NAME.
	ARN, Name, Path, PolicyID, Description string
	// Document is the default version's JSON; VersionID its id ("v3").
	Document, VersionID    string
	CreateDate, UpdateDate time.Time
}

// AWSPolicies is the catalogue of AWS managed policies
// (internal/iam/managed behind an adapter). Both methods must be safe for
// concurrent use and return values the caller may keep.
type AWSPolicies interface {
	// Policy returns the AWS managed policy with this ARN.
	Policy(arn string) (AWSPolicy, bool)
	// Policies lists the catalogue sorted by ARN.
	Policies() []AWSPolicy
}

// PolicySource says where a document of [Store.PoliciesOf] comes from.
type PolicySource int

// Policy sources.
const (
	// SourceInline is an inline policy of the user or role.
	SourceInline PolicySource = iota
	// SourceManaged is a customer managed policy's default version.
	SourceManaged
	// SourceAWSManaged is an AWS managed policy.
	SourceAWSManaged
)

// PolicyDoc is one identity policy that applies to a principal.
type PolicyDoc struct {
	Source PolicySource
	// Name is the inline policy's name or the managed policy's name.
	Name string
	// ARN is the managed policy's ARN ("" for an inline policy).
	ARN string
	// Document is the policy JSON.
	Document string
	// Digest is the SHA-256 of Document: equal digests are the same
	// document on every node, so callers key compiled forms by it.
	Digest [sha256.Size]byte
}
