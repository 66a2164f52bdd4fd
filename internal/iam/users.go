package iam

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// CreateUser creates a user. Names are unique regardless of case.
func (s *Store) CreateUser(ctx context.Context, name, path string, tags []Tag) (User, error) {
	if err := checkName("userName", name, 64); err != nil {
		return User{}, err
	}
	if err := checkPath("path", &path); err != nil {
		return User{}, err
	}
	if err := checkTags(tags); err != nil {
		return User{}, err
	}
	rec := &userRecord{Name: name, ID: newID("AIDA", 21), Path: path, Created: s.now(), Tags: tags}
	err := s.put(ctx, userKey(name), rec, 0)
	if errors.Is(err, errConflict) {
		return User{}, errAlreadyExists("User with name %s already exists.", name)
	}
	if err != nil {
		return User{}, err
	}
	return s.userOf(rec), nil
}

// GetUser returns the user named name (any case).
func (s *Store) GetUser(name string) (User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	uv := s.v.users[strings.ToLower(name)]
	if uv == nil {
		return User{}, errUserNotFound(name)
	}
	return uv.user, nil
}

// ListUsers returns the users whose path starts with pathPrefix, sorted
// by name.
func (s *Store) ListUsers(pathPrefix string) []User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []User
	for _, uv := range s.v.users {
		if strings.HasPrefix(uv.rec.Path, pathPrefix) {
			out = append(out, uv.user)
		}
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(strings.ToLower(a.UserName), strings.ToLower(b.UserName)) })
	return out
}

// DeleteUser deletes a user that has no access keys, inline policies or
// attached policies left (DeleteConflict otherwise, as IAM).
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	_, err := update(ctx, s, userKey(name), func() error { return errUserNotFound(name) }, func(rec *userRecord) error {
		switch {
		case len(rec.Keys) > 0:
			return errDeleteConflict("Cannot delete entity, must delete access keys first.")
		case len(rec.Inline) > 0:
			return errDeleteConflict("Cannot delete entity, must delete policies first.")
		case len(rec.Attached) > 0:
			return errDeleteConflict("Cannot delete entity, must detach all policies first.")
		}
		return errDelete
	})
	return err
}

// updateUser is update for a user record.
func (s *Store) updateUser(ctx context.Context, name string, mutate func(*userRecord) error) (*userRecord, error) {
	return update(ctx, s, userKey(name), func() error { return errUserNotFound(name) }, mutate)
}

// CreateAccessKey gives user a new Active key (at most two per user). The
// result is the only place its secret is shown.
func (s *Store) CreateAccessKey(ctx context.Context, user string) (AccessKey, error) {
	k := keyRecord{ID: newID("AKIA", 20), Secret: newSecret(), Status: KeyActive, Created: s.now()}
	rec, err := s.updateUser(ctx, user, func(rec *userRecord) error {
		if len(rec.Keys) >= maxKeysPerUser {
			return errLimitExceeded("Cannot exceed quota for AccessKeysPerUser: %d", maxKeysPerUser)
		}
		rec.Keys = append(rec.Keys, k)
		return nil
	})
	if err != nil {
		return AccessKey{}, err
	}
	return AccessKey{UserName: rec.Name, AccessKeyID: k.ID, SecretAccessKey: k.Secret, Status: k.Status, CreateDate: k.Created}, nil
}

// ListAccessKeys returns a user's keys without their secrets.
func (s *Store) ListAccessKeys(user string) ([]AccessKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	uv := s.v.users[strings.ToLower(user)]
	if uv == nil {
		return nil, errUserNotFound(user)
	}
	out := make([]AccessKey, 0, len(uv.rec.Keys))
	for _, k := range uv.rec.Keys {
		out = append(out, AccessKey{UserName: uv.rec.Name, AccessKeyID: k.ID, Status: k.Status, CreateDate: k.Created})
	}
	return out, nil
}

// UpdateAccessKey sets a key's status (Active or Inactive).
func (s *Store) UpdateAccessKey(ctx context.Context, user, akid string, status AccessKeyStatus) error {
	if status != KeyActive && status != KeyInactive {
		return errInvalidInput("Status must be Active or Inactive.")
	}
	_, err := s.updateUser(ctx, user, func(rec *userRecord) error {
		i := slices.IndexFunc(rec.Keys, func(k keyRecord) bool { return k.ID == akid })
		if i < 0 {
			return errNoSuchEntity("The Access Key with id %s cannot be found.", akid)
		}
		rec.Keys[i].Status = status
		return nil
	})
	return err
}

// DeleteAccessKey deletes a user's key.
func (s *Store) DeleteAccessKey(ctx context.Context, user, akid string) error {
	_, err := s.updateUser(ctx, user, func(rec *userRecord) error {
		i := slices.IndexFunc(rec.Keys, func(k keyRecord) bool { return k.ID == akid })
		if i < 0 {
			return errNoSuchEntity("The Access Key with id %s cannot be found.", akid)
		}
		rec.Keys = slices.Delete(rec.Keys, i, i+1)
		return nil
	})
	return err
}

// UserOfAccessKey returns the name of the user owning akid (any status).
func (s *Store) UserOfAccessKey(akid string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if k := s.v.keys[akid]; k != nil {
		return k.user.rec.Name, true
	}
	return "", false
}
