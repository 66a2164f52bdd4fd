package iam

import (
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/awsquery"
	"github.com/updraft/updraft/internal/store"
	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

const (
	testAccount   = "000000000000"
	testRootKey   = "AKIAROOTROOTROOTROOT"
	testRootSec   = "rootsecretrootsecretrootsecretrootsecret"
	lambdaBasic   = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
	allowAll      = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	trustLambda   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	basicExecJSON = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`
)

// fakeCatalogue is a one-policy AWS managed catalogue.
type fakeCatalogue struct{}

func (fakeCatalogue) Policy(arn string) (AWSPolicy, bool) {
	if arn != lambdaBasic {
		return AWSPolicy{}, false
	}
	return AWSPolicy{ARN: lambdaBasic, Name: "AWSLambdaBasicExecutionRole", Path: "/service-role/", PolicyID: "ANPAJNCQGXC42545SKXIK",
		Document: basicExecJSON, VersionID: "v1"}, true
}

func (c fakeCatalogue) Policies() []AWSPolicy {
	p, _ := c.Policy(lambdaBasic)
	return []AWSPolicy{p}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// jsonValidator is the fake policy validator: JSON objects only, with a
// message a client could read.
func jsonValidator(_ PolicyKind, doc string) error {
	var v map[string]any
	if json.Unmarshal([]byte(doc), &v) != nil {
		return errors.New("Syntax errors in policy.")
	}
	return nil
}

func newTestStore(t testing.TB) *store.Store {
	t.Helper()
	return storetest.Open(t, t.TempDir(), testutil.Logger(t, slog.LevelInfo))
}

// openIAM opens an identity store on st (another call on the same st is
// another node's view of the same bucket).
func openIAM(t testing.TB, st *store.Store, clock *fakeClock) *Store {
	t.Helper()
	deps := Deps{Logger: testutil.Logger(t, slog.LevelInfo), Validate: jsonValidator, AWSPolicies: fakeCatalogue{}}
	if clock != nil {
		deps.Now = clock.Now
	}
	s, err := New(t.Context(), st.IAM(), Config{AccountID: testAccount, RootAccessKeyID: testRootKey, RootSecretAccessKey: testRootSec}, deps)
	if err != nil {
		t.Fatalf("iam.New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// wantCode fails unless err is an *awsquery.Error with code and status.
func wantCode(t testing.TB, err error, code string, status int) *awsquery.Error {
	t.Helper()
	e, ok := awsquery.As(err)
	if !ok || e.Code != code || e.Status != status {
		t.Fatalf("got %v, want %s (%d)", err, code, status)
	}
	return e
}

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
