// Package policy is the IAM policy language: it parses, validates and
// evaluates policy documents as AWS documents them in the IAM User Guide
// ("IAM JSON policy elements reference", "IAM JSON policy elements:
// Condition operators", "Policy evaluation logic", "Amazon Resource Names
// (ARNs)").
//
// [Parse] takes a document and the [Kind] of place it is attached to
// (a user, group or role: [Identity]; a resource such as a function:
// [Resource]; a role's assume-role policy: [Trust]) and either returns a
// compiled, immutable [Policy] or a *[MalformedError] whose Message is the
// text IAM returns with MalformedPolicyDocument. Size quotas are separate
// ([Quota], [Size]) because IAM applies them per API (a user's inline
// policies together, a managed policy alone).
//
// Compilation does the work once: actions are lower-cased wildcard
// patterns, resource ARNs are split into their colon-separated segments,
// condition values are parsed into numbers, times, CIDR prefixes and
// patterns with their policy variables located. [Evaluate] then decides a
// [Request] without allocating: explicit deny in any policy wins; else an
// allow in any identity-based policy, or in any resource-based policy
// whose Principal covers the caller, allows; else the request is
// implicitly denied. [EvaluateExplained] also says which policy type
// decided, and [AccessDeniedMessage] words AWS's AccessDenied message
// from it.
//
// The package is pure: the standard library only, no I/O, no state. The
// IAM and STS API, the store of users, roles and policies, and request
// authorisation are built on it elsewhere; the AWS managed policies are
// in package managed.
//
// Not modelled: permissions boundaries, session policies, SCPs and RCPs
// (callers may evaluate them as further identity-based sets and combine
// decisions), NotPrincipal's special treatment of session principals, and
// the service-specific resource formats beyond IAM's and S3's.
package policy
