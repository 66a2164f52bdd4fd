package iam

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/updraft/updraft/internal/awsquery"
)

// RoleInput are CreateRole's parameters.
type RoleInput struct {
	RoleName, Path, AssumeRolePolicyDocument, Description string
	// MaxSessionDuration in seconds; 0 means 3600.
	MaxSessionDuration int
	Tags               []Tag
}

// CreateRole creates a role; its trust policy is validated as one.
func (s *Store) CreateRole(ctx context.Context, in RoleInput) (Role, error) {
	if err := checkName("roleName", in.RoleName, 64); err != nil {
		return Role{}, err
	}
	if err := checkPath("path", &in.Path); err != nil {
		return Role{}, err
	}
	if in.MaxSessionDuration == 0 {
		in.MaxSessionDuration = minSessionDuration
	}
	if err := checkMaxSession(in.MaxSessionDuration); err != nil {
		return Role{}, err
	}
	if err := checkDescription(in.Description); err != nil {
		return Role{}, err
	}
	if err := checkTags(in.Tags); err != nil {
		return Role{}, err
	}
	if err := s.validateDoc(PolicyTrust, in.AssumeRolePolicyDocument); err != nil {
		return Role{}, err
	}
	rec := &roleRecord{Name: in.RoleName, ID: newID("AROA", 21), Path: in.Path, Trust: in.AssumeRolePolicyDocument,
		Description: in.Description, MaxSession: in.MaxSessionDuration, Created: s.now(), Tags: in.Tags}
	err := s.put(ctx, roleKey(in.RoleName), rec, 0)
	if errors.Is(err, errConflict) {
		return Role{}, errAlreadyExists("Role with name %s already exists.", in.RoleName)
	}
	if err != nil {
		return Role{}, err
	}
	return s.roleOf(rec), nil
}

func checkMaxSession(d int) error {
	if d < minSessionDuration {
		return awsquery.Validation("Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to %d", d, minSessionDuration)
	}
	if d > maxSessionDuration {
		return awsquery.Validation("Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to %d", d, maxSessionDuration)
	}
	return nil
}

// GetRole returns the role named name (any case).
func (s *Store) GetRole(name string) (Role, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rv := s.v.roles[strings.ToLower(name)]
	if rv == nil {
		return Role{}, errRoleNotFound(name)
	}
	return rv.role, nil
}

// ListRoles returns the roles whose path starts with pathPrefix, sorted
// by name.
func (s *Store) ListRoles(pathPrefix string) []Role {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Role
	for _, rv := range s.v.roles {
		if strings.HasPrefix(rv.rec.Path, pathPrefix) {
			out = append(out, rv.role)
		}
	}
	slices.SortFunc(out, func(a, b Role) int { return strings.Compare(strings.ToLower(a.RoleName), strings.ToLower(b.RoleName)) })
	return out
}

// DeleteRole deletes a role without inline or attached policies.
// Sessions of the role keep working until they expire but have no
// permissions (PoliciesOf finds no role).
func (s *Store) DeleteRole(ctx context.Context, name string) error {
	_, err := s.updateRole(ctx, name, func(rec *roleRecord) error {
		switch {
		case len(rec.Inline) > 0:
			return errDeleteConflict("Cannot delete entity, must delete policies first.")
		case len(rec.Attached) > 0:
			return errDeleteConflict("Cannot delete entity, must detach all policies first.")
		}
		return errDelete
	})
	return err
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Store) UpdateAssumeRolePolicy(ctx context.Context, name, doc string) error {
	if err := s.validateDoc(PolicyTrust, doc); err != nil {
		return err
	}
	_, err := s.updateRole(ctx, name, func(rec *roleRecord) error {
		rec.Trust = doc
		return nil
	})
	return err
}

func (s *Store) updateRole(ctx context.Context, name string, mutate func(*roleRecord) error) (*roleRecord, error) {
	return update(ctx, s, roleKey(name), func() error { return errRoleNotFound(name) }, mutate)
}
