package registry

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/testutil"
)

// TestTwoRegistriesShareOneStore plays two nodes: writes on one show up
// in the other's Resolve, and concurrent writes from both all land.
func TestTwoRegistriesShareOneStore(t *testing.T) {
	st := newStore(t)
	a := newRegistry(t, st)
	b := newRegistry(t, st)
	ctx := t.Context()
	var mu sync.Mutex
	seenOnB := map[string]int{}
	b.Subscribe(func(fn string) {
		mu.Lock()
		seenOnB[fn]++
		mu.Unlock()
	})

	created := mustCreate(t, a, "shared")
	testutil.WaitFor(t, 5*time.Second, func() error {
		tg, err := b.Resolve("shared", "")
		if err != nil {
			return err
		}
		if tg.Version.RevisionID != created.RevisionID {
			return fmt.Errorf("b sees revision %s", tg.Version.RevisionID)
		}
		return nil
	})

	upd, err := a.UpdateFunctionConfiguration(ctx, "shared", &lambdaapi.UpdateFunctionConfigurationRequest{MemorySize: ptr(512)})
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		tg, err := b.Resolve("shared", "")
		if err != nil {
			return err
		}
		if tg.Version.RevisionID != upd.RevisionID || tg.Version.MemoryMB != 512 {
			return fmt.Errorf("b sees %s / %d MB", tg.Version.RevisionID, tg.Version.MemoryMB)
		}
		return nil
	})
	mu.Lock()
	if seenOnB["shared"] == 0 {
		t.Error("b's subscriber was not told about a's writes")
	}
	mu.Unlock()

	// b publishes and aliases; a resolves the alias.
	if _, err := b.PublishVersion(ctx, "shared", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateAlias(ctx, "shared", &lambdaapi.CreateAliasRequest{Name: "prod", FunctionVersion: "1"}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		tg, err := a.Resolve("shared:prod", "")
		if err != nil {
			return err
		}
		if tg.Version.Version != "1" {
			return fmt.Errorf("a resolves prod to %s", tg.Version.Version)
		}
		return nil
	})

	// Both write at once: compare-and-set retries, nothing is lost. An
	// update that finds another still in progress past SettleWait is
	// refused with Lambda's 409, as on AWS; nothing else may fail.
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		for _, r := range []*Registry{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := r.UpdateFunctionConfiguration(ctx, "shared", &lambdaapi.UpdateFunctionConfigurationRequest{Timeout: ptr(1 + i)})
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	succeeded := 0
	for err := range errs {
		switch {
		case err == nil:
			succeeded++
		case !lambdaerr.IsType(err, lambdaerr.TypeResourceConflict):
			t.Fatalf("concurrent update: %v", err)
		}
	}
	if succeeded == 0 {
		t.Fatal("no concurrent update succeeded")
	}
	final, err := a.readFunction(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		for _, r := range []*Registry{a, b} {
			tg, err := r.Resolve("shared", "")
			if err != nil {
				return err
			}
			if tg.Version.RevisionID != final.Config.RevisionID {
				return errors.New("views disagree with the bucket")
			}
		}
		return nil
	})

	// Concurrent publishes from both nodes never share a number.
	versions := make(chan string, 10)
	for i := range 5 {
		for _, r := range []*Registry{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				desc := fmt.Sprintf("d%d", i)
				_, err := r.UpdateFunctionConfiguration(ctx, "shared", &lambdaapi.UpdateFunctionConfigurationRequest{Description: &desc})
				if err != nil && !lambdaerr.IsType(err, lambdaerr.TypeResourceConflict) {
					t.Error(err)
					return
				}
				v, err := r.PublishVersion(ctx, "shared", nil)
				if lambdaerr.IsType(err, lambdaerr.TypeResourceConflict) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				versions <- v.Version + "/" + v.RevisionID
			}()
		}
	}
	wg.Wait()
	close(versions)
	seen := map[string]string{}
	for v := range versions {
		num, rev, _ := cut(v)
		if prev, ok := seen[num]; ok && prev != rev {
			t.Fatalf("version %s published twice with different snapshots", num)
		}
		seen[num] = rev
	}

	// b deletes; a stops resolving.
	if err := b.DeleteFunction(ctx, "shared", ""); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		if _, err := a.Resolve("shared", ""); err == nil {
			return errors.New("a still resolves shared")
		}
		if _, err := a.Resolve("shared:prod", ""); err == nil {
			return errors.New("a still resolves shared:prod")
		}
		return nil
	})
}

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
