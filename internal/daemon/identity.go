package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/updraft/updraft/internal/authz"
	"github.com/updraft/updraft/internal/fnpolicy"
	"github.com/updraft/updraft/internal/iam"
	"github.com/updraft/updraft/internal/iam/managed"
	"github.com/updraft/updraft/internal/iam/policy"
	"github.com/updraft/updraft/internal/pool"
	"github.com/updraft/updraft/internal/registry"
)

// managedCatalogue serves internal/iam/managed to the identity store.
type managedCatalogue struct{}

func (managedCatalogue) Policy(arn string) (iam.AWSPolicy, bool) {
	p, ok := managed.ByARN(arn)
	if !ok {
		return iam.AWSPolicy{}, false
	}
	return awsPolicy(p), true
}

func (managedCatalogue) Policies() []iam.AWSPolicy {
	all := managed.All()
	out := make([]iam.AWSPolicy, 0, len(all))
	for _, p := range all {
		out = append(out, awsPolicy(p))
	}
	slices.SortFunc(out, func(a, b iam.AWSPolicy) int { return strings.Compare(a.ARN, b.ARN) })
	return out
}

// awsPolicy gives a managed policy the fields IAM answers with; its id is
// derived from the ARN so that every node names it alike.
func awsPolicy(p managed.Policy) iam.AWSPolicy {
	sum := sha256.Sum256([]byte(p.ARN))
	id := "ANPA" + strings.ToUpper(hex.EncodeToString(sum[:]))[:17]
	created := time.Date(2015, 2, 6, 18, 39, 46, 0, time.UTC)
	return iam.AWSPolicy{ARN: p.ARN, Name: p.Name, Path: p.Path, PolicyID: id, Description: p.Description,
		Document: p.Document, VersionID: p.DefaultVersionID, CreateDate: created, UpdateDate: created}
}

// validatePolicy checks a policy document written through IAM with the
// policy language's parser; its message is IAM's MalformedPolicyDocument
// text.
func validatePolicy(kind iam.PolicyKind, doc string) error {
	k := policy.Identity
	if kind == iam.PolicyTrust {
		k = policy.Trust
	}
	p, err := policy.Parse(k, doc)
	if err != nil {
		return err
	}
	if kind == iam.PolicyIdentity {
		return p.RequireVersion2012()
	}
	return nil
}

// keyLookup finds the keys the identity store knows: users' access keys,
// and session credentials (which come with their token).
func keyLookup(ids *iam.Store) func(akid, token string) (string, any, bool) {
	return func(akid, token string) (string, any, bool) {
		if token != "" || strings.HasPrefix(akid, "ASIA") {
			secret, p, err := ids.LookupSession(akid, token)
			if err != nil {
				return "", nil, false
			}
			return secret, p, true
		}
		secret, p, ok := ids.LookupAccessKey(akid)
		return secret, p, ok
	}
}

// functionPolicies gives the authoriser a function's resource-based
// policy by the function ARN a request acts on.
func functionPolicies(fp *fnpolicy.Service) authz.ResourcePolicies {
	return func(resource string) (string, [32]byte, bool) {
		rest, ok := strings.CutPrefix(resource, "arn:aws:lambda:")
		if !ok {
			return "", [32]byte{}, false
		}
		_, after, ok := strings.Cut(rest, ":function:")
		if !ok {
			return "", [32]byte{}, false
		}
		name, qualifier, _ := strings.Cut(after, ":")
		return fp.PolicyFor(name, qualifier)
	}
}

// environmentSessionTTL is how long an environment's credentials last:
// Lambda's longest role session. The pool retires an environment before
// they expire.
const environmentSessionTTL = 12 * time.Hour

// environmentCredentials issues an environment's credentials: a session of
// its function's role named after the function, as Lambda names it
// (arn:aws:sts::ACCOUNT:assumed-role/ROLE/FUNCTION), tagged with the
// environment id for revocation. A role not defined here still gets a
// session; what it may do is --unknown-roles' choice.
func environmentCredentials(ids *iam.Store) func(v *registry.Version, envID string) (pool.Credentials, error) {
	return func(v *registry.Version, envID string) (pool.Credentials, error) {
		role, ok := ids.Role(v.Role)
		if !ok {
			role = undefinedRole(v.Role)
		}
		// Lambda's sessions outlast a role's MaxSessionDuration.
		role.MaxSessionDuration = int(environmentSessionTTL / time.Second)
		c, err := ids.IssueSession(role, sessionName(v.FunctionName), environmentSessionTTL, iam.WithTag(envID))
		if err != nil {
			return pool.Credentials{}, err
		}
		return pool.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
			SessionToken: c.SessionToken, Expiration: c.Expiration}, nil
	}
}

// undefinedRole stands for a role ARN that names no role defined here.
func undefinedRole(arn string) iam.Role {
	name := arn[strings.LastIndexByte(arn, '/')+1:]
	sum := sha256.Sum256([]byte(arn))
	return iam.Role{RoleName: name, ARN: arn, RoleID: "AROA" + strings.ToUpper(hex.EncodeToString(sum[:]))[:17], Path: "/"}
}

// sessionName fits a function name to a role session name (2-64
// characters of [\w+=,.@-]).
func sessionName(fn string) string {
	if len(fn) > 64 {
		fn = fn[:64]
	}
	return fn
}

// revokeCredentials revokes an ended environment's session in the
// background: the store write must not hold up the teardown.
func revokeCredentials(ctx context.Context, ids *iam.Store, logger *slog.Logger) func(envID string) {
	return func(envID string) {
		go func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := ids.RevokeTag(rctx, envID); err != nil {
				logger.Warn("revoke the credentials of an ended environment", "env_id", envID, "err", err)
			}
		}()
	}
}

// definedRoles tells the API which execution roles exist.
type definedRoles struct {
	ids    *iam.Store
	refuse bool
}

func (d definedRoles) Defined(arn string) bool {
	_, ok := d.ids.Role(arn)
	return ok
}

func (d definedRoles) RefuseUnknown() bool { return d.refuse }

// lateAuthorizer gives the workflow service the authoriser, which is
// built after it (it needs the function policies); it allows everything
// when requests are not authenticated (--auth none), as the API does.
type lateAuthorizer struct {
	a       atomic.Pointer[authz.Authorizer]
	enabled bool
}

// Authorize implements sfn.Authorizer. Until the authoriser is set,
// nothing is allowed.
func (l *lateAuthorizer) Authorize(p iam.Principal, action, resource string, c authz.Context) error {
	if !l.enabled {
		return nil
	}
	a := l.a.Load()
	if a == nil {
		return &authz.Denied{Message: "User: " + p.ARN + " is not authorized to perform: " + action + " on resource: " + resource + " (the server is starting)", Principal: p}
	}
	return a.Authorize(p, action, resource, c)
}
