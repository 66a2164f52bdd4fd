package daemon

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/testutil"
)

func TestPrepareDataDir(t *testing.T) {
	refuse := func(string, fs.FileMode) error { return fs.ErrPermission }
	tests := []struct {
		name     string
		existing os.FileMode // 0: the directory does not exist yet
		chmod    func(string, fs.FileMode) error
		wantMode os.FileMode
		wantErr  string
	}{
		{name: "a missing data dir is created 0700", wantMode: 0o700},
		{name: "a 0755 data dir is tightened to 0700", existing: 0o755, wantMode: 0o700},
		{name: "a group-writable data dir is tightened to 0700", existing: 0o770, wantMode: 0o700},
		{name: "a 0700 data dir is left alone", existing: 0o700, chmod: refuse, wantMode: 0o700},
		{name: "an owner-only 0500 data dir is left alone", existing: 0o500, chmod: refuse, wantMode: 0o500},
		{name: "a 0755 data dir that cannot be tightened refuses the start", existing: 0o755, chmod: refuse,
			wantMode: 0o755, wantErr: "could not be tightened to 0700"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "a", "data")
			if tc.existing != 0 {
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(dir, tc.existing); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
			}
			chmod := tc.chmod
			if chmod == nil {
				chmod = os.Chmod
			}
			err := prepareDataDirWith(dir, testutil.Logger(t, slog.LevelDebug), chmod)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("prepareDataDir: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("prepareDataDir = %v, want an error containing %q", err, tc.wantErr)
			}
			fi, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != tc.wantMode {
				t.Fatalf("data dir mode %#o, want %#o", got, tc.wantMode)
			}
		})
	}
}

func TestPrepareDataDirRefusesAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := prepareDataDir(file, testutil.Logger(t, slog.LevelDebug))
	if err == nil || errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("prepareDataDir on a file = %v", err)
	}
}
