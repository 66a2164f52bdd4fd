package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
)

// prepareDataDir creates the data dir with mode 0700, or tightens an
// existing one that group or others may read, write or enter: it holds
// the API and NATS credentials, TLS keys and every function's code. When
// the mode cannot be changed (the directory belongs to someone else) the
// start is refused.
func prepareDataDir(dir string, logger *slog.Logger) error {
	return prepareDataDirWith(dir, logger, os.Chmod)
}

// prepareDataDirWith is prepareDataDir with the chmod to use, so that a
// test run as root can see the refusal.
func prepareDataDirWith(dir string, logger *slog.Logger, chmod func(string, fs.FileMode) error) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("daemon: create data dir %s: %w", dir, err)
		}
		// MkdirAll honours the umask, which could leave less than 0700.
		if err := chmod(dir, 0o700); err != nil {
			return fmt.Errorf("daemon: data dir %s: %w", dir, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("daemon: data dir %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("daemon: data dir %s is not a directory", dir)
	}
	perm := fi.Mode().Perm()
	if perm&0o077 == 0 {
		return nil
	}
	if err := chmod(dir, 0o700); err != nil {
		return fmt.Errorf("daemon: data dir %s has mode %#o: other users can reach the credentials and code in it, "+
			"and it could not be tightened to 0700 (%w); run chmod 700 %s as its owner, or choose another --data-dir",
			dir, perm, err, dir)
	}
	logger.Warn("data dir was open to other users: tightened to 0700", "data_dir", dir, "was", fmt.Sprintf("%#o", perm))
	return nil
}
