package fnpolicy

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/iam/policy"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/registry"
	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

// TestMain fails the package if the watcher outlives Close.
func TestMain(m *testing.M) {
	os.Exit(testutil.RunCheckingLeaks(m, 5*time.Second, func(stack string) bool {
		return strings.Contains(stack, "created by github.com/updraft/updraft/internal/fnpolicy.") &&
			!strings.Contains(stack, "_test.go")
	}))
}

// fakeFunctions knows function f with version 1 and alias prod, as the
// registry would resolve them.
type fakeFunctions struct{}

func (fakeFunctions) Resolve(name, qualifier string) (*registry.Target, error) {
	ref, err := registry.ParseFunctionName(name)
	if err != nil {
		return nil, err
	}
	if ref.Qualifier != "" {
		qualifier = ref.Qualifier
	}
	base := "arn:aws:lambda:us-east-1:123456789012:function:" + ref.Name
	if ref.Name != "f" {
		return nil, lambdaerr.ResourceNotFound("Function not found: %s", base)
	}
	v := &registry.Version{FunctionName: ref.Name, FunctionARN: base}
	switch qualifier {
	case "":
		return &registry.Target{Version: v, InvokedARN: base}, nil
	case "$LATEST", "1", "prod":
		return &registry.Target{Version: v, InvokedARN: base + ":" + qualifier}, nil
	}
	return nil, lambdaerr.ResourceNotFound("Function not found: %s:%s", base, qualifier)
}

