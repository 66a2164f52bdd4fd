package registry

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// optCacheSubdir holds merged layer directories under CodeCacheDir, one
// per ordered list of layer digests (<code cache>/opt/<digest of the
// list>). Code directories are named by a sha256, so the name is free.
const optCacheSubdir = "opt"

// OptDir returns the directory holding v's layers merged in order (a
// later layer's file replaces an earlier one's at the same path), to be
// mounted read-only at /opt; "" when v has no layers. The merge happens
// once per node and ordered list of layers: each layer is unpacked like
// code (CodeDir), then copied into a temporary directory that is renamed
// into place, so a directory under its final name is always complete.
// Everything in it is world-readable: functions run as uid 65534. Like
// CodeDir's, the directory is pinned until the caller passes it to
// ReleaseDir.
func (r *Registry) OptDir(ctx context.Context, v *Version) (string, error) {
	shas := v.LayerSha256Hex
	if len(shas) == 0 {
		return "", nil
	}
	for _, sha := range shas {
		if !validSHA(sha) {
			return "", fmt.Errorf("registry: layers of %s: bad sha256 %q", v.FunctionName, sha)
		}
	}
	final := r.optPath(shas)
	digest := filepath.Base(final)
	shas = append([]string(nil), shas...)
	return r.pinned(ctx, final, optCacheSubdir+"/"+digest, func(ctx context.Context) (string, error) {
		return r.mergeLayers(ctx, shas, digest, final)
	})
}

// mergeLayers unpacks each layer and merges them in order into final.
func (r *Registry) mergeLayers(ctx context.Context, shas []string, digest, final string) (string, error) {
	if _, err := os.Stat(final); err == nil {
		return final, nil // another process got there
	}
	dirs := make([]string, 0, len(shas))
	defer func() {
		for _, d := range dirs {
			r.ReleaseDir(d)
		}
	}()
	for _, sha := range shas {
		d, err := r.CodeDir(ctx, sha)
		if err != nil {
			return "", fmt.Errorf("registry: unpack layer %s: %w", sha, err)
		}
		dirs = append(dirs, d)
	}
	// The temporary directory sits in CodeCacheDir itself, where
	// removeStaleUnpacks finds what a crash leaves behind.
	tmp, err := os.MkdirTemp(r.cfg.CodeCacheDir, unpackTempPrefix+"opt-"+digest[:16]+"-")
	if err != nil {
		return "", fmt.Errorf("registry: merge layers %s: %w", digest, err)
	}
	fail := func(err error) (string, error) {
		_ = os.RemoveAll(tmp)
		return "", fmt.Errorf("registry: merge layers %s: %w", digest, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fail(err)
	}
	for _, d := range dirs {
		if err := mergeTree(d, tmp); err != nil {
			return fail(err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, final); err != nil {
		_ = os.RemoveAll(tmp)
		if _, serr := os.Stat(final); serr == nil {
			return final, nil // lost a race with another process
		}
		return "", fmt.Errorf("registry: merge layers %s: %w", digest, err)
	}
	r.logger.Debug("layers merged", "layers", len(shas), "dir", final)
	return final, nil
}

// mergeTree copies the unpacked layer src over dst: directories are
// merged, anything else replaces what dst has at its path (a file or
// symlink over a directory removes the directory, a directory over a file
// or symlink replaces it). Nothing is ever written through a symlink of
// dst: each directory on the way is made a real one before its entries
// are copied, since the walk visits a directory before its contents.
func mergeTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil || rel == "." {
			return err
		}
		target := filepath.Join(dst, rel)
		switch mode := d.Type(); {
		case mode.IsDir():
			if st, err := os.Lstat(target); err == nil && st.IsDir() {
				return nil
			}
			if err := os.RemoveAll(target); err != nil {
				return err
			}
			return os.Mkdir(target, 0o755)
		case mode&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			if err := os.RemoveAll(target); err != nil {
				return err
			}
			return os.Symlink(link, target)
		case mode.IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			if err := os.RemoveAll(target); err != nil {
				return err
			}
			return copyFile(path, target, info.Mode())
		}
		return nil // unpacked layers hold nothing else
	})
}

// copyFile copies a regular file, 0755 when it is executable and 0644
// otherwise, as extractZip writes them.
func copyFile(src, dst string, mode fs.FileMode) error {
	perm := fs.FileMode(0o644)
	if mode&0o111 != 0 {
		perm = 0o755
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(dst, perm) // the umask may have narrowed perm
	}
	return err
}
