package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/store"
	"github.com/updraft/updraft/internal/testutil"
)

// testGrace is the pruning grace of these tests: the reclaimer then runs
// every 250 ms.
const testGrace = 500 * time.Millisecond

// newReclaimingRegistry opens a registry on st whose zips are pruned
// after grace.
func newReclaimingRegistry(t *testing.T, st *store.Store, grace time.Duration) *Registry {
	t.Helper()
	r, err := New(t.Context(), st, Config{Region: testRegion, AccountID: testAccount, CodeCacheDir: t.TempDir(), PruneGrace: grace}, testLogger(t))
	if err != nil {
		t.Fatalf("registry.New: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// shaOf returns the hex sha256 of a function's or version's code.
func shaOf(t *testing.T, r *Registry, name, qualifier string) string {
	t.Helper()
	tg, err := r.Resolve(name, qualifier)
	if err != nil {
		t.Fatalf("Resolve %s:%s: %v", name, qualifier, err)
	}
	return tg.Version.CodeSha256Hex
}

// afterSweep waits until the reclaimer has swept the directories at least
// once more after this call.
func afterSweep(t *testing.T, r *Registry) {
	t.Helper()
	n := r.sweeps.Load()
	r.kickReclaim()
	testutil.WaitFor(t, 5*time.Second, func() error {
		if r.sweeps.Load() < n+2 { // the one in progress may have begun before the call
			return errors.New("no sweep yet")
		}
		return nil
	})
}

func wantDir(t *testing.T, dir string, exists bool) {
	t.Helper()
	_, err := os.Stat(dir)
	if exists && err != nil {
		t.Fatalf("%s should still exist: %v", dir, err)
	}
	if !exists && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s should be gone: %v", dir, err)
	}
}

func waitDirGone(t *testing.T, dir string) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, func() error {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s still there (%v)", dir, err)
		}
		return nil
	})
}

// blobExists reports whether the object store holds the zip sha.
func blobExists(t *testing.T, r *Registry, sha string) bool {
	t.Helper()
	_, err := r.code.GetInfo(t.Context(), sha)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return false
	}
	if err != nil {
		t.Fatalf("GetInfo %s: %v", sha, err)
	}
	return true
}

func waitBlobGone(t *testing.T, r *Registry, sha string) {
	t.Helper()
	testutil.WaitFor(t, 10*time.Second, func() error {
		if blobExists(t, r, sha) {
			return fmt.Errorf("zip %s still stored", sha)
		}
		return nil
	})
}

// TestDeletedFunctionsCodeIsReclaimed follows one function's code from
// deployment to deletion: its unpacked directory outlives the function
// while an environment holds it, then goes; its zip goes after the grace,
// and the byte counts follow.
func TestDeletedFunctionsCodeIsReclaimed(t *testing.T) {
	r := newReclaimingRegistry(t, newStore(t), testGrace)
	ctx := t.Context()
	mustCreate(t, r, "doomed")
	sha := shaOf(t, r, "doomed", "")
	dir, err := r.CodeDir(ctx, sha)
	if err != nil {
		t.Fatalf("CodeDir: %v", err)
	}
	testutil.WaitFor(t, 5*time.Second, func() error {
		if s := r.StorageStats(); s.UnpackedDirs != 1 || s.UnpackedBytes == 0 || s.Blobs != 1 || s.BlobBytes == 0 {
			return fmt.Errorf("stats %+v, want one directory and one zip counted", s)
		}
		return nil
	})

	if err := r.DeleteFunction(ctx, "doomed", ""); err != nil {
		t.Fatalf("DeleteFunction: %v", err)
	}
	afterSweep(t, r)
	wantDir(t, dir, true) // an environment still runs from it
	r.ReleaseDir(dir)
	waitDirGone(t, dir)
	waitBlobGone(t, r, sha)
	testutil.WaitFor(t, 5*time.Second, func() error {
		s := r.StorageStats()
		if s.UnpackedDirs != 0 || s.UnpackedBytes != 0 || s.Blobs != 0 || s.BlobBytes != 0 || s.ReclaimedUnpackedBytes == 0 || s.ReclaimedBlobBytes == 0 {
			return fmt.Errorf("stats %+v, want nothing held and both reclaimed", s)
		}
		return nil
	})
	if _, err := r.holds.Get(ctx, sha); !errors.Is(err, jetstream.ErrKeyNotFound) && !errors.Is(err, jetstream.ErrKeyDeleted) {
		t.Fatalf("the pruned zip's mark is still there: %v", err)
	}

	// The same bytes deployed again are stored and unpacked anew.
	mustCreate(t, r, "doomed")
	if !blobExists(t, r, sha) {
		t.Fatal("re-created function's zip is not stored")
	}
	again, err := r.CodeDir(ctx, sha)
	if err != nil || again != dir {
		t.Fatalf("CodeDir after re-create = %q, %v", again, err)
	}
	r.ReleaseDir(again)
}

