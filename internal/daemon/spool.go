package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// spoolPrefix starts the name of every file auth spools a request body to
// (auth's os.CreateTemp pattern "updraft-body-*").
const spoolPrefix = "updraft-body-"

// removeStaleSpool deletes the spooled request bodies that a server which
// died without closing them (SIGKILL, a crash, a power cut) left in dir.
// A running server removes its own when each request ends; the data dir's
// lock, taken before this runs, guarantees no other server uses dir, so
// every such file found at start belongs to a dead process and would
// otherwise stay forever. Found by the soak test (bench/soak): a server
// killed during a large upload leaked the upload's spool file.
func removeStaleSpool(dir string, logger *slog.Logger) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("daemon: read spool dir: %w", err)
	}
	var n int
	var bytes int64
	var errs []error
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), spoolPrefix) {
			continue
		}
		var size int64
		if fi, err := e.Info(); err == nil {
			size = fi.Size()
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
		bytes += size
	}
	if n > 0 {
		logger.Info("removed request bodies spooled by a server that died", "files", n, "bytes", bytes)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("daemon: remove stale spool files: %w", err)
	}
	return nil
}
