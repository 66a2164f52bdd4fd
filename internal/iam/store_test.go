package iam

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

func TestUsersAndKeys(t *testing.T) {
	s := openIAM(t, newTestStore(t), nil)
	ctx := t.Context()

	u, err := s.CreateUser(ctx, "ci", "/build/", []Tag{{Key: "team", Value: "infra"}})
	noErr(t, err)
	if !regexp.MustCompile(`^AIDA[A-Z0-9]{17}$`).MatchString(u.UserID) || u.ARN != "arn:aws:iam::000000000000:user/build/ci" {
		t.Fatalf("created %+v", u)
	}
	e := wantCode(t, second(s.CreateUser(ctx, "CI", "", nil)), "EntityAlreadyExists", 409)
	if e.Message != "User with name CI already exists." {
		t.Errorf("message %q", e.Message)
	}
	wantCode(t, second(s.CreateUser(ctx, "bad name", "", nil)), "ValidationError", 400)
	wantCode(t, second(s.CreateUser(ctx, "x", "nopath", nil)), "ValidationError", 400)
	e = wantCode(t, second(s.GetUser("nobody")), "NoSuchEntity", 404)
	if e.Message != "The user with name nobody cannot be found." {
		t.Errorf("message %q", e.Message)
	}

	k1, err := s.CreateAccessKey(ctx, "ci")
	noErr(t, err)
	if !regexp.MustCompile(`^AKIA[A-Z0-9]{16}$`).MatchString(k1.AccessKeyID) || len(k1.SecretAccessKey) != 40 || k1.Status != KeyActive {
		t.Fatalf("key %+v", k1)
	}
	_, err = s.CreateAccessKey(ctx, "ci")
	noErr(t, err)
	e = wantCode(t, second(s.CreateAccessKey(ctx, "ci")), "LimitExceeded", 409)
	if e.Message != "Cannot exceed quota for AccessKeysPerUser: 2" {
		t.Errorf("message %q", e.Message)
	}

	secret, p, ok := s.LookupAccessKey(k1.AccessKeyID)
	if !ok || secret != k1.SecretAccessKey || p.Type != PrincipalUser || p.ARN != u.ARN || p.UserID != u.UserID || p.Name != "ci" || p.AccessKeyID != k1.AccessKeyID {
		t.Fatalf("lookup: %v %+v", ok, p)
	}
	if secret, p, ok := s.LookupAccessKey(testRootKey); !ok || secret != testRootSec || p.Type != PrincipalRoot || p.ARN != "arn:aws:iam::000000000000:root" || p.UserID != testAccount {
		t.Fatalf("root lookup: %v %+v", ok, p)
	}
	noErr(t, s.UpdateAccessKey(ctx, "ci", k1.AccessKeyID, KeyInactive))
	if _, _, ok := s.LookupAccessKey(k1.AccessKeyID); ok {
		t.Fatal("an Inactive key was found")
	}
	keys, err := s.ListAccessKeys("ci")
	noErr(t, err)
	if len(keys) != 2 || keys[0].Status != KeyInactive || keys[0].SecretAccessKey != "" {
		t.Fatalf("keys %+v", keys)
	}

	e = wantCode(t, s.DeleteUser(ctx, "ci"), "DeleteConflict", 409)
	if e.Message != "Cannot delete entity, must delete access keys first." {
		t.Errorf("message %q", e.Message)
	}
	for _, k := range keys {
		noErr(t, s.DeleteAccessKey(ctx, "ci", k.AccessKeyID))
	}
	noErr(t, s.PutInlinePolicy(ctx, EntityUser, "ci", "all", allowAll))
	wantCode(t, s.DeleteUser(ctx, "ci"), "DeleteConflict", 409)
	noErr(t, s.DeleteInlinePolicy(ctx, EntityUser, "ci", "all"))
	noErr(t, s.DeleteUser(ctx, "ci"))
	if len(s.ListUsers("/")) != 0 {
		t.Fatal("user still listed")
	}
}

func second[T any](_ T, err error) error { return err }