// TestReferencedCodeSurvives deletes one of two functions with the same
// code, and a version whose code $LATEST left: what something still
// references stays, on disk and in the store, past the grace.
func TestReferencedCodeSurvives(t *testing.T) {
	r := newReclaimingRegistry(t, newStore(t), testGrace)
	ctx := t.Context()
	zip := helloZip(t, "shared")
	for _, name := range []string{"one", "two"} {
		req := createReq(t, name)
		req.Code.ZipFile = zip
		if _, err := r.CreateFunction(ctx, req); err != nil {
			t.Fatalf("CreateFunction %s: %v", name, err)
		}
	}
	shared := shaOf(t, r, "one", "")
	dir, err := r.CodeDir(ctx, shared)
	if err != nil {
		t.Fatal(err)
	}
	r.ReleaseDir(dir)

	// Version 1 of "pub" keeps its code when $LATEST moves on.
	mustCreate(t, r, "pub")
	if _, err := r.PublishVersion(ctx, "pub", &lambdaapi.PublishVersionRequest{}); err != nil {
		t.Fatalf("PublishVersion: %v", err)
	}
	v1 := shaOf(t, r, "pub", "1")
	v1Dir, err := r.CodeDir(ctx, v1)
	if err != nil {
		t.Fatal(err)
	}
	r.ReleaseDir(v1Dir)
	if _, err := r.UpdateFunctionCode(ctx, "pub", &lambdaapi.UpdateFunctionCodeRequest{ZipFile: helloZip(t, "pub v2")}); err != nil {
		t.Fatalf("UpdateFunctionCode: %v", err)
	}

	// A third function, deleted, proves that the pruner ran past the grace.
	mustCreate(t, r, "witness")
	witness := shaOf(t, r, "witness", "")
	if err := r.DeleteFunction(ctx, "one", ""); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteFunction(ctx, "witness", ""); err != nil {
		t.Fatal(err)
	}
	waitBlobGone(t, r, witness)
	afterSweep(t, r)
	for _, sha := range []string{shared, v1} {
		if !blobExists(t, r, sha) {
			t.Fatalf("zip %s, still referenced, was pruned", sha)
		}
	}
	wantDir(t, dir, true)
	wantDir(t, v1Dir, true)

	// Deleting version 1 lets its code go.
	if err := r.DeleteFunction(ctx, "pub", "1"); err != nil {
		t.Fatalf("delete version 1: %v", err)
	}
	waitDirGone(t, v1Dir)
	waitBlobGone(t, r, v1)
	wantDir(t, dir, true)
}

