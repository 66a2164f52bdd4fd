package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/lambdaerr"
)

// unpackTempPrefix names the temporary directories CodeDir unpacks into
// before renaming them into place.
const unpackTempPrefix = ".unpack-"

// storeCode puts a validated zip into the object store under its hex
// sha256, once: an object already there is the same bytes. The zip is
// marked used first, so that no pruner deletes it before the record that
// references it is written (prune.go).
func (r *Registry) storeCode(ctx context.Context, zi *zipInfo, data []byte) error {
	if err := r.holdCode(ctx, zi.sha256Hex); err != nil {
		return err
	}
	if err := r.indexCode(ctx, zi.sha256Hex, zi.size); err != nil {
		return err
	}
	_, err := r.code.GetInfo(ctx, zi.sha256Hex)
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("registry: look up code %s: %w", zi.sha256Hex, err)
	}
	if _, err := r.code.PutBytes(ctx, zi.sha256Hex, data); err != nil {
		return fmt.Errorf("registry: store code %s: %w", zi.sha256Hex, err)
	}
	return nil
}

// CodeZip opens the deployment package with the given hex sha256, as
// GetFunction's Code.Location serves it. The caller must close it.
func (r *Registry) CodeZip(ctx context.Context, sha string) (io.ReadCloser, error) {
	if !validSHA(sha) {
		return nil, lambdaerr.ResourceNotFound("Code not found: %s", sha)
	}
	obj, err := r.code.Get(ctx, sha)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, lambdaerr.ResourceNotFound("Code not found: %s", sha)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: open code %s: %w", sha, err)
	}
	return obj, nil
}

// unpackCall is one unpack in progress that concurrent callers share.
type unpackCall struct {
	done chan struct{} // closed when path and err are set
	path string
	err  error
}

// CodeDir returns the directory holding the unpacked zip with the given
// hex sha256, unpacking it on first use into CodeCacheDir/<sha>. The
// unpack happens once per node: concurrent callers wait for the same one,
// and it writes to a temporary directory renamed into place, so a
// directory under its final name is always complete. A caller whose ctx
// ends stops waiting; the unpack itself runs on until Close.
//
// The directory is pinned: it stays on disk until the caller passes it to
// ReleaseDir, even if every version using it is deleted meanwhile.
func (r *Registry) CodeDir(ctx context.Context, shaHex string) (string, error) {
	if !validSHA(shaHex) {
		return "", fmt.Errorf("registry: code dir: bad sha256 %q", shaHex)
	}
	final := filepath.Join(r.cfg.CodeCacheDir, shaHex)
	return r.pinned(ctx, final, shaHex, func(ctx context.Context) (string, error) {
		return r.unpack(ctx, shaHex, final, nil)
	})
}

// startUnpack begins unpacking a zip that just arrived, from the bytes in
// hand (no fetch from the object store), unless it is unpacked already;
// it does not wait. A CodeDir call meanwhile (the settle) joins it.
func (r *Registry) startUnpack(shaHex string, data []byte) {
	final := filepath.Join(r.cfg.CodeCacheDir, shaHex)
	if _, err := os.Stat(final); err == nil {
		return
	}
	done, cancel := context.WithCancel(r.ctx)
	cancel() // only start the shared unpack; never wait for it
	_, _ = r.shared(done, shaHex, func(ctx context.Context) (string, error) {
		return r.unpack(ctx, shaHex, final, data)
	})
}

// pinnedAttempts bounds how often pinned builds a directory that a sweep
// removed before it could be pinned (possible only for a directory no
// version needs, such as the code of a function deleted a moment ago).
const pinnedAttempts = 3

// pinned returns final pinned, building it first (shared, under key) if
// it is missing.
func (r *Registry) pinned(ctx context.Context, final, key string, build func(ctx context.Context) (string, error)) (string, error) {
	for range pinnedAttempts {
		if r.pinIfExists(final) {
			return final, nil
		}
		if _, err := r.shared(ctx, key, build); err != nil {
			return "", err
		}
		r.kickReclaim() // count the new directory's bytes
	}
	return "", fmt.Errorf("registry: %s was removed as soon as it was made %d times", final, pinnedAttempts)
}

// shared runs build once per key at a time, on the registry's lifetime:
// concurrent callers with the same key wait for the same run. A caller
// whose ctx ends stops waiting; the run itself goes on until Close.
func (r *Registry) shared(ctx context.Context, key string, build func(ctx context.Context) (string, error)) (string, error) {
	r.unpackMu.Lock()
	c, ok := r.unpacking[key]
	if !ok {
		if r.ctx.Err() != nil {
			r.unpackMu.Unlock()
			return "", errors.New("registry: closed")
		}
		c = &unpackCall{done: make(chan struct{})}
		r.unpacking[key] = c
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			c.path, c.err = build(r.ctx)
			r.unpackMu.Lock()
			delete(r.unpacking, key)
			r.unpackMu.Unlock()
			close(c.done)
		}()
	}
	r.unpackMu.Unlock()
	select {
	case <-c.done:
		return c.path, c.err
	case <-ctx.Done():
		return "", fmt.Errorf("registry: wait for unpack of %s: %w", key, context.Cause(ctx))
	}
}

// unpack fetches the zip (unless data holds it), checks its digest and
// extracts it into final.
func (r *Registry) unpack(ctx context.Context, shaHex, final string, data []byte) (string, error) {
	if _, err := os.Stat(final); err == nil {
		return final, nil // another process got there
	}
	if data != nil {
		return r.extractTo(shaHex, final, data)
	}
	data, err := r.code.GetBytes(ctx, shaHex)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return "", fmt.Errorf("registry: code %s not in the object store: %w", shaHex, err)
	}
	if err != nil {
		return "", fmt.Errorf("registry: fetch code %s: %w", shaHex, err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != shaHex {
		return "", fmt.Errorf("registry: code %s: stored bytes have another digest", shaHex)
	}
	return r.extractTo(shaHex, final, data)
}

// extractTo extracts the zip data (whose digest is shaHex) into final,
// through a temporary directory renamed into place.
func (r *Registry) extractTo(shaHex, final string, data []byte) (string, error) {
	tmp, err := os.MkdirTemp(r.cfg.CodeCacheDir, unpackTempPrefix+shaHex[:16]+"-")
	if err != nil {
		return "", fmt.Errorf("registry: unpack %s: %w", shaHex, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		_ = os.RemoveAll(tmp)
		return "", fmt.Errorf("registry: unpack %s: %w", shaHex, err)
	}
	r.unpacks.Add(1)
	if err := extractZip(data, tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return "", fmt.Errorf("registry: unpack %s: %w", shaHex, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		_ = os.RemoveAll(tmp)
		if _, serr := os.Stat(final); serr == nil {
			return final, nil // lost a race with another process
		}
		return "", fmt.Errorf("registry: unpack %s: %w", shaHex, err)
	}
	r.logger.Debug("code unpacked", "sha256", shaHex, "dir", final)
	return final, nil
}

// validSHA reports whether s is 64 lower-case hex digits.
func validSHA(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