func TestPoliciesOf(t *testing.T) {
	s := openIAM(t, newTestStore(t), nil)
	ctx := t.Context()
	u, err := s.CreateUser(ctx, "dev", "", nil)
	noErr(t, err)
	_, p, _ := func() (string, Principal, bool) {
		k, err := s.CreateAccessKey(ctx, "dev")
		noErr(t, err)
		return s.LookupAccessKey(k.AccessKeyID)
	}()
	gen := s.Generation()
	noErr(t, s.PutInlinePolicy(ctx, EntityUser, "dev", "b-inline", allowAll))
	noErr(t, s.PutInlinePolicy(ctx, EntityUser, "dev", "a-inline", `{"Statement":[]}`))
	wantCode(t, s.PutInlinePolicy(ctx, EntityUser, "dev", "bad", `{not json`), "MalformedPolicyDocument", 400)
	mp, err := s.CreatePolicy(ctx, "readers", "/team/", "", `{"v":1}`, nil)
	noErr(t, err)
	if mp.ARN != "arn:aws:iam::000000000000:policy/team/readers" || mp.DefaultVersionID != "v1" || !strings.HasPrefix(mp.PolicyID, "ANPA") {
		t.Fatalf("policy %+v", mp)
	}
	noErr(t, s.AttachPolicy(ctx, EntityUser, "dev", mp.ARN))
	noErr(t, s.AttachPolicy(ctx, EntityUser, "dev", lambdaBasic))
	e := wantCode(t, s.AttachPolicy(ctx, EntityUser, "dev", "arn:aws:iam::aws:policy/Nope"), "NoSuchEntity", 404)
	if e.Message != "Policy arn:aws:iam::aws:policy/Nope does not exist or is not attachable." {
		t.Errorf("message %q", e.Message)
	}
	if s.Generation() <= gen {
		t.Error("generation did not move")
	}

	docs := s.PoliciesOf(p)
	var got []string
	for _, d := range docs {
		got = append(got, d.Name+"="+d.Document)
	}
	want := []string{"a-inline=" + `{"Statement":[]}`, "b-inline=" + allowAll, `readers={"v":1}`, "AWSLambdaBasicExecutionRole=" + basicExecJSON}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("PoliciesOf:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if allocs := testing.AllocsPerRun(100, func() { _ = s.PoliciesOf(p) }); allocs != 0 {
		t.Errorf("PoliciesOf allocates %v times", allocs)
	}
	if allocs := testing.AllocsPerRun(100, func() { _, _, _ = s.LookupAccessKey(p.AccessKeyID) }); allocs != 0 {
		t.Errorf("LookupAccessKey allocates %v times", allocs)
	}

	// A new default version changes what the attachment grants.
	v2, err := s.CreatePolicyVersion(ctx, mp.ARN, `{"v":2}`, true)
	noErr(t, err)
	if v2.VersionID != "v2" || !v2.IsDefaultVersion {
		t.Fatalf("version %+v", v2)
	}
	if d := s.PoliciesOf(p)[2]; d.Document != `{"v":2}` || d.Digest == docs[2].Digest {
		t.Fatalf("after v2: %+v", d)
	}
	for i := 3; i <= 5; i++ {
		_, err := s.CreatePolicyVersion(ctx, mp.ARN, `{}`, false)
		noErr(t, err)
	}
	wantCode(t, second(s.CreatePolicyVersion(ctx, mp.ARN, `{}`, false)), "LimitExceeded", 409)
	vs, err := s.ListPolicyVersions(mp.ARN)
	noErr(t, err)
	if len(vs) != 5 || vs[0].VersionID != "v5" || !vs[3].IsDefaultVersion {
		t.Fatalf("versions %+v", vs)
	}
	wantCode(t, s.DeletePolicyVersion(ctx, mp.ARN, "v2"), "DeleteConflict", 409)
	noErr(t, s.SetDefaultPolicyVersion(ctx, mp.ARN, "v1"))
	noErr(t, s.DeletePolicyVersion(ctx, mp.ARN, "v2"))
	got1, err := s.GetPolicy(mp.ARN)
	noErr(t, err)
	if got1.AttachmentCount != 1 || got1.DefaultVersionID != "v1" {
		t.Fatalf("policy %+v", got1)
	}
	wantCode(t, s.DeletePolicy(ctx, mp.ARN), "DeleteConflict", 409)
	all, err := s.ListPolicies(ScopeAll, false, "/")
	noErr(t, err)
	if len(all) != 2 || !all[0].AWSManaged || all[0].AttachmentCount != 1 {
		t.Fatalf("ListPolicies All: %+v", all)
	}
	local, _ := s.ListPolicies(ScopeLocal, false, "/")
	if len(local) != 1 || local[0].PolicyName != "readers" {
		t.Fatalf("ListPolicies Local: %+v", local)
	}

	// A user recreated under the same name is someone else.
	noErr(t, s.DetachPolicy(ctx, EntityUser, "dev", mp.ARN))
	wantCode(t, s.DetachPolicy(ctx, EntityUser, "dev", mp.ARN), "NoSuchEntity", 404)
	if s.PoliciesOf(Principal{Type: PrincipalUser, Name: "dev", UserID: "AIDAOTHER"}) != nil {
		t.Error("a principal with another user id got the user's policies")
	}
	if s.PoliciesOf(s.Root()) != nil {
		t.Error("root has documents")
	}
	_ = u
}

