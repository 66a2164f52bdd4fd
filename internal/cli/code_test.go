package cli

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeTree creates files under dir from a map of slash paths to modes;
// each file's content is its own path.
func writeTree(t *testing.T, dir string, files map[string]os.FileMode) {
	t.Helper()
	for name, mode := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(name), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // umask may have cleared bits
			t.Fatal(err)
		}
	}
}

// zipEntries lists a zip's entries as name → mode and name → content.
func zipEntries(t *testing.T, data []byte) (names []string, modes map[string]os.FileMode, contents map[string]string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	modes, contents = map[string]os.FileMode{}, map[string]string{}
	for _, f := range zr.File {
		names = append(names, f.Name)
		modes[f.Name] = f.Mode()
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		contents[f.Name] = string(b)
	}
	return names, modes, contents
}

func TestZipDirKeepsModesAndRelativePaths(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]os.FileMode{
		"bootstrap":         0o755,
		"lib/helper.py":     0o644,
		"lib/sub/data.json": 0o600,
		".hidden":           0o644,
	})
	if err := os.Symlink("lib/helper.py", filepath.Join(dir, "link.py")); err != nil {
		t.Fatal(err)
	}
	data, err := zipDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	names, modes, contents := zipEntries(t, data)
	wantNames := []string{".hidden", "bootstrap", "lib/helper.py", "lib/sub/data.json", "link.py"}
	if strings.Join(names, ",") != strings.Join(wantNames, ",") {
		t.Errorf("entries %v, want %v (relative, slash-separated, lexical order)", names, wantNames)
	}
	wantModes := map[string]os.FileMode{"bootstrap": 0o755, "lib/helper.py": 0o644, "lib/sub/data.json": 0o600, "link.py": 0o644}
	for name, want := range wantModes {
		if modes[name] != want {
			t.Errorf("%s: mode %v, want %v", name, modes[name], want)
		}
	}
	if contents["link.py"] != "lib/helper.py" {
		t.Errorf("link.py holds %q, want the target's content", contents["link.py"])
	}
	if w := bootstrapWarning(data, "provided.al2023"); w != "" {
		t.Errorf("unexpected warning for an executable bootstrap: %s", w)
	}
}

func TestZipDirIsDeterministic(t *testing.T) {
	files := map[string]os.FileMode{"bootstrap": 0o755, "a/b.txt": 0o644, "z.txt": 0o644}
	dir1, dir2 := t.TempDir(), t.TempDir()
	writeTree(t, dir1, files)
	writeTree(t, dir2, files)
	// Different modification times must not change the bytes.
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir2, "z.txt"), old, old); err != nil {
		t.Fatal(err)
	}
	first, err := zipDir(dir1, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := zipDir(dir1, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := zipDir(dir2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) || !bytes.Equal(first, other) {
		t.Error("zipping the same tree twice gave different bytes")
	}
}

func TestLoadCode(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	writeTree(t, src, map[string]os.FileMode{"bootstrap": 0o755})
	zipped, err := zipDir(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, map[string]os.FileMode{"bin/bootstrap": 0o755, "bad.zip": 0o644})
	if err := os.WriteFile(filepath.Join(dir, "code.zip"), zipped, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		path    string
		check   func(t *testing.T, data []byte)
		wantErr string
	}{
		{name: "a directory is zipped", path: src, check: func(t *testing.T, data []byte) {
			if !bytes.Equal(data, zipped) {
				t.Error("not the directory's zip")
			}
		}},
		{name: "a zip file is sent as it is", path: filepath.Join(dir, "code.zip"), check: func(t *testing.T, data []byte) {
			if !bytes.Equal(data, zipped) {
				t.Error("the zip file was changed")
			}
		}},
		{name: "a single file is zipped under its base name with its mode", path: filepath.Join(dir, "bin", "bootstrap"), check: func(t *testing.T, data []byte) {
			names, modes, _ := zipEntries(t, data)
			if len(names) != 1 || names[0] != "bootstrap" || modes["bootstrap"] != 0o755 {
				t.Errorf("got %v %v, want one executable bootstrap", names, modes)
			}
		}},
		{name: "a .zip that is not a zip is refused", path: filepath.Join(dir, "bad.zip"), wantErr: "not a valid zip file"},
		{name: "a missing path is refused", path: filepath.Join(dir, "nope"), wantErr: "no such file"},
		{name: "an empty directory is refused", path: filepath.Join(dir, "empty"), wantErr: "has no files"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := loadCode(tc.path, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, data)
		})
	}
}

func TestBootstrapWarning(t *testing.T) {
	zipOf := func(files map[string]os.FileMode) []byte {
		dir := t.TempDir()
		writeTree(t, dir, files)
		data, err := zipDir(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	tests := []struct {
		name    string
		zip     []byte
		runtime string
		want    string
	}{
		{"an executable bootstrap is fine", zipOf(map[string]os.FileMode{"bootstrap": 0o755}), "provided.al2023", ""},
		{"a bootstrap without the exec bit is reported", zipOf(map[string]os.FileMode{"bootstrap": 0o644}), "provided.al2", "not executable"},
		{"a missing bootstrap is reported", zipOf(map[string]os.FileMode{"sub/bootstrap": 0o755}), "provided.al2023", "no top-level bootstrap"},
		{"other runtimes need no bootstrap", zipOf(map[string]os.FileMode{"app.py": 0o644}), "python3.12", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := bootstrapWarning(tc.zip, tc.runtime)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("warning %q, want one containing %q", got, tc.want)
			}
		})
	}
}