func newService(t *testing.T, dir string) *Service {
	t.Helper()
	logger := testutil.Logger(t, slog.LevelInfo)
	st := storetest.Open(t, dir, logger)
	s, err := New(t.Context(), Config{Replicas: 1}, Deps{JetStream: st.JetStream(), Functions: fakeFunctions{}, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func wantType(t *testing.T, err error, typ, message string) {
	t.Helper()
	le, ok := lambdaerr.As(err)
	if !ok || le.Type != typ || (message != "" && le.Message != message) {
		t.Fatalf("err = %v, want %s %q", err, typ, message)
	}
}

func TestAddGetRemoveRoundTrip(t *testing.T) {
	ctx := t.Context()
	s := newService(t, t.TempDir())

	_, err := s.GetPolicy(ctx, "f", "")
	wantType(t, err, lambdaerr.TypeResourceNotFound, "The resource you requested does not exist.")
	if _, _, ok := s.PolicyFor("f", ""); ok {
		t.Fatal("PolicyFor found a policy before any was added")
	}
	gen0 := s.Generation()

	out, err := s.AddPermission(ctx, "f", "", req("s1", "lambda:InvokeFunction", "123456789012"))
	if err != nil {
		t.Fatal(err)
	}
	wantStmt := `{"Sid":"s1","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f"}`
	if out.Statement != wantStmt {
		t.Fatalf("Statement = %s", out.Statement)
	}
	got, err := s.GetPolicy(ctx, "f", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Version":"2012-10-17","Id":"default","Statement":[` + wantStmt + `]}`; got.Policy != want || got.RevisionId == "" {
		t.Fatalf("GetPolicy = %+v", got)
	}
	if _, err := policy.Parse(policy.Resource, got.Policy); err != nil {
		t.Fatalf("stored policy does not parse: %v", err)
	}
	for _, q := range []string{"", "$LATEST"} {
		doc, digest, ok := s.PolicyFor("f", q)
		if !ok || doc != got.Policy || digest == [32]byte{} {
			t.Fatalf("PolicyFor(f, %q) = %q, %x, %v", q, doc, digest, ok)
		}
	}
	if _, _, ok := s.PolicyFor("f", "prod"); ok {
		t.Fatal("the unqualified policy applies to the alias")
	}
	if s.Generation() == gen0 {
		t.Fatal("Generation did not change")
	}

	_, err = s.AddPermission(ctx, "f", "", req("s1", "lambda:InvokeFunction", "*"))
	wantType(t, err, lambdaerr.TypeResourceConflict, "The statement id (s1) provided already exists. Please provide a new statement id, or remove the existing statement.")

	// A stale RevisionId is refused; the current one is accepted.
	stale := req("s2", "lambda:InvokeFunction", "s3.amazonaws.com")
	stale.RevisionId = "nope"
	_, err = s.AddPermission(ctx, "f", "", stale)
	wantType(t, err, lambdaerr.TypePreconditionFailed, "")
	stale.RevisionId = got.RevisionId
	if _, err := s.AddPermission(ctx, "f", "", stale); err != nil {
		t.Fatal(err)
	}
	err = s.RemovePermission(ctx, "f", "", "s1", got.RevisionId)
	wantType(t, err, lambdaerr.TypePreconditionFailed, "")

	err = s.RemovePermission(ctx, "f", "", "nope", "")
	wantType(t, err, lambdaerr.TypeResourceNotFound, "Statement nope is not found in resource policy.")
	if err := s.RemovePermission(ctx, "f", "", "s1", ""); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetPolicy(ctx, "f", "")
	if strings.Contains(got.Policy, `"s1"`) || !strings.Contains(got.Policy, `"s2"`) {
		t.Fatalf("after removing s1: %s", got.Policy)
	}
	if err := s.RemovePermission(ctx, "f", "", "s2", ""); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetPolicy(ctx, "f", "")
	wantType(t, err, lambdaerr.TypeResourceNotFound, "The resource you requested does not exist.")
	err = s.RemovePermission(ctx, "f", "", "s2", "")
	wantType(t, err, lambdaerr.TypeResourceNotFound, "No policy is associated with the given resource.")
	if _, _, ok := s.PolicyFor("f", ""); ok {
		t.Fatal("PolicyFor still finds the removed policy")
	}
}

func TestQualifiedPoliciesAreSeparate(t *testing.T) {
	ctx := t.Context()
	s := newService(t, t.TempDir())
	out, err := s.AddPermission(ctx, "f", "prod", req("p", "lambda:InvokeFunction", "events.amazonaws.com"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Statement, `"Resource":"arn:aws:lambda:us-east-1:123456789012:function:f:prod"`) {
		t.Fatalf("Statement = %s", out.Statement)
	}
	// The qualifier may also come embedded in the name.
	if _, err := s.AddPermission(ctx, "f:1", "", req("v", "lambda:InvokeFunction", "*")); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetPolicy(ctx, "f", "")
	wantType(t, err, lambdaerr.TypeResourceNotFound, "The resource you requested does not exist.")
	if doc, _, ok := s.PolicyFor("f", "prod"); !ok || !strings.Contains(doc, `"Sid":"p"`) {
		t.Fatalf("PolicyFor(f, prod) = %q, %v", doc, ok)
	}
	if doc, _, ok := s.PolicyFor("f", "1"); !ok || !strings.Contains(doc, `"Sid":"v"`) || strings.Contains(doc, `"Sid":"p"`) {
		t.Fatalf("PolicyFor(f, 1) = %q, %v", doc, ok)
	}

	_, err = s.AddPermission(ctx, "f", "$LATEST", req("l", "lambda:InvokeFunction", "*"))
	wantType(t, err, lambdaerr.TypeInvalidParameterValue, "We currently do not support adding policies for $LATEST.")
	_, err = s.AddPermission(ctx, "f", "9", req("x", "lambda:InvokeFunction", "*"))
	wantType(t, err, lambdaerr.TypeResourceNotFound, "Function not found: arn:aws:lambda:us-east-1:123456789012:function:f:9")
	_, err = s.GetPolicy(ctx, "g", "")
	wantType(t, err, lambdaerr.TypeResourceNotFound, "Function not found: arn:aws:lambda:us-east-1:123456789012:function:g")

	// Forgetting a qualifier drops its policy only; forgetting the
	// function drops the rest.
	if _, err := s.AddPermission(ctx, "f", "", req("u", "lambda:InvokeFunction", "*")); err != nil {
		t.Fatal(err)
	}
	if err := s.Forget(ctx, "f", "1"); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := s.PolicyFor("f", "1"); ok {
		t.Fatal("version 1's policy survived Forget")
	}
	if _, _, ok := s.PolicyFor("f", "prod"); !ok {
		t.Fatal("Forget of version 1 dropped the alias's policy")
	}
	if err := s.Forget(ctx, "f", ""); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"", "prod"} {
		if _, _, ok := s.PolicyFor("f", q); ok {
			t.Fatalf("policy of %q survived Forget", q)
		}
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	ctx := t.Context()
	s := newService(t, t.TempDir())
	if _, err := s.AddPermission(ctx, "f", "", req("ok", "lambda:InvokeFunction", "*")); err != nil {
		t.Fatal(err)
	}
	before, _ := s.GetPolicy(ctx, "f", "")
	gen := s.Generation()
	for _, r := range []*AddPermissionRequest{
		req("bad id", "lambda:InvokeFunction", "*"),
		req("x", "sqs:SendMessage", "*"),
		req("x", "lambda:InvokeFunction", "nobody"),
	} {
		if _, err := s.AddPermission(ctx, "f", "", r); err == nil {
			t.Fatalf("AddPermission(%+v) succeeded", r)
		}
	}
	err := s.RemovePermission(ctx, "f", "", "bad/id", "")
	wantType(t, err, lambdaerr.TypeValidation, "")
	after, _ := s.GetPolicy(ctx, "f", "")
	if *after != *before || s.Generation() != gen {
		t.Fatalf("policy changed: %+v -> %+v", before, after)
	}
}

func TestAnotherNodeSeesChangesAndARestartKeepsThem(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	logger := testutil.Logger(t, slog.LevelInfo)
	st := storetest.Open(t, dir, logger)
	open := func() *Service {
		s, err := New(ctx, Config{Replicas: 1}, Deps{JetStream: st.JetStream(), Functions: fakeFunctions{}, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, b := open(), open()
	if _, err := a.AddPermission(ctx, "f", "", req("s1", "lambda:InvokeFunction", "*")); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		if _, _, ok := b.PolicyFor("f", ""); !ok {
			return errors.New("b has not seen a's permission")
		}
		return nil
	})
	if err := b.RemovePermission(ctx, "f", "", "s1", ""); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		if _, _, ok := a.PolicyFor("f", ""); ok {
			return errors.New("a still sees the removed policy")
		}
		return nil
	})
	if _, err := a.AddPermission(ctx, "f", "prod", req("s2", "lambda:InvokeFunction", "*")); err != nil {
		t.Fatal(err)
	}
	c := open()
	if doc, _, ok := c.PolicyFor("f", "prod"); !ok || !strings.Contains(doc, `"s2"`) {
		t.Fatalf("a new service does not load the stored policy: %q %v", doc, ok)
	}
}

func TestConcurrentAddsAllLand(t *testing.T) {
	ctx := context.Background()
	s := newService(t, t.TempDir())
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.AddPermission(ctx, "f", "", req("s"+string(rune('a'+i)), "lambda:InvokeFunction", "*"))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetPolicy(ctx, "f", "")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Statement []json.RawMessage }
	if err := json.Unmarshal([]byte(got.Policy), &doc); err != nil || len(doc.Statement) != 8 {
		t.Fatalf("policy has %d statements (%v): %s", len(doc.Statement), err, got.Policy)
	}
}

func TestPolicyForDoesNotAllocate(t *testing.T) {
	s := newService(t, t.TempDir())
	if _, err := s.AddPermission(t.Context(), "f", "", req("s1", "lambda:InvokeFunction", "*")); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, ok := s.PolicyFor("f", "$LATEST"); !ok {
			t.Fatal("no policy")
		}
		_, _, _ = s.PolicyFor("f", "prod")
		_ = s.Generation()
	})
	if allocs != 0 {
		t.Fatalf("PolicyFor allocates %.1f times a call", allocs)
	}
}
