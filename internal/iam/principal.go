package iam

import "context"

// PrincipalType says what kind of identity made a request.
type PrincipalType string

// Principal types.
const (
	// PrincipalRoot is the account root: the server's configured key.
	PrincipalRoot PrincipalType = "root"
	// PrincipalUser is an IAM user signing with one of its access keys.
	PrincipalUser PrincipalType = "user"
	// PrincipalAssumedRole is a role session (temporary credentials).
	PrincipalAssumedRole PrincipalType = "assumed-role"
)

// Principal is the identity behind a request, as GetCallerIdentity shows
// it and as policies name it.
type Principal struct {
	// Type is root, user or assumed-role.
	Type PrincipalType
	// ARN is arn:aws:iam::ACCOUNT:root, arn:aws:iam::ACCOUNT:user/PATH/NAME
	// or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION.
	ARN string
	// Account is the 12-digit account id.
	Account string
	// UserID is the account id (root), the user's AIDA… id, or
	// "AROA…:SESSION" for a role session.
	UserID string
	// Name is the user name, the role name of a session, or "root".
	Name string
	// RoleARN is the role's ARN (assumed-role only).
	RoleARN string
	// SessionName is the role session name (assumed-role only).
	SessionName string
	// AccessKeyID is the key the request was signed with, when known.
	AccessKeyID string
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p, the caller of the request.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller carried by ctx, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// RootPrincipal is the account root of account.
func RootPrincipal(account string) Principal {
	return Principal{Type: PrincipalRoot, ARN: "arn:aws:iam::" + account + ":root", Account: account, UserID: account, Name: "root"}
}
