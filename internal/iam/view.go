package iam

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"strings"
)

// view is the in-memory copy of the bucket that every read uses. Guarded
// by Store.mu. Values hung from it (User, Role, Principal, docs slices)
// are rebuilt on change, never modified, so readers may keep them.
type view struct {
	users    map[string]*userView   // by lower-case name
	roles    map[string]*roleView   // by lower-case name
	policies map[string]*policyView // by lower-case name
	// byName index users and roles by their exact names, so that the
	// hot path (PoliciesOf) does not lower-case.
	usersByName map[string]*userView
	rolesByName map[string]*roleView
	keys        map[string]*keyView // access key id → key
	revokedKeys map[string]struct{} // revoked session access key ids
	revokedTags map[string]struct{} // revoked session tags
	revs        map[string]uint64   // last applied revision per key, deletes included
	// tokenKey and secretKey are derived from the signing key; nil until
	// it is loaded.
	tokenKey, secretKey []byte
}

type userView struct {
	rec       *userRecord
	user      User
	principal Principal
	docs      []PolicyDoc
}

type roleView struct {
	rec  *roleRecord
	role Role
	docs []PolicyDoc
}

type policyView struct {
	rec *policyRecord
	arn string
}

type keyView struct {
	secret string
	active bool
	user   *userView
	// principal is the user's principal with this AccessKeyID.
	principal Principal
}

func newView() *view {
	return &view{
		users: map[string]*userView{}, roles: map[string]*roleView{}, policies: map[string]*policyView{},
		usersByName: map[string]*userView{}, rolesByName: map[string]*roleView{},
		keys: map[string]*keyView{}, revokedKeys: map[string]struct{}{}, revokedTags: map[string]struct{}{},
		revs: map[string]uint64{},
	}
}

// applyLocked applies one entry at revision rev and reports whether it
// changed the view. Requires s.mu held for writing.
func (s *Store) applyLocked(key string, value []byte, rev uint64, deleted bool) (bool, error) {
	if rev <= s.v.revs[key] {
		return false, nil
	}
	s.v.revs[key] = rev
	v := s.v
	switch {
	case strings.HasPrefix(key, prefixUser):
		if old := v.users[strings.TrimPrefix(key, prefixUser)]; old != nil {
			s.dropUserLocked(old)
		}
		if deleted {
			return true, nil
		}
		rec, err := decode[userRecord](key, value)
		if err != nil {
			return true, err
		}
		s.addUserLocked(strings.TrimPrefix(key, prefixUser), rec)
	case strings.HasPrefix(key, prefixRole):
		lname := strings.TrimPrefix(key, prefixRole)
		if old := v.roles[lname]; old != nil {
			delete(v.roles, lname)
			delete(v.rolesByName, old.rec.Name)
		}
		if deleted {
			return true, nil
		}
		rec, err := decode[roleRecord](key, value)
		if err != nil {
			return true, err
		}
		rv := &roleView{rec: rec, role: s.roleOf(rec)}
		rv.docs = s.docsLocked(&rec.policySet)
		v.roles[lname], v.rolesByName[rec.Name] = rv, rv
	case strings.HasPrefix(key, prefixPolicy):
		lname := strings.TrimPrefix(key, prefixPolicy)
		delete(v.policies, lname)
		if !deleted {
			rec, err := decode[policyRecord](key, value)
			if err != nil {
				return true, err
			}
			v.policies[lname] = &policyView{rec: rec, arn: s.policyARN(rec.Path, rec.Name)}
		}
		// A managed policy's default version is part of every principal
		// it is attached to.
		s.rebuildDocsLocked()
	case strings.HasPrefix(key, prefixRevokedKey):
		id := strings.TrimPrefix(key, prefixRevokedKey)
		if deleted {
			delete(v.revokedKeys, id)
		} else {
			v.revokedKeys[id] = struct{}{}
		}
	case strings.HasPrefix(key, prefixRevokedTag):
		tag := strings.TrimPrefix(key, prefixRevokedTag)
		if deleted {
			delete(v.revokedTags, tag)
		} else {
			v.revokedTags[tag] = struct{}{}
		}
	case key == keySigningKey:
		if deleted {
			return true, nil // never deleted; keep the key in use
		}
		rec, err := decode[signingKeyRecord](key, value)
		if err != nil {
			return true, err
		}
		v.tokenKey = derive(rec.Key, "updraft sts session token")
		v.secretKey = derive(rec.Key, "updraft sts secret access key")
	default:
		return false, nil
	}
	return true, nil
}

