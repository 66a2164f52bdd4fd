// Package iam owns updraft's identities: IAM users and their access
// keys, roles, inline policies of users and roles, customer managed
// policies with their versions, attachments of managed policies (AWS
// managed ones included), and the temporary credentials STS hands out.
// It serves IAM's query API ([NewHandler]) and answers the questions the
// authenticator and the authoriser ask on every request:
// [Store.LookupAccessKey], [Store.LookupSession], [Store.PoliciesOf] and
// [Store.Role].
//
// # Storage
//
// Everything lives in the JetStream KV bucket updraft-iam, one key per
// record, names lower-cased (IAM names are unique regardless of case)
// and escaped into key tokens (see keyToken):
//
//	user.<name>         a user, its access keys, inline policies and attachments
//	role.<name>         a role, its trust policy, inline policies and attachments
//	policy.<name>       a customer managed policy and its versions (v1…v5)
//	signing-key         the STS signing key (created once, shared by every node)
//	revoked.key.<akid>  a revoked session access key (per-key TTL)
//	revoked.tag.<tag>   every session issued with a revoked tag (per-key TTL)
//
// A user's keys live in its record, so "at most two keys" and "no delete
// while keys exist" are one compare-and-set. Attachments live in the
// user's or role's record; a customer policy's AttachmentCount is counted
// from them. Deleting a policy and attaching it race across two keys: an
// attachment to a policy deleted at the same moment is possible and
// harmless (PoliciesOf skips policies that do not exist).
//
// The account root is not stored: it is the server's configured key
// ([Config].RootAccessKeyID), which has every permission.
//
// # Writes and reads
//
// As in internal/registry: every write is a compare-and-set on the key's
// revision (creates use KV Create), retried a bounded number of times
// when another writer got there first. Each node keeps an in-memory view
// of the bucket built at New from a watcher's initial values, kept
// current by that watcher (changes from any node) and updated directly
// by this node's own writes (read-your-writes); each key's last applied
// revision keeps the two paths from undoing each other. Reads never
// touch JetStream. Every applied change bumps [Store.Generation] and
// calls the [Store.Subscribe] callbacks, so callers that cache compiled
// policies know when to drop them.
//
// # Sessions
//
// Temporary credentials are stateless: the session token is an
// HMAC-SHA256-authenticated payload (access key id, role, session name,
// expiry, an opaque tag) and the secret key is an HMAC of the same
// payload, both under keys derived from the bucket's signing-key, so any
// node verifies any node's credentials without a lookup. Revocation is a
// record with a TTL past the longest session (12 hours) that every
// node's watcher loads into memory.
//
// # Locks
//
// mu guards the view, subMu the subscriber list; they are never held
// together and subscribers are called with neither held.
package iam