// TestUpdateFunctionCodeReclaimsOldCode replaces $LATEST's code: the old
// directory goes once the environment running it releases it.
func TestUpdateFunctionCodeReclaimsOldCode(t *testing.T) {
	r := newReclaimingRegistry(t, newStore(t), testGrace)
	ctx := t.Context()
	mustCreate(t, r, "fn")
	old := shaOf(t, r, "fn", "")
	oldDir, err := r.CodeDir(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.UpdateFunctionCode(ctx, "fn", &lambdaapi.UpdateFunctionCodeRequest{ZipFile: helloZip(t, "v2")}); err != nil {
		t.Fatal(err)
	}
	newDir, err := r.CodeDir(ctx, shaOf(t, r, "fn", ""))
	if err != nil {
		t.Fatal(err)
	}
	afterSweep(t, r)
	wantDir(t, oldDir, true)
	r.ReleaseDir(oldDir)
	waitDirGone(t, oldDir)
	waitBlobGone(t, r, old)
	r.ReleaseDir(newDir)
	afterSweep(t, r)
	wantDir(t, newDir, true) // $LATEST needs it
}

// TestDeletedLayersAreReclaimed removes a function with a layer and the
// layer version: the layer's unpacked and merged directories go, then
// its zip.
func TestDeletedLayersAreReclaimed(t *testing.T) {
	r := newReclaimingRegistry(t, newStore(t), testGrace)
	ctx := t.Context()
	lv := publishLayer(t, r, "lib", makeZip(t, zentry{name: "lib/x.txt", body: "layer"}))
	req := createReq(t, "fn")
	req.Layers = []string{lv.LayerVersionArn}
	if _, err := r.CreateFunction(ctx, req); err != nil {
		t.Fatal(err)
	}
	tg, err := r.Resolve("fn", "")
	if err != nil {
		t.Fatal(err)
	}
	layerSha := tg.Version.LayerSha256Hex[0]
	opt, err := r.OptDir(ctx, tg.Version)
	if err != nil {
		t.Fatal(err)
	}
	layerDir := filepath.Join(r.cfg.CodeCacheDir, layerSha)
	wantDir(t, layerDir, true)

	// The function pins the layer: deleting the version alone keeps all.
	if err := r.DeleteLayerVersion(ctx, "lib", lv.Version); err != nil {
		t.Fatal(err)
	}
	afterSweep(t, r)
	wantDir(t, opt, true)
	wantDir(t, layerDir, true)
	if err := r.DeleteFunction(ctx, "fn", ""); err != nil {
		t.Fatal(err)
	}
	waitDirGone(t, layerDir) // nothing holds the layer's own directory
	wantDir(t, opt, true)    // the environment's /opt
	r.ReleaseDir(opt)
	waitDirGone(t, opt)
	waitBlobGone(t, r, layerSha)
}

// TestUploadWaitsForAPruneInProgress plays a pruner that has marked a zip
// for deletion on another node: an upload of the same bytes waits, and
// once the zip is deleted stores it again, so the new function's code is
// never missing. A fresh upload's mark in turn keeps pruners off.
func TestUploadWaitsForAPruneInProgress(t *testing.T) {
	r := newReclaimingRegistry(t, newStore(t), time.Hour) // the reclaimer stays out of the way
	ctx := t.Context()
	mustCreate(t, r, "first")
	sha := shaOf(t, r, "first", "")
	if err := r.DeleteFunction(ctx, "first", ""); err != nil {
		t.Fatal(err)
	}
	e, err := r.holds.Get(ctx, sha)
	if err != nil || string(e.Value()) != holdUsed {
		t.Fatalf("the upload's mark = %v, %v; want %q", e, err, holdUsed)
	}
	if ok, err := r.pruneBlob(ctx, sha, time.Minute); ok || err != nil {
		t.Fatalf("pruneBlob of a zip uploaded a moment ago = %v, %v; want false", ok, err)
	}
	rev, err := r.holds.Update(ctx, sha, []byte(holdDeleting), e.Revision())
	if err != nil {
		t.Fatal(err)
	}

	created := make(chan error, 1)
	go func() {
		req := createReq(t, "second")
		req.Code.ZipFile = helloZip(t, "first") // the same bytes
		_, err := r.CreateFunction(ctx, req)
		created <- err
	}()
	select {
	case err := <-created:
		t.Fatalf("CreateFunction finished (%v) while the zip was being pruned", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := r.code.Delete(ctx, sha); err != nil {
		t.Fatal(err)
	}
	if err := r.holds.Delete(ctx, sha, jetstream.LastRevision(rev)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-created:
		if err != nil {
			t.Fatalf("CreateFunction: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("CreateFunction still waits after the prune ended")
	}
	if !blobExists(t, r, sha) {
		t.Fatal("the new function's zip is missing")
	}
	if shaOf(t, r, "second", "") != sha {
		t.Fatal("second function has other code")
	}
}

// TestTwoNodesPruneOneZipOnce has two registries on one store race to
// prune the same zip: exactly one deletes it.
func TestTwoNodesPruneOneZipOnce(t *testing.T) {
	st := newStore(t)
	a := newReclaimingRegistry(t, st, time.Hour)
	b := newReclaimingRegistry(t, st, time.Hour)
	ctx := t.Context()
	for round := range 5 {
		name := fmt.Sprintf("fn%d", round)
		mustCreate(t, a, name)
		sha := shaOf(t, a, name, "")
		if err := a.DeleteFunction(ctx, name, ""); err != nil {
			t.Fatal(err)
		}
		testutil.WaitFor(t, 5*time.Second, func() error {
			if _, err := b.Resolve(name, ""); err == nil {
				return errors.New("b still sees the function")
			}
			return nil
		})
		// A grace the upload's mark is older than: both may now prune.
		var wg sync.WaitGroup
		results := make([]bool, 2)
		errs := make([]error, 2)
		for i, r := range []*Registry{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = r.pruneBlob(ctx, sha, time.Nanosecond)
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("round %d: pruneBlob errors %v", round, errs)
		}
		if results[0] == results[1] {
			t.Fatalf("round %d: pruneBlob results %v, want exactly one deletion", round, results)
		}
		if blobExists(t, a, sha) {
			t.Fatalf("round %d: zip still stored", round)
		}
	}
}

// TestZipsStoredBeforeTheIndexArePruned stores a zip the way a server
// without the code index did (straight into the object store, with no
// index entry and no index marked filled): the first pass enters it, and
// being unreferenced it goes after the grace. An index entry whose zip
// was never stored (an upload that died between the two) is dropped.
func TestZipsStoredBeforeTheIndexArePruned(t *testing.T) {
	st := newStore(t)
	ctx := t.Context()
	old := []byte("a zip from before the index")
	oldSum := sha256.Sum256(old)
	oldSha := hex.EncodeToString(oldSum[:])
	if _, err := st.Code().PutBytes(ctx, oldSha, old); err != nil {
		t.Fatal(err)
	}
	// Old enough to be pruned once seen unreferenced for a grace.
	time.Sleep(testGrace)
	stray := strings.Repeat("ab", 32)
	r := newReclaimingRegistry(t, st, testGrace)
	if err := r.indexCode(ctx, stray, 10); err != nil {
		t.Fatal(err)
	}
	waitBlobGone(t, r, oldSha)
	testutil.WaitFor(t, 10*time.Second, func() error {
		index, err := r.indexedCode(ctx)
		if err != nil {
			return err
		}
		if len(index) != 0 {
			return fmt.Errorf("index still holds %v", index)
		}
		return nil
	})
	if _, err := st.CodeIndex().Get(ctx, indexBackfilledKey); err != nil {
		t.Fatalf("index not marked filled: %v", err)
	}
}

// TestIndexListsStoredZips checks that an upload enters its zip in the
// code index with its size, so the pruner sees it without listing the
// object store.
func TestIndexListsStoredZips(t *testing.T) {
	st := newStore(t)
	r := newReclaimingRegistry(t, st, time.Hour)
	mustCreate(t, r, "indexed")
	sha := shaOf(t, r, "indexed", "")
	info, err := st.Code().GetInfo(t.Context(), sha)
	if err != nil {
		t.Fatal(err)
	}
	index, err := r.indexedCode(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := index[sha]; !ok || e.Size != int64(info.Size) || e.Stored.IsZero() {
		t.Fatalf("index entry of %s = %+v (present %v), want size %d and a time", sha, e, ok, info.Size)
	}
}
