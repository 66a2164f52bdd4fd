// Package fnpolicy keeps the resource-based policies of functions, as
// Lambda's AddPermission, RemovePermission and GetPolicy manage them:
// who else (an account, an IAM identity, a service such as
// s3.amazonaws.com) may call a function, version or alias.
//
// # Policies
//
// A function has one policy of its own, which applies to the
// unqualified ARN and to $LATEST, and each version and alias may have
// one more. AddPermission turns its request into one statement the way
// Lambda writes it — Sid, Effect Allow, Principal ({"AWS": root ARN}
// for an account id, {"AWS": ARN} for an IAM or STS ARN, {"Service": …}
// for a service, or "*"), Action, Resource (the function's ARN, with
// the qualifier when there is one) and a Condition from SourceArn
// (ArnLike AWS:SourceArn), SourceAccount (StringEquals
// AWS:SourceAccount), PrincipalOrgID, EventSourceToken and
// FunctionUrlAuthType — and checks the resulting document with the IAM
// policy language (internal/iam/policy, as a resource policy) and
// against Lambda's 20 KB quota before storing it. GetPolicy answers the
// document {"Version":"2012-10-17","Id":"default","Statement":[…]} as
// a string. Every change gives the policy a new RevisionId, which
// AddPermission and RemovePermission may be asked to match (412
// otherwise). Lambda shares that RevisionId with the function's or
// alias's configuration; here a policy has its own.
//
// # Storage and reads
//
// Policies live in the KV bucket updraft-fnpolicy, one key per policy:
// p.<function> and p.<function>.<qualifier>, each holding the
// statements and the RevisionId. Writes are compare-and-set on the key's
// revision, retried when another writer got there first. The Service
// keeps an in-memory view of the bucket, loaded by New and kept current
// by a watcher (changes from every node) and by applying each of its own
// writes at once (read-your-writes); per key the highest KV revision
// wins. [Service.PolicyFor] — for request authorisation — reads only
// that view, and [Service.Generation] changes with every applied change
// so a cache of compiled policies knows when to recompile.
//
// A function's policies go with it: the API calls [Service.Forget]
// after DeleteFunction (all of them, or one version's) and DeleteAlias.
//
// # Locks
//
// mu guards the view and is never held while calling out.
package fnpolicy
