package policy

import "fmt"

// Quota is a size limit on a policy document ("IAM and AWS STS quotas",
// IAM object character limits). "IAM doesn't count white space when
// calculating the size of a policy against these quotas."
type Quota struct {
	// Name is IAM's name for the quota, as it appears in LimitExceeded
	// messages.
	Name string
	// Max is the largest allowed [Size], in characters.
	Max int
}

// The policy size quotas.
var (
	// UserPolicySize caps the aggregate inline policies of a user.
	UserPolicySize = Quota{Name: "UserPolicySize", Max: 2048}
	// RolePolicySize caps the aggregate inline policies of a role.
	RolePolicySize = Quota{Name: "RolePolicySize", Max: 10240}
	// GroupPolicySize caps the aggregate inline policies of a group.
	GroupPolicySize = Quota{Name: "GroupPolicySize", Max: 5120}
	// ManagedPolicySize caps one customer managed policy version.
	ManagedPolicySize = Quota{Name: "PolicySize", Max: 6144}
	// TrustPolicySize caps a role's trust policy (the default quota; AWS
	// can raise it to 4,096).
	TrustPolicySize = Quota{Name: "ACLSizePerRole", Max: 2048}
)

// LimitExceededError is a document over its [Quota]; IAM returns it as
// error code LimitExceeded (HTTP 409).
type LimitExceededError struct {
	Message string
}

func (e *LimitExceededError) Error() string { return "LimitExceeded: " + e.Message }

// Size is the length of doc as IAM counts it against quotas: characters
// other than white space.
func Size(doc string) int {
	n := 0
	for _, r := range doc {
		switch r {
		case ' ', '\t', '\n', '\r':
		default:
			n++
		}
	}
	return n
}

// Check returns a *[LimitExceededError] when size, a [Size] (or a sum of
// them for aggregate quotas), is over the quota, worded as IAM does:
// "Cannot exceed quota for PolicySize: 6144".
func (q Quota) Check(size int) error {
	if size > q.Max {
		return &LimitExceededError{Message: fmt.Sprintf("Cannot exceed quota for %s: %d", q.Name, q.Max)}
	}
	return nil
}
