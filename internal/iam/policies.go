package iam

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/updraft/updraft/internal/awsquery"
)

// Policy scopes of ListPolicies.
const (
	ScopeAll   = "All"
	ScopeAWS   = "AWS"
	ScopeLocal = "Local"
)

// awsPolicyPrefix starts every AWS managed policy's ARN.
const awsPolicyPrefix = "arn:aws:iam::aws:policy/"

// CreatePolicy creates a customer managed policy with version v1 as its
// default. Names are unique in the account regardless of path and case.
func (s *Store) CreatePolicy(ctx context.Context, name, path, description, doc string, tags []Tag) (ManagedPolicy, error) {
	if err := checkName("policyName", name, 128); err != nil {
		return ManagedPolicy{}, err
	}
	if err := checkPath("path", &path); err != nil {
		return ManagedPolicy{}, err
	}
	if err := checkDescription(description); err != nil {
		return ManagedPolicy{}, err
	}
	if err := checkTags(tags); err != nil {
		return ManagedPolicy{}, err
	}
	if err := s.validateDoc(PolicyIdentity, doc); err != nil {
		return ManagedPolicy{}, err
	}
	now := s.now()
	rec := &policyRecord{Name: name, ID: newID("ANPA", 21), Path: path, Description: description, Created: now, Updated: now,
		Default: "v1", Versions: []versionRecord{{ID: "v1", Doc: doc, Created: now}}, Next: 2, Tags: tags}
	err := s.put(ctx, policyKey(name), rec, 0)
	if errors.Is(err, errConflict) {
		return ManagedPolicy{}, errAlreadyExists("A policy called %s already exists. Duplicate names are not allowed.", name)
	}
	if err != nil {
		return ManagedPolicy{}, err
	}
	return s.managedOf(rec, 0), nil
}

func (s *Store) managedOf(rec *policyRecord, attachments int) ManagedPolicy {
	return ManagedPolicy{PolicyName: rec.Name, PolicyID: rec.ID, ARN: s.policyARN(rec.Path, rec.Name), Path: rec.Path,
		Description: rec.Description, DefaultVersionID: rec.Default, AttachmentCount: attachments,
		CreateDate: rec.Created, UpdateDate: rec.Updated, Tags: rec.Tags}
}

func awsManagedOf(p AWSPolicy, attachments int) ManagedPolicy {
	return ManagedPolicy{PolicyName: p.Name, PolicyID: p.PolicyID, ARN: p.ARN, Path: p.Path, Description: p.Description,
		DefaultVersionID: p.VersionID, AttachmentCount: attachments, CreateDate: p.CreateDate, UpdateDate: p.UpdateDate, AWSManaged: true}
}

// attachmentsLocked counts the users and roles arn is attached to.
func (s *Store) attachmentsLocked(arn string) int {
	n := 0
	for _, uv := range s.v.users {
		if slices.Contains(uv.rec.Attached, arn) {
			n++
		}
	}
	for _, rv := range s.v.roles {
		if slices.Contains(rv.rec.Attached, arn) {
			n++
		}
	}
	return n
}

