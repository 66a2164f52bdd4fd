package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The code index (bucket updraft-code-index) lists the zips of the object
// store: one key per zip, its hex sha256, valued with its size and when
// it was stored. The pruner reads it instead of listing the object store,
// because a listing makes JetStream load every block of the zips' stream
// (8 MB each, kept in memory for seconds) to find the objects' metadata:
// with gigabytes of code that was gigabytes of memory at every pass.
//
// An upload writes the entry before it stores the zip, so a crash between
// the two leaves an entry for a zip that is not there (the pruner drops
// it) rather than a zip that no pass would ever see. Zips stored before
// the index existed are entered once, by a listing on the first pass
// (indexBackfilledKey records that it was done).

// indexBackfilledKey marks the index as holding every zip stored before
// it existed. It is not a sha256, so no zip's entry can take it.
const indexBackfilledKey = "backfilled"

// codeEntry is the value of a zip's key in the code index.
type codeEntry struct {
	Size   int64     `json:"size"`
	Stored time.Time `json:"stored"`
}

// indexCode enters the zip sha of size bytes in the code index.
func (r *Registry) indexCode(ctx context.Context, sha string, size int64) error {
	b, err := json.Marshal(codeEntry{Size: size, Stored: time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("registry: encode index entry of code %s: %w", sha, err)
	}
	if _, err := r.index.Put(ctx, sha, b); err != nil {
		return fmt.Errorf("registry: index code %s: %w", sha, err)
	}
	return nil
}

// unindexCode removes the zip sha from the code index.
func (r *Registry) unindexCode(ctx context.Context, sha string) error {
	if err := r.index.Purge(ctx, sha); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("registry: remove index entry of code %s: %w", sha, err)
	}
	return nil
}

// indexedCode returns the code index: every zip's entry by sha256. On the
// first call against a store whose index was never filled, it enters the
// zips the object store already holds.
func (r *Registry) indexedCode(ctx context.Context) (map[string]codeEntry, error) {
	if _, err := r.index.Get(ctx, indexBackfilledKey); errors.Is(err, jetstream.ErrKeyNotFound) {
		if err := r.backfillIndex(ctx); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("registry: read code index: %w", err)
	}
	w, err := r.index.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("registry: read code index: %w", err)
	}
	defer w.Stop() //nolint:errcheck // a watcher that failed to stop leaves nothing behind
	out := make(map[string]codeEntry)
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("registry: read code index: %w", context.Cause(ctx))
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("registry: read code index: watcher closed")
			}
			if e == nil { // every current entry has been seen
				return out, nil
			}
			if e.Key() == indexBackfilledKey {
				continue
			}
			var ce codeEntry
			if err := json.Unmarshal(e.Value(), &ce); err != nil {
				r.logger.Warn("code index entry unreadable; skipped", "sha256", e.Key(), "err", err)
				continue
			}
			out[e.Key()] = ce
		}
	}
}

// backfillIndex enters every zip of the object store in the code index,
// once per store.
func (r *Registry) backfillIndex(ctx context.Context) error {
	infos, err := r.code.List(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
		return fmt.Errorf("registry: list code zips to index them: %w", err)
	}
	for _, info := range infos {
		if !validSHA(info.Name) {
			continue
		}
		b, err := json.Marshal(codeEntry{Size: int64(info.Size), Stored: info.ModTime.UTC()})
		if err != nil {
			return fmt.Errorf("registry: encode index entry of code %s: %w", info.Name, err)
		}
		// Create: an upload may have entered it meanwhile, with a later
		// time that must stand.
		if _, err := r.index.Create(ctx, info.Name, b); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("registry: index code %s: %w", info.Name, err)
		}
	}
	if _, err := r.index.Put(ctx, indexBackfilledKey, []byte("1")); err != nil {
		return fmt.Errorf("registry: mark code index filled: %w", err)
	}
	if len(infos) > 0 {
		r.logger.Info("code index filled from the object store", "zips", len(infos))
	}
	return nil
}
