package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Reclaiming storage. Two things grow with every deployment and are given
// back here:
//
//   - Unpacked directories on this node's disk (<CodeCacheDir>/<sha256>
//     and <CodeCacheDir>/opt/<digest>). One is removed once no function
//     version of the view needs it (its code, its layers, its merged
//     layers) and no caller holds it: CodeDir and OptDir hand out a
//     directory pinned, and the pool releases it (ReleaseDir) when the
//     environment running from it is gone. Each node sweeps its own disk.
//   - Zips in the object store, shared by every node; see prune.go.
//
// One goroutine, the reclaimer, does both. It runs at start-up (what was
// deleted while the node was down), whenever the view changes or a
// directory is released (kick), and every reclaimInterval.

// DefaultPruneGrace is how long a zip no version references stays in the
// object store by default before it is deleted. It is long enough that a
// deployment in flight on another node (upload, then the function's
// record) and the other nodes' views catching up are never overtaken;
// prune.go explains why a shorter one is still safe, only less forgiving.
const DefaultPruneGrace = 15 * time.Minute

// reclaimInterval is how often the reclaimer runs without being asked: a
// quarter of the grace, between 250 ms and one minute.
func reclaimInterval(grace time.Duration) time.Duration {
	return min(max(grace/4, 250*time.Millisecond), time.Minute)
}

// StorageStats is what code storage holds and has given back.
type StorageStats struct {
	// UnpackedBytes and UnpackedDirs are this node's unpacked code and
	// merged-layer directories (file sizes), as of the last sweep.
	UnpackedBytes, UnpackedDirs int64
	// BlobBytes and Blobs are the zips in the object store, which every
	// node shares, as of this node's last pruning pass.
	BlobBytes, Blobs int64
	// ReclaimedUnpackedBytes and ReclaimedBlobBytes count what this node
	// has removed since it started.
	ReclaimedUnpackedBytes, ReclaimedBlobBytes int64
}

// storageCounters backs StorageStats; written by the reclaimer only.
type storageCounters struct {
	unpackedBytes, unpackedDirs       atomic.Int64
	blobBytes, blobs                  atomic.Int64
	reclaimedUnpacked, reclaimedBlobs atomic.Int64
}

// StorageStats returns what code storage holds, for metrics.
func (r *Registry) StorageStats() StorageStats {
	c := &r.storage
	return StorageStats{
		UnpackedBytes: c.unpackedBytes.Load(), UnpackedDirs: c.unpackedDirs.Load(),
		BlobBytes: c.blobBytes.Load(), Blobs: c.blobs.Load(),
		ReclaimedUnpackedBytes: c.reclaimedUnpacked.Load(), ReclaimedBlobBytes: c.reclaimedBlobs.Load(),
	}
}

// reclaimState is the reclaimer's own memory; only its goroutine uses it.
type reclaimState struct {
	// sizes caches the size of each unpacked directory (immutable once
	// under its final name), by path.
	sizes map[string]int64
	// unreferenced is when this node first saw each zip unreferenced,
	// continuously since; see prune.go.
	unreferenced map[string]time.Time
	lastPrune    time.Time
	trashSeq     int
}

// kickReclaim asks the reclaimer to run soon; it never blocks.
func (r *Registry) kickReclaim() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// runReclaimer sweeps directories and prunes zips until Close.
func (r *Registry) runReclaimer() {
	defer r.wg.Done()
	interval := reclaimInterval(r.cfg.PruneGrace)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	st := &reclaimState{sizes: make(map[string]int64), unreferenced: make(map[string]time.Time)}
	for {
		r.sweepDirs(st)
		if time.Since(st.lastPrune) >= interval {
			r.pruneBlobs(r.ctx, st)
			st.lastPrune = time.Now()
		}
		select {
		case <-r.ctx.Done():
			return
		case <-r.kick:
		case <-tick.C:
		}
	}
}

