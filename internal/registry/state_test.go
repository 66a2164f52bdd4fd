package registry

import (
	"fmt"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/store"
	"github.com/updraft/updraft/internal/testutil"
)

// newRegistryWith opens a registry on st with cfg's state settings.
func newRegistryWith(t testing.TB, st *store.Store, cfg Config) *Registry {
	t.Helper()
	cfg.Region, cfg.AccountID, cfg.CodeCacheDir = testRegion, testAccount, t.TempDir()
	r, err := New(t.Context(), st, cfg, testLogger(t))
	if err != nil {
		t.Fatalf("registry.New: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// waitState waits until name's $LATEST shows state and lastUpdate.
func waitState(t testing.TB, r *Registry, name, qualifier, state, lastUpdate string) {
	t.Helper()
	testutil.WaitFor(t, 5*time.Second, func() error {
		fc, err := r.GetFunctionConfiguration(t.Context(), name, qualifier)
		if err != nil {
			return err
		}
		if fc.State != state || fc.LastUpdateStatus != lastUpdate {
			return fmt.Errorf("state %s/%s, want %s/%s", fc.State, fc.LastUpdateStatus, state, lastUpdate)
		}
		return nil
	})
}

func wantConflict(t testing.TB, err error, msg string) {
	t.Helper()
	if e := wantType(t, err, lambdaerr.TypeResourceConflict); e.Message != msg {
		t.Fatalf("message %q, want %q", e.Message, msg)
	}
}

const (
	msgPending = "The operation cannot be performed at this time. The function is currently in the following state: Pending"
	msgUpdate  = "The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:000000000000:function:"
)

func TestCreatedFunctionIsPendingThenActiveWithItsCodeUnpacked(t *testing.T) {
	r := newRegistryWith(t, newStore(t), Config{})
	req := createReq(t, "fresh")
	req.Publish = true
	v1, err := r.CreateFunction(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if v1.Version != "1" || v1.State != "Pending" || v1.StateReasonCode != "Creating" || v1.LastUpdateStatus != "" {
		t.Fatalf("create --publish answered version %s %s/%s (%s)", v1.Version, v1.State, v1.LastUpdateStatus, v1.StateReasonCode)
	}
	waitState(t, r, "fresh", "", "Active", "Successful")
	waitState(t, r, "fresh", "1", "Active", "Successful")
	if r.unpacks.Load() == 0 {
		t.Fatal("the code was not unpacked before the function became Active")
	}
	fc, _ := r.GetFunctionConfiguration(t.Context(), "fresh", "")
	if fc.StateReason != "" || fc.StateReasonCode != "" || fc.LastUpdateStatusReason != "" {
		t.Fatalf("settled function keeps reasons: %+v", fc)
	}

	// An update is InProgress, then Successful; a script that updates
	// twice in a row waits for the first instead of failing.
	up, err := r.UpdateFunctionConfiguration(t.Context(), "fresh", &lambdaapi.UpdateFunctionConfigurationRequest{Timeout: ptr(7)})
	if err != nil {
		t.Fatal(err)
	}
	if up.State != "Active" || up.LastUpdateStatus != "InProgress" || up.LastUpdateStatusReason != "The function is being created." || up.LastUpdateStatusReasonCode != "Creating" {
		t.Fatalf("update answered %+v", up)
	}
	if _, err := r.UpdateFunctionCode(t.Context(), "fresh", &lambdaapi.UpdateFunctionCodeRequest{ZipFile: helloZip(t, "two")}); err != nil {
		t.Fatalf("second update right after the first: %v", err)
	}
	waitState(t, r, "fresh", "", "Active", "Successful")
	tg, err := r.Resolve("fresh", "")
	if err != nil || tg.Version.Timeout != 7*time.Second || tg.Version.Updating {
		t.Fatalf("settled $LATEST resolves to %+v, %v", tg, err)
	}
}

func TestHeldPendingFunctionRefusesInvokesAndUpdates(t *testing.T) {
	r := newRegistryWith(t, newStore(t), Config{HoldStates: true, SettleWait: 50 * time.Millisecond})
	req := createReq(t, "held")
	req.Description = "kept Pending " + HoldStateMarker
	if _, err := r.CreateFunction(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // a settle, if one ran, is long done
	waitState(t, r, "held", "", "Pending", "")

	tg, err := r.Resolve("held", "")
	if err != nil || !tg.Version.Pending {
		t.Fatalf("Resolve = %+v, %v; want the Pending version", tg, err)
	}
	_, err = r.ResolveSettled(t.Context(), "held", "")
	wantConflict(t, err, msgPending)
	_, err = r.UpdateFunctionCode(t.Context(), "held", &lambdaapi.UpdateFunctionCodeRequest{ZipFile: helloZip(t, "x")})
	wantConflict(t, err, msgPending)
	_, err = r.UpdateFunctionConfiguration(t.Context(), "held", &lambdaapi.UpdateFunctionConfigurationRequest{Timeout: ptr(5)})
	wantConflict(t, err, msgPending)
	_, err = r.PublishVersion(t.Context(), "held", nil)
	wantConflict(t, err, msgPending)
	if err := r.DeleteFunction(t.Context(), "held", ""); err != nil {
		t.Fatalf("delete a Pending function: %v", err)
	}
}

func TestHeldUpdateRunsThePreviousConfigurationAndRefusesUpdates(t *testing.T) {
	r := newRegistryWith(t, newStore(t), Config{HoldStates: true, SettleWait: 50 * time.Millisecond})
	if _, err := r.CreateFunction(t.Context(), createReq(t, "upd")); err != nil {
		t.Fatal(err)
	}
	waitState(t, r, "upd", "", "Active", "Successful")
	_, err := r.UpdateFunctionConfiguration(t.Context(), "upd", &lambdaapi.UpdateFunctionConfigurationRequest{
		Timeout: ptr(9), Description: ptr(HoldStateMarker),
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	waitState(t, r, "upd", "", "Active", "InProgress")

	tg, err := r.ResolveSettled(t.Context(), "upd", "")
	if err != nil || tg.Version.Timeout != 3*time.Second || !tg.Version.Updating {
		t.Fatalf("invoke during the update resolves to %+v, %v; want the previous configuration", tg, err)
	}
	_, err = r.UpdateFunctionCode(t.Context(), "upd", &lambdaapi.UpdateFunctionCodeRequest{ZipFile: helloZip(t, "y")})
	wantConflict(t, err, msgUpdate+"upd")
	_, err = r.PublishVersion(t.Context(), "upd", nil)
	wantConflict(t, err, msgUpdate+"upd")
}

// A node that sees a function unsettled for longer than SettleStale
// settles it: here the writer holds it (as a writer that died would).
func TestAnotherNodeSettlesAStaleFunction(t *testing.T) {
	st := newStore(t)
	writer := newRegistryWith(t, st, Config{HoldStates: true})
	other := newRegistryWith(t, st, Config{SettleStale: 100 * time.Millisecond})
	req := createReq(t, "orphan")
	req.Description = HoldStateMarker
	if _, err := writer.CreateFunction(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	waitState(t, writer, "orphan", "", "Active", "Successful")
	if other.unpacks.Load() == 0 {
		t.Fatal("the settling node did not unpack the code")
	}
}
