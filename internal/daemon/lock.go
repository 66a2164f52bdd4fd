package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// lockFileName is the lock file in the data directory.
const lockFileName = "updraft.lock"

// ErrDataDirInUse is returned by Run when another server holds the data
// directory.
var ErrDataDirInUse = errors.New("data directory is in use by another updraft server")

// lockDataDir takes an exclusive flock on the data directory's lock file
// for the server's lifetime: two servers on one data directory would share
// its JetStream store and code cache and corrupt both, so the second fails
// at once. The kernel drops the lock when the process ends, however it
// ends, so a server killed with SIGKILL does not block its successor. The
// descriptor is close-on-exec: a sandbox must not inherit it and keep the
// lock after the server died. The file holds the holder's pid, for the
// error message; release unlocks and closes it.
func lockDataDir(dir string) (release func() error, err error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("daemon: lock data dir: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			if pid := strings.TrimSpace(string(holder)); pid != "" {
				return nil, fmt.Errorf("daemon: %s: %w (pid %s)", dir, ErrDataDirInUse, pid)
			}
			return nil, fmt.Errorf("daemon: %s: %w", dir, ErrDataDirInUse)
		}
		return nil, fmt.Errorf("daemon: lock data dir: %w", err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() error {
		// The pid is left in the file: it only matters while locked.
		return f.Close() // closing the last descriptor releases the lock
	}, nil
}