// GetPolicy returns the managed policy at arn: a customer policy of this
// account or an AWS managed one.
func (s *Store) GetPolicy(arn string) (ManagedPolicy, error) {
	if strings.HasPrefix(arn, awsPolicyPrefix) {
		if s.deps.AWSPolicies != nil {
			if p, ok := s.deps.AWSPolicies.Policy(arn); ok {
				s.mu.RLock()
				n := s.attachmentsLocked(arn)
				s.mu.RUnlock()
				return awsManagedOf(p, n), nil
			}
		}
		return ManagedPolicy{}, errPolicyNotFound(arn)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	pv := s.policyByARNLocked(arn)
	if pv == nil {
		return ManagedPolicy{}, errPolicyNotFound(arn)
	}
	return s.managedOf(pv.rec, s.attachmentsLocked(arn)), nil
}

// ListPolicies lists managed policies: scope All, AWS or Local; only
// attached ones when onlyAttached; paths starting with pathPrefix. AWS
// managed policies come first (in the catalogue's order), then the
// account's sorted by name.
func (s *Store) ListPolicies(scope string, onlyAttached bool, pathPrefix string) ([]ManagedPolicy, error) {
	if scope == "" {
		scope = ScopeAll
	}
	if scope != ScopeAll && scope != ScopeAWS && scope != ScopeLocal {
		return nil, awsquery.Validation("Value '%s' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]", scope)
	}
	var out []ManagedPolicy
	keep := func(p ManagedPolicy) {
		if (!onlyAttached || p.AttachmentCount > 0) && strings.HasPrefix(p.Path, pathPrefix) {
			out = append(out, p)
		}
	}
	var aws []AWSPolicy
	if scope != ScopeLocal && s.deps.AWSPolicies != nil {
		aws = s.deps.AWSPolicies.Policies()
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, p := range aws {
		keep(awsManagedOf(p, s.attachmentsLocked(p.ARN)))
	}
	if scope == ScopeAWS {
		return out, nil
	}
	for _, name := range sortedKeys(s.v.policies) {
		pv := s.v.policies[name]
		keep(s.managedOf(pv.rec, s.attachmentsLocked(pv.arn)))
	}
	return out, nil
}

// updatePolicy applies mutate to the customer policy at arn.
func (s *Store) updatePolicy(ctx context.Context, arn string, mutate func(*policyRecord) error) (*policyRecord, error) {
	if strings.HasPrefix(arn, awsPolicyPrefix) {
		if _, err := s.GetPolicy(arn); err != nil {
			return nil, err
		}
		return nil, errInvalidInput("AWS managed policy %s cannot be changed.", arn)
	}
	i := strings.LastIndexByte(arn, '/')
	if i < 0 || !strings.HasPrefix(arn, "arn:aws:iam::"+s.cfg.AccountID+":policy/") {
		return nil, errInvalidInput("ARN %s is not valid.", arn)
	}
	notFound := func() error { return errPolicyNotFound(arn) }
	return update(ctx, s, policyKey(arn[i+1:]), notFound, func(rec *policyRecord) error {
		if s.policyARN(rec.Path, rec.Name) != arn {
			return notFound()
		}
		return mutate(rec)
	})
}

// DeletePolicy deletes a customer policy that is attached to nothing and
// has no version but its default.
func (s *Store) DeletePolicy(ctx context.Context, arn string) error {
	_, err := s.updatePolicy(ctx, arn, func(rec *policyRecord) error {
		s.mu.RLock()
		n := s.attachmentsLocked(arn)
		s.mu.RUnlock()
		if n > 0 {
			return errDeleteConflict("Cannot delete a policy attached to entities.")
		}
		if len(rec.Versions) > 1 {
			return errDeleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
		}
		return errDelete
	})
	return err
}

// CreatePolicyVersion adds a version (at most five), the default one
// when setDefault.
func (s *Store) CreatePolicyVersion(ctx context.Context, arn, doc string, setDefault bool) (PolicyVersion, error) {
	if err := s.validateDoc(PolicyIdentity, doc); err != nil {
		return PolicyVersion{}, err
	}
	now := s.now()
	var v versionRecord
	_, err := s.updatePolicy(ctx, arn, func(rec *policyRecord) error {
		if len(rec.Versions) >= maxPolicyVersions {
			return errLimitExceeded("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
		}
		v = versionRecord{ID: "v" + strconv.Itoa(rec.Next), Doc: doc, Created: now}
		rec.Next++
		rec.Versions = append(rec.Versions, v)
		rec.Updated = now
		if setDefault {
			rec.Default = v.ID
		}
		return nil
	})
	if err != nil {
		return PolicyVersion{}, err
	}
	return PolicyVersion{Document: doc, VersionID: v.ID, IsDefaultVersion: setDefault, CreateDate: now}, nil
}

func checkVersionID(vid string) error {
	if !versionPattern.MatchString(vid) {
		return awsquery.Validation(`Value '%s' at 'versionId' failed to satisfy constraint: Member must satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`, vid)
	}
	return nil
}

// GetPolicyVersion returns one version of a managed policy.
func (s *Store) GetPolicyVersion(arn, vid string) (PolicyVersion, error) {
	if err := checkVersionID(vid); err != nil {
		return PolicyVersion{}, err
	}
	vs, err := s.ListPolicyVersions(arn)
	if err != nil {
		return PolicyVersion{}, err
	}
	for _, v := range vs {
		if v.VersionID == vid {
			return v, nil
		}
	}
	return PolicyVersion{}, errNoSuchEntity("Policy %s version %s does not exist or is not attachable.", arn, vid)
}

// ListPolicyVersions returns a managed policy's versions, newest first.
func (s *Store) ListPolicyVersions(arn string) ([]PolicyVersion, error) {
	if strings.HasPrefix(arn, awsPolicyPrefix) {
		if s.deps.AWSPolicies != nil {
			if p, ok := s.deps.AWSPolicies.Policy(arn); ok {
				return []PolicyVersion{{Document: p.Document, VersionID: p.VersionID, IsDefaultVersion: true, CreateDate: p.UpdateDate}}, nil
			}
		}
		return nil, errPolicyNotFound(arn)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	pv := s.policyByARNLocked(arn)
	if pv == nil {
		return nil, errPolicyNotFound(arn)
	}
	out := make([]PolicyVersion, 0, len(pv.rec.Versions))
	for i := len(pv.rec.Versions) - 1; i >= 0; i-- {
		v := pv.rec.Versions[i]
		out = append(out, PolicyVersion{Document: v.Doc, VersionID: v.ID, IsDefaultVersion: v.ID == pv.rec.Default, CreateDate: v.Created})
	}
	return out, nil
}

// DeletePolicyVersion deletes a version that is not the default.
func (s *Store) DeletePolicyVersion(ctx context.Context, arn, vid string) error {
	if err := checkVersionID(vid); err != nil {
		return err
	}
	_, err := s.updatePolicy(ctx, arn, func(rec *policyRecord) error {
		i := slices.IndexFunc(rec.Versions, func(v versionRecord) bool { return v.ID == vid })
		if i < 0 {
			return errNoSuchEntity("Policy %s version %s does not exist or is not attachable.", arn, vid)
		}
		if rec.Default == vid {
			return errDeleteConflict("Cannot delete the default version of a policy.")
		}
		rec.Versions = slices.Delete(rec.Versions, i, i+1)
		return nil
	})
	return err
}

// SetDefaultPolicyVersion makes vid the default version: from then on it
// is what every attachment grants.
func (s *Store) SetDefaultPolicyVersion(ctx context.Context, arn, vid string) error {
	if err := checkVersionID(vid); err != nil {
		return err
	}
	_, err := s.updatePolicy(ctx, arn, func(rec *policyRecord) error {
		if !slices.ContainsFunc(rec.Versions, func(v versionRecord) bool { return v.ID == vid }) {
			return errNoSuchEntity("Policy %s version %s does not exist or is not attachable.", arn, vid)
		}
		rec.Default = vid
		rec.Updated = s.now()
		return nil
	})
	return err
}
