package iam

import (
	"context"
	"slices"
	"strings"
)

// Entity says whether an inline policy or an attachment belongs to a
// user or a role.
type Entity int

// Entities that hold policies.
const (
	EntityUser Entity = iota
	EntityRole
)

// maxAttachedPerEntity is IAM's default quota of managed policies
// attached to one user or role.
const maxAttachedPerEntity = 10

func (k Entity) String() string {
	if k == EntityRole {
		return "role"
	}
	return "user"
}

// updatePolicySet applies mutate to the policy set of a user or role,
// whose canonical name it also passes.
func (s *Store) updatePolicySet(ctx context.Context, kind Entity, name string, mutate func(ps *policySet) error) error {
	var err error
	if kind == EntityRole {
		_, err = s.updateRole(ctx, name, func(rec *roleRecord) error { return mutate(&rec.policySet) })
	} else {
		_, err = s.updateUser(ctx, name, func(rec *userRecord) error { return mutate(&rec.policySet) })
	}
	return err
}

// policySetLocked returns the policy set and canonical name of a user or
// role, or its NoSuchEntity error. Requires s.mu held.
func (s *Store) policySetLocked(kind Entity, name string) (*policySet, string, error) {
	if kind == EntityRole {
		if rv := s.v.roles[strings.ToLower(name)]; rv != nil {
			return &rv.rec.policySet, rv.rec.Name, nil
		}
		return nil, "", errRoleNotFound(name)
	}
	if uv := s.v.users[strings.ToLower(name)]; uv != nil {
		return &uv.rec.policySet, uv.rec.Name, nil
	}
	return nil, "", errUserNotFound(name)
}

// PutInlinePolicy adds or replaces an inline policy of a user or role.
func (s *Store) PutInlinePolicy(ctx context.Context, kind Entity, entity, policyName, doc string) error {
	if err := checkName("policyName", policyName, 128); err != nil {
		return err
	}
	if err := s.validateDoc(PolicyIdentity, doc); err != nil {
		return err
	}
	return s.updatePolicySet(ctx, kind, entity, func(ps *policySet) error {
		if ps.Inline == nil {
			ps.Inline = map[string]string{}
		}
		ps.Inline[policyName] = doc
		return nil
	})
}

// GetInlinePolicy returns the canonical entity name and the document of
// an inline policy.
func (s *Store) GetInlinePolicy(kind Entity, entity, policyName string) (string, string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ps, name, err := s.policySetLocked(kind, entity)
	if err != nil {
		return "", "", err
	}
	doc, ok := ps.Inline[policyName]
	if !ok {
		return "", "", errNoSuchEntity("The %s policy with name %s cannot be found.", kind, policyName)
	}
	return name, doc, nil
}

// DeleteInlinePolicy deletes an inline policy of a user or role.
func (s *Store) DeleteInlinePolicy(ctx context.Context, kind Entity, entity, policyName string) error {
	return s.updatePolicySet(ctx, kind, entity, func(ps *policySet) error {
		if _, ok := ps.Inline[policyName]; !ok {
			return errNoSuchEntity("The %s policy with name %s cannot be found.", kind, policyName)
		}
		delete(ps.Inline, policyName)
		return nil
	})
}

// ListInlinePolicies returns the names of a user's or role's inline
// policies, sorted.
func (s *Store) ListInlinePolicies(kind Entity, entity string) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ps, _, err := s.policySetLocked(kind, entity)
	if err != nil {
		return nil, err
	}
	return sortedKeys(ps.Inline), nil
}

// AttachPolicy attaches a managed policy (customer or AWS) to a user or
// role; attaching it again changes nothing.
func (s *Store) AttachPolicy(ctx context.Context, kind Entity, entity, arn string) error {
	if _, ok := s.attachable(arn); !ok {
		return errNoSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	return s.updatePolicySet(ctx, kind, entity, func(ps *policySet) error {
		if slices.Contains(ps.Attached, arn) {
			return nil
		}
		if len(ps.Attached) >= maxAttachedPerEntity {
			q := "PoliciesPerUser"
			if kind == EntityRole {
				q = "PoliciesPerRole"
			}
			return errLimitExceeded("Cannot exceed quota for %s: %d", q, maxAttachedPerEntity)
		}
		ps.Attached = append(ps.Attached, arn)
		return nil
	})
}

// DetachPolicy detaches a managed policy from a user or role.
func (s *Store) DetachPolicy(ctx context.Context, kind Entity, entity, arn string) error {
	return s.updatePolicySet(ctx, kind, entity, func(ps *policySet) error {
		i := slices.Index(ps.Attached, arn)
		if i < 0 {
			return errPolicyNotFound(arn)
		}
		ps.Attached = slices.Delete(ps.Attached, i, i+1)
		return nil
	})
}

// ListAttachedPolicies returns the managed policies attached to a user or
// role whose path starts with pathPrefix, in attach order.
func (s *Store) ListAttachedPolicies(kind Entity, entity, pathPrefix string) ([]AttachedPolicy, error) {
	s.mu.RLock()
	ps, _, err := s.policySetLocked(kind, entity)
	var arns []string
	if err == nil {
		arns = slices.Clone(ps.Attached)
	}
	s.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	out := make([]AttachedPolicy, 0, len(arns))
	for _, arn := range arns {
		p, ok := s.attachable(arn)
		if !ok || !strings.HasPrefix(p.Path, pathPrefix) {
			continue
		}
		out = append(out, AttachedPolicy{PolicyName: p.PolicyName, PolicyARN: arn})
	}
	return out, nil
}

// attachable returns the managed policy (customer or AWS) at arn.
func (s *Store) attachable(arn string) (ManagedPolicy, bool) {
	p, err := s.GetPolicy(arn)
	return p, err == nil
}