func derive(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

func (s *Store) dropUserLocked(old *userView) {
	v := s.v
	for _, k := range old.rec.Keys {
		if kv := v.keys[k.ID]; kv != nil && kv.user == old {
			delete(v.keys, k.ID)
		}
	}
	delete(v.users, strings.ToLower(old.rec.Name))
	delete(v.usersByName, old.rec.Name)
}

func (s *Store) addUserLocked(lname string, rec *userRecord) {
	u := s.userOf(rec)
	uv := &userView{rec: rec, user: u, principal: Principal{
		Type: PrincipalUser, ARN: u.ARN, Account: s.cfg.AccountID, UserID: u.UserID, Name: u.UserName,
	}}
	uv.docs = s.docsLocked(&rec.policySet)
	s.v.users[lname], s.v.usersByName[rec.Name] = uv, uv
	for _, k := range rec.Keys {
		p := uv.principal
		p.AccessKeyID = k.ID
		s.v.keys[k.ID] = &keyView{secret: k.Secret, active: k.Status == KeyActive, user: uv, principal: p}
	}
}

// rebuildDocsLocked recomputes the policy documents of every user and
// role (after a managed policy changed).
func (s *Store) rebuildDocsLocked() {
	for _, uv := range s.v.users {
		uv.docs = s.docsLocked(&uv.rec.policySet)
	}
	for _, rv := range s.v.roles {
		rv.docs = s.docsLocked(&rv.rec.policySet)
	}
}

// docsLocked returns the identity policies of a policy set: inline ones
// in name order, then attached ones in attach order. Attachments to
// policies that no longer exist are skipped.
func (s *Store) docsLocked(ps *policySet) []PolicyDoc {
	var out []PolicyDoc
	for _, name := range sortedKeys(ps.Inline) {
		doc := ps.Inline[name]
		out = append(out, PolicyDoc{Source: SourceInline, Name: name, Document: doc, Digest: sha256.Sum256([]byte(doc))})
	}
	for _, arn := range ps.Attached {
		if pv := s.policyByARNLocked(arn); pv != nil {
			doc := pv.rec.defaultDoc()
			out = append(out, PolicyDoc{Source: SourceManaged, Name: pv.rec.Name, ARN: arn, Document: doc, Digest: sha256.Sum256([]byte(doc))})
			continue
		}
		if s.deps.AWSPolicies != nil {
			if ap, ok := s.deps.AWSPolicies.Policy(arn); ok {
				out = append(out, PolicyDoc{Source: SourceAWSManaged, Name: ap.Name, ARN: arn, Document: ap.Document, Digest: sha256.Sum256([]byte(ap.Document))})
			}
		}
	}
	return out
}

func (p *policyRecord) defaultDoc() string {
	for _, v := range p.Versions {
		if v.ID == p.Default {
			return v.Doc
		}
	}
	return ""
}

// policyByARNLocked finds a customer managed policy by its ARN (path
// included).
func (s *Store) policyByARNLocked(arn string) *policyView {
	i := strings.LastIndexByte(arn, '/')
	if i < 0 {
		return nil
	}
	pv := s.v.policies[strings.ToLower(arn[i+1:])]
	if pv == nil || pv.arn != arn {
		return nil
	}
	return pv
}

// LookupAccessKey returns the secret and the principal of a long-term
// access key: the root key or an Active key of a user. Inactive and
// unknown keys are not found. It reads only memory and does not allocate.
func (s *Store) LookupAccessKey(akid string) (secret string, p Principal, ok bool) {
	if akid == s.cfg.RootAccessKeyID {
		return s.cfg.RootSecretAccessKey, s.root, true
	}
	s.mu.RLock()
	k := s.v.keys[akid]
	s.mu.RUnlock()
	if k == nil || !k.active {
		return "", Principal{}, false
	}
	return k.secret, k.principal, true
}

// Root returns the account root principal.
func (s *Store) Root() Principal { return s.root }

// PoliciesOf returns the identity policies of p: a user's or a session's
// role's inline policies (by name) and the default versions of its
// attached managed policies (in attach order). The root and unknown
// principals have none (the root needs none: it may do anything). A
// session whose role was deleted, or recreated under the same name (a
// new RoleID), has none. The slice is shared and immutable: callers must
// not modify it. It reads only memory and does not allocate.
func (s *Store) PoliciesOf(p Principal) []PolicyDoc {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch p.Type {
	case PrincipalUser:
		if uv := s.v.usersByName[p.Name]; uv != nil && uv.user.UserID == p.UserID {
			return uv.docs
		}
	case PrincipalAssumedRole:
		if rv := s.v.rolesByName[p.Name]; rv != nil && rv.role.ARN == p.RoleARN &&
			len(p.UserID) > len(rv.role.RoleID) && p.UserID[len(rv.role.RoleID)] == ':' && p.UserID[:len(rv.role.RoleID)] == rv.role.RoleID {
			return rv.docs
		}
	}
	return nil
}

// Role returns the role named by its name or its ARN (path included).
// Tags are shared: callers must not modify them.
func (s *Store) Role(arnOrName string) (Role, bool) {
	name := arnOrName
	isARN := strings.HasPrefix(arnOrName, "arn:")
	if isARN {
		i := strings.LastIndexByte(arnOrName, '/')
		if i < 0 {
			return Role{}, false
		}
		name = arnOrName[i+1:]
	}
	s.mu.RLock()
	rv := s.v.rolesByName[name]
	if rv == nil {
		rv = s.v.roles[strings.ToLower(name)]
	}
	s.mu.RUnlock()
	if rv == nil || isARN && rv.role.ARN != arnOrName {
		return Role{}, false
	}
	return rv.role, true
}

func (s *Store) userOf(rec *userRecord) User {
	return User{UserName: rec.Name, UserID: rec.ID, ARN: "arn:aws:iam::" + s.cfg.AccountID + ":user" + rec.Path + rec.Name,
		Path: rec.Path, CreateDate: rec.Created, Tags: rec.Tags}
}

func (s *Store) roleOf(rec *roleRecord) Role {
	return Role{RoleName: rec.Name, RoleID: rec.ID, ARN: "arn:aws:iam::" + s.cfg.AccountID + ":role" + rec.Path + rec.Name,
		Path: rec.Path, AssumeRolePolicyDocument: rec.Trust, Description: rec.Description,
		MaxSessionDuration: rec.MaxSession, CreateDate: rec.Created, Tags: rec.Tags}
}

func (s *Store) policyARN(path, name string) string {
	return "arn:aws:iam::" + s.cfg.AccountID + ":policy" + path + name
}

// CheckJSON is the Validator used when none is given: the document must
// be a JSON object.
func CheckJSON(_ PolicyKind, doc string) error {
	var v map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return errMalformedText("Syntax errors in policy.")
	}
	return nil
}