func TestRolesAndSessions(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	st := newTestStore(t)
	s := openIAM(t, st, clock)
	ctx := t.Context()

	wantCode(t, second(s.CreateRole(ctx, RoleInput{RoleName: "r", AssumeRolePolicyDocument: "nope"})), "MalformedPolicyDocument", 400)
	wantCode(t, second(s.CreateRole(ctx, RoleInput{RoleName: "r", AssumeRolePolicyDocument: trustLambda, MaxSessionDuration: 100})), "ValidationError", 400)
	role, err := s.CreateRole(ctx, RoleInput{RoleName: "fn-role", Path: "/svc/", AssumeRolePolicyDocument: trustLambda, MaxSessionDuration: 7200})
	noErr(t, err)
	if role.ARN != "arn:aws:iam::000000000000:role/svc/fn-role" || !strings.HasPrefix(role.RoleID, "AROA") || len(role.RoleID) != 21 {
		t.Fatalf("role %+v", role)
	}
	if r, ok := s.Role(role.ARN); !ok || r.RoleID != role.RoleID {
		t.Fatal("Role by ARN")
	}
	if _, ok := s.Role("arn:aws:iam::000000000000:role/fn-role"); ok {
		t.Fatal("Role found under the wrong path")
	}
	if r, ok := s.Role("FN-ROLE"); !ok || r.RoleName != "fn-role" {
		t.Fatal("Role by name in another case")
	}
	noErr(t, s.PutInlinePolicy(ctx, EntityRole, "fn-role", "all", allowAll))

	if _, err := s.IssueSession(role, "s", 10*time.Hour); err == nil {
		t.Fatal("a session past the role's maximum was issued")
	}
	creds, err := s.IssueSession(role, "build-42", time.Hour, WithTag("env-7"))
	noErr(t, err)
	if !regexp.MustCompile(`^ASIA[A-Z0-9]{16}$`).MatchString(creds.AccessKeyID) || len(creds.SecretAccessKey) != 40 || !creds.Expiration.Equal(clock.Now().Add(time.Hour)) {
		t.Fatalf("credentials %+v", creds)
	}
	secret, p, err := s.LookupSession(creds.AccessKeyID, creds.SessionToken)
	noErr(t, err)
	if secret != creds.SecretAccessKey || p.Type != PrincipalAssumedRole || p.ARN != "arn:aws:sts::000000000000:assumed-role/fn-role/build-42" ||
		p.UserID != role.RoleID+":build-42" || p.RoleARN != role.ARN || p.SessionName != "build-42" {
		t.Fatalf("session principal %+v", p)
	}
	if docs := s.PoliciesOf(p); len(docs) != 1 || docs[0].Name != "all" {
		t.Fatalf("session policies %+v", docs)
	}

	// Another node (a second view of the same bucket) verifies it too.
	other := openIAM(t, st, clock)
	if _, p2, err := other.LookupSession(creds.AccessKeyID, creds.SessionToken); err != nil || p2 != p {
		t.Fatalf("other node: %v %+v", err, p2)
	}

	tampered := []byte(creds.SessionToken)
	tampered[10] ^= 1
	for name, tc := range map[string]struct{ akid, token string }{
		"a tampered token":    {creds.AccessKeyID, string(tampered)},
		"another key's token": {"ASIAAAAAAAAAAAAAAAAA", creds.SessionToken},
		"not base64":          {creds.AccessKeyID, "%%%"},
		"a truncated token":   {creds.AccessKeyID, creds.SessionToken[:20]},
		"an empty token":      {creds.AccessKeyID, ""},
	} {
		if _, _, err := s.LookupSession(tc.akid, tc.token); !errors.Is(err, ErrSessionInvalid) {
			t.Errorf("%s: %v, want ErrSessionInvalid", name, err)
		}
	}

	// Revoking the tag is seen by the other node once its watcher has it.
	noErr(t, s.RevokeTag(ctx, "env-7"))
	if _, _, err := s.LookupSession(creds.AccessKeyID, creds.SessionToken); !errors.Is(err, ErrSessionRevoked) {
		t.Fatalf("after revoke: %v", err)
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		if _, _, err := other.LookupSession(creds.AccessKeyID, creds.SessionToken); !errors.Is(err, ErrSessionRevoked) {
			return errors.New("other node still accepts the revoked session")
		}
		return nil
	})
	noErr(t, s.RevokeTag(ctx, "env-7")) // again: replaces the record

	c2, err := s.IssueSession(role, "b", time.Hour)
	noErr(t, err)
	noErr(t, other.RevokeSession(ctx, c2.AccessKeyID))
	testutil.WaitFor(t, 5*time.Second, func() error {
		if _, _, err := s.LookupSession(c2.AccessKeyID, c2.SessionToken); !errors.Is(err, ErrSessionRevoked) {
			return errors.New("still accepted")
		}
		return nil
	})

	c3, err := s.IssueSession(role, "c", 15*time.Minute)
	noErr(t, err)
	clock.Add(15 * time.Minute)
	if _, _, err := s.LookupSession(c3.AccessKeyID, c3.SessionToken); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("expired session: %v", err)
	}

	// Users and roles written on one node appear on the other.
	_, err = other.CreateUser(ctx, "late", "", nil)
	noErr(t, err)
	testutil.WaitFor(t, 5*time.Second, func() error { _, err := s.GetUser("late"); return err })

	wantCode(t, s.DeleteRole(ctx, "fn-role"), "DeleteConflict", 409)
	noErr(t, s.DeleteInlinePolicy(ctx, EntityRole, "fn-role", "all"))
	noErr(t, s.DeleteRole(ctx, "fn-role"))
	if _, _, err := s.LookupSession(c3.AccessKeyID, c3.SessionToken); err == nil {
		t.Fatal("expired")
	}
}

func TestSigningKeySurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	st := storetest.Open(t, dir, testutil.Logger(t, 0))
	s := openIAM(t, st, nil)
	role, err := s.CreateRole(t.Context(), RoleInput{RoleName: "r", AssumeRolePolicyDocument: trustLambda})
	noErr(t, err)
	creds, err := s.IssueSession(role, "s", time.Hour)
	noErr(t, err)
	s2 := openIAM(t, st, nil)
	if _, _, err := s2.LookupSession(creds.AccessKeyID, creds.SessionToken); err != nil {
		t.Fatalf("a second store on the bucket refuses the first's session: %v", err)
	}
}

func TestKeyToken(t *testing.T) {
	for in, want := range map[string]string{"ci": "ci", "a.b": "a=2eb", "x+y@z,w=v": "x=2by=40z=2cw=3dv", "Env_1": "=45nv_1", "": "="} {
		if got := keyToken(in); got != want {
			t.Errorf("keyToken(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLookupOfAnEmptyNameIsNoSuchEntity: the store itself, below the API's
// parameter checks, answers a lookup of "" as not found, not as a store
// failure on the key "role.".
func TestLookupOfAnEmptyNameIsNoSuchEntity(t *testing.T) {
	s := openIAM(t, newTestStore(t), nil)
	err := s.PutInlinePolicy(t.Context(), EntityRole, "", "p", "{}")
	wantCode(t, err, "NoSuchEntity", 404)
}
