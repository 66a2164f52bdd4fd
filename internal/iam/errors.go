package iam

import (
	"net/http"

	"github.com/updraft/updraft/internal/awsquery"
)

// IAM's client-visible errors ("Common Errors" and each action's Errors
// in the IAM API Reference), with the status codes IAM answers them
// with. Every one is an *awsquery.Error.

func errNoSuchEntity(format string, args ...any) error {
	return awsquery.Errorf(http.StatusNotFound, "NoSuchEntity", format, args...)
}

func errAlreadyExists(format string, args ...any) error {
	return awsquery.Errorf(http.StatusConflict, "EntityAlreadyExists", format, args...)
}

func errDeleteConflict(format string, args ...any) error {
	return awsquery.Errorf(http.StatusConflict, "DeleteConflict", format, args...)
}

func errLimitExceeded(format string, args ...any) error {
	return awsquery.Errorf(http.StatusConflict, "LimitExceeded", format, args...)
}

func errInvalidInput(format string, args ...any) error {
	return awsquery.Errorf(http.StatusBadRequest, "InvalidInput", format, args...)
}

// errMalformedText is MalformedPolicyDocument with a fixed message.
func errMalformedText(msg string) error {
	return &awsquery.Error{Status: http.StatusBadRequest, Code: "MalformedPolicyDocument", Message: msg}
}

func errConcurrent() error {
	return awsquery.Errorf(http.StatusConflict, "ConcurrentModification",
		"Cannot perform the operation because another update to the entity is in progress. Try again later.")
}

func errUserNotFound(name string) error {
	return errNoSuchEntity("The user with name %s cannot be found.", name)
}

func errRoleNotFound(name string) error {
	return errNoSuchEntity("The role with name %s cannot be found.", name)
}

func errPolicyNotFound(arn string) error {
	return errNoSuchEntity("Policy %s was not found.", arn)
}

// validateDoc runs the validator; its message becomes the
// MalformedPolicyDocument message.
func (s *Store) validateDoc(kind PolicyKind, doc string) error {
	if len(doc) == 0 || len(doc) > maxPolicyChars(kind) {
		return awsquery.Validation("Value at '%s' failed to satisfy constraint: Member must have length between 1 and %d",
			map[PolicyKind]string{PolicyIdentity: "policyDocument", PolicyTrust: "assumeRolePolicyDocument"}[kind], maxPolicyChars(kind))
	}
	if err := s.deps.Validate(kind, doc); err != nil {
		if e, ok := awsquery.As(err); ok {
			return e
		}
		return errMalformedText(err.Error())
	}
	return nil
}

func maxPolicyChars(PolicyKind) int { return 131072 }
