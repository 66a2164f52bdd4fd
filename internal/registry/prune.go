package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Pruning zips from the object store, safely while several nodes share it.
//
// A zip may be deleted once no function version ($LATEST or published)
// and no live layer version references it, for the grace period
// (Config.PruneGrace), as this node's view sees it. Two races make that
// alone unsafe, and a mark per zip in the KV bucket updraft-code-holds
// closes them:
//
//   - An upload on any node of bytes that are already stored skips the
//     put and then writes the function's record. Were the zip pruned in
//     between, the record would name a zip that no longer exists. So an
//     upload first writes the zip's mark as "used" (holdCode), with a
//     compare-and-set, before it looks for the zip; and the pruner
//     deletes only after replacing a mark at least a grace old (or, with
//     no mark, a zip at least a grace old) by "deleting", also with a
//     compare-and-set. Exactly one of them wins: an upload that wins
//     keeps the zip for a grace more, by which time its record exists; a
//     pruner that wins makes the upload wait until the zip is gone (then
//     it is stored again), never skip a put of a zip about to vanish.
//   - Records written on another node reach this node's view a moment
//     later, and PublishVersion writes a version of code that $LATEST
//     may just have left. The pruner therefore deletes only a zip it has
//     itself seen unreferenced, pass after pass, for a whole grace.
//
// Pruners on several nodes are safe together: the compare-and-set lets
// one of them delete. The winner removes the mark when it is done; a
// "deleting" mark older than deletingStale is from a pruner that died,
// and an upload takes it over.

// Values of a zip's mark in updraft-code-holds.
const (
	holdUsed     = "used"
	holdDeleting = "deleting"
)

// deletingStale is the age past which a "deleting" mark is taken to be
// from a pruner that stopped: deleting one zip is bounded by
// pruneDeleteTimeout, well below it.
const (
	deletingStale      = time.Minute
	pruneDeleteTimeout = 20 * time.Second
	// holdPoll is how often an upload looks again at a zip being deleted.
	holdPoll = 50 * time.Millisecond
)

// holdCode marks the zip sha as just used by an upload, so that no pruner
// deletes it for a grace period; it waits while a pruner is deleting it.
func (r *Registry) holdCode(ctx context.Context, sha string) error {
	conflicts := 0
	for {
		e, err := r.holds.Get(ctx, sha)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted):
			_, err = r.holds.Create(ctx, sha, []byte(holdUsed))
		case err != nil:
			return fmt.Errorf("registry: read mark of code %s: %w", sha, err)
		case string(e.Value()) == holdDeleting && time.Since(e.Created()) < deletingStale:
			t := time.NewTimer(holdPoll)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("registry: wait for code %s being pruned: %w", sha, context.Cause(ctx))
			case <-t.C:
			}
			continue
		case string(e.Value()) == holdUsed && time.Since(e.Created()) < r.cfg.PruneGrace/4:
			// Another upload marked it a moment ago: that mark keeps
			// pruners off for most of a grace still. Rewriting it would
			// only make concurrent uploads of one zip conflict.
			return nil
		default:
			_, err = r.holds.Update(ctx, sha, []byte(holdUsed), e.Revision())
		}
		if err == nil {
			return nil
		}
		if !isCASError(err) {
			return fmt.Errorf("registry: mark code %s used: %w", sha, err)
		}
		conflicts++
		if conflicts >= maxCASAttempts {
			return fmt.Errorf("registry: mark code %s used: %w", sha, errConflict)
		}
		if err := casBackoff(ctx, conflicts); err != nil {
			return err
		}
	}
}

// pruneBlobs deletes the zips that have gone unreferenced for the grace
// and records what the store holds.
func (r *Registry) pruneBlobs(ctx context.Context, st *reclaimState) {
	index, err := r.indexedCode(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.logger.Warn("list code zips", "err", err)
		}
		return
	}
	// Read after listing: a zip stored and referenced since is either
	// missing from the list or seen referenced.
	_, refs := r.references()
	grace := r.cfg.PruneGrace
	now := time.Now()
	var total, count int64
	seen := make(map[string]bool, len(index))
	for sha, entry := range index {
		size := entry.Size
		total += size
		count++
		if !validSHA(sha) || refs[sha] {
			continue
		}
		seen[sha] = true
		since, ok := st.unreferenced[sha]
		if !ok {
			st.unreferenced[sha] = now
			continue
		}
		if now.Sub(since) < grace || now.Sub(entry.Stored) < grace {
			continue
		}
		deleted, err := r.pruneBlob(ctx, sha, grace)
		if err != nil {
			if ctx.Err() == nil {
				r.logger.Warn("prune code zip", "sha256", sha, "err", err)
			}
			continue
		}
		if deleted {
			total -= size
			count--
			delete(st.unreferenced, sha)
			r.storage.reclaimedBlobs.Add(size)
			r.logger.Info("code zip pruned: no version references it", "sha256", sha, "bytes", size, "unreferenced_for", now.Sub(since).Round(time.Millisecond).String())
		}
	}
	for sha := range st.unreferenced {
		if !seen[sha] {
			delete(st.unreferenced, sha)
		}
	}
	r.storage.blobBytes.Store(total)
	r.storage.blobs.Store(count)
}

// pruneBlob deletes the zip sha if it wins its mark: false when an upload
// used it within grace, another pruner is at it or was done with it, or
// a version references it again.
func (r *Registry) pruneBlob(ctx context.Context, sha string, grace time.Duration) (bool, error) {
	e, err := r.holds.Get(ctx, sha)
	var rev uint64
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted):
		rev, err = r.holds.Create(ctx, sha, []byte(holdDeleting))
	case err != nil:
		return false, fmt.Errorf("read mark: %w", err)
	default:
		age := time.Since(e.Created())
		if string(e.Value()) == holdDeleting && age < deletingStale || string(e.Value()) != holdDeleting && age < grace {
			return false, nil
		}
		rev, err = r.holds.Update(ctx, sha, []byte(holdDeleting), e.Revision())
	}
	if isCASError(err) {
		return false, nil // an upload or another pruner got there first
	}
	if err != nil {
		return false, fmt.Errorf("mark deleting: %w", err)
	}
	// The mark is ours: no upload can now skip storing the zip. One last
	// look at the view, in case a version took it up again meanwhile.
	defer func() {
		if err := r.holds.Delete(context.WithoutCancel(ctx), sha, jetstream.LastRevision(rev)); err != nil && !isCASError(err) {
			r.logger.Warn("remove mark of pruned code", "sha256", sha, "err", err)
		}
	}()
	if _, refs := r.references(); refs[sha] {
		return false, nil
	}
	dctx, cancel := context.WithTimeout(ctx, pruneDeleteTimeout)
	defer cancel()
	// Another pruner may have deleted it since this one listed it (and
	// Delete would "delete" a deleted object again without complaint).
	if _, err := r.code.GetInfo(dctx, sha); err != nil {
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			// Not stored: deleted by another pruner, or an upload
			// that entered it did not get to store it.
			return false, r.unindexCode(dctx, sha)
		}
		return false, fmt.Errorf("look up: %w", err)
	}
	if err := r.code.Delete(dctx, sha); err != nil {
		return false, fmt.Errorf("delete: %w", err)
	}
	return true, r.unindexCode(dctx, sha)
}
