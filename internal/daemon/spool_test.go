package daemon

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/updraft/updraft/internal/testutil"
)

func TestRemoveStaleSpoolWithoutSpoolDir(t *testing.T) {
	if err := removeStaleSpool(filepath.Join(t.TempDir(), "spool"), testutil.Logger(t, slog.LevelDebug)); err != nil {
		t.Fatalf("a data dir that never spooled: %v", err)
	}
}

func TestRemoveStaleSpool(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		dirs  []string
		want  []string // entries left
	}{
		{name: "an empty spool dir stays empty"},
		{name: "spooled bodies of a dead server are removed",
			files: []string{"updraft-body-123", "updraft-body-456"}},
		{name: "files and directories that are not spooled bodies are left alone",
			files: []string{"updraft-body-1", "notes.txt"}, dirs: []string{"updraft-body-dir"},
			want: []string{"notes.txt", "updraft-body-dir"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, f), []byte("body"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			for _, d := range tc.dirs {
				if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			if err := removeStaleSpool(dir, testutil.Logger(t, slog.LevelDebug)); err != nil {
				t.Fatal(err)
			}
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var left []string
			for _, e := range ents {
				left = append(left, e.Name())
			}
			if !slices.Equal(left, tc.want) {
				t.Errorf("left %v, want %v", left, tc.want)
			}
		})
	}
}