// references is what the view's versions use: dirs the unpacked
// directories a version may need on this node (its code's and each of its
// layers' under CodeCacheDir, its merged layers' under opt/), blobs every
// zip still referenced (those, plus every live layer version's).
func (r *Registry) references() (dirs map[string]bool, blobs map[string]bool) {
	dirs, blobs = make(map[string]bool), make(map[string]bool)
	use := func(v *Version) {
		if v == nil {
			return
		}
		if v.CodeSha256Hex != "" {
			dirs[filepath.Join(r.cfg.CodeCacheDir, v.CodeSha256Hex)] = true
			blobs[v.CodeSha256Hex] = true
		}
		for _, sha := range v.LayerSha256Hex {
			dirs[filepath.Join(r.cfg.CodeCacheDir, sha)] = true
			blobs[sha] = true
		}
		if len(v.LayerSha256Hex) > 0 {
			dirs[r.optPath(v.LayerSha256Hex)] = true
		}
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, f := range r.view.fns {
		use(f.latest)
		for _, vv := range f.versions {
			use(vv.v)
		}
	}
	for _, l := range r.view.layers {
		for _, rec := range l.versions {
			blobs[rec.CodeSha256Hex] = true
		}
	}
	return dirs, blobs
}

// optPath is the merged-layer directory of an ordered list of layer zips.
func (r *Registry) optPath(shas []string) string {
	sum := sha256.Sum256([]byte(strings.Join(shas, "\n")))
	return filepath.Join(r.cfg.CodeCacheDir, optCacheSubdir, hex.EncodeToString(sum[:]))
}

// pinIfExists pins dir and reports true if it exists under its final name.
// Pinning and the sweep's removal both hold unpackMu, so a directory is
// either pinned before a sweep looks at it or gone when this looks.
func (r *Registry) pinIfExists(dir string) bool {
	r.unpackMu.Lock()
	defer r.unpackMu.Unlock()
	if _, err := os.Stat(dir); err != nil {
		return false
	}
	r.pins[dir]++
	return true
}

// ReleaseDir releases a directory CodeDir or OptDir returned, once its
// user (an environment) is gone; the directory may then be removed if no
// version needs it. Releasing "" does nothing.
func (r *Registry) ReleaseDir(dir string) {
	if dir == "" {
		return
	}
	r.unpackMu.Lock()
	if n := r.pins[dir]; n <= 1 {
		delete(r.pins, dir)
	} else {
		r.pins[dir] = n - 1
	}
	r.unpackMu.Unlock()
	r.kickReclaim()
}

// unpackedDirs lists the directories under CodeCacheDir named as CodeDir
// and OptDir name them (temporary ones start with a dot and are left to
// their owners).
func (r *Registry) unpackedDirs() []string {
	var out []string
	for _, parent := range []string{r.cfg.CodeCacheDir, filepath.Join(r.cfg.CodeCacheDir, optCacheSubdir)} {
		entries, err := os.ReadDir(parent)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				r.logger.Warn("list unpacked code", "dir", parent, "err", err)
			}
			continue
		}
		for _, e := range entries {
			if e.IsDir() && validSHA(e.Name()) {
				out = append(out, filepath.Join(parent, e.Name()))
			}
		}
	}
	return out
}

// sweepDirs removes the unpacked directories nothing needs and updates the
// byte counts. A doomed directory is renamed out of the way under
// unpackMu (so CodeDir unpacks it anew if asked again) and deleted after.
func (r *Registry) sweepDirs(st *reclaimState) {
	wanted, _ := r.references()
	present := r.unpackedDirs()
	var doomed, trash []string
	r.unpackMu.Lock()
	for _, dir := range present {
		if wanted[dir] || r.pins[dir] > 0 {
			continue
		}
		st.trashSeq++
		to := filepath.Join(r.cfg.CodeCacheDir, unpackTempPrefix+"gone-"+strconv.Itoa(st.trashSeq)+"-"+filepath.Base(dir)[:16])
		if err := os.Rename(dir, to); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				r.logger.Warn("remove unpacked code", "dir", dir, "err", err)
			}
			continue
		}
		doomed = append(doomed, dir)
		trash = append(trash, to)
	}
	r.unpackMu.Unlock()
	for i, dir := range doomed {
		size, ok := st.sizes[dir]
		if !ok {
			size = dirSize(trash[i])
		}
		if err := os.RemoveAll(trash[i]); err != nil {
			r.logger.Warn("remove unpacked code", "dir", dir, "err", err)
			continue
		}
		delete(st.sizes, dir)
		r.storage.reclaimedUnpacked.Add(size)
		r.logger.Info("unpacked code removed: no version or environment uses it", "dir", dir, "bytes", size)
	}
	removed := make(map[string]bool, len(doomed))
	for _, d := range doomed {
		removed[d] = true
	}
	var total, n int64
	keep := make(map[string]int64, len(present))
	for _, dir := range present {
		if removed[dir] {
			continue
		}
		size, ok := st.sizes[dir]
		if !ok {
			size = dirSize(dir)
		}
		keep[dir] = size
		total += size
		n++
	}
	st.sizes = keep
	r.storage.unpackedBytes.Store(total)
	r.storage.unpackedDirs.Store(n)
	r.sweeps.Add(1)
}

// dirSize is the total size of the regular files under dir.
func dirSize(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // gone or unreadable: count what can be read
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}
