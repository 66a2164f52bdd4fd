package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestNeedsGoBuild(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]os.FileMode
		want  bool
	}{
		{"Go sources without a bootstrap are built", map[string]os.FileMode{"main.go": 0o644, "go.mod": 0o644}, true},
		{"a bootstrap next to the sources is deployed as it is", map[string]os.FileMode{"main.go": 0o644, "bootstrap": 0o755}, false},
		{"only tests is not a program", map[string]os.FileMode{"x_test.go": 0o644}, false},
		{"a python function is left alone", map[string]os.FileMode{"app.py": 0o644}, false},
		{"Go files below the top are not a main package here", map[string]os.FileMode{"pkg/a.go": 0o644}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tc.files)
			if got := needsGoBuild(dir); got != tc.want {
				t.Errorf("needsGoBuild = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBuildCodeBuildsGoSourcesIntoBootstrap(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not installed")
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":          "module example.com/fn\n\ngo 1.21\n",
		"main.go":         "package main\n\nfunc main() {}\n",
		"static/note.txt": "kept",
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var progress bytes.Buffer
	e := newEnv(&bytes.Buffer{}, &progress)
	data, err := e.buildCode(t.Context(), dir, "provided.al2023")
	if err != nil {
		t.Fatal(err)
	}
	names, modes, contents := zipEntries(t, data)
	if got := strings.Join(names, ","); got != "bootstrap,go.mod,main.go,static/note.txt" {
		t.Errorf("entries %s", got)
	}
	if modes["bootstrap"]&0o111 == 0 || !strings.HasPrefix(contents["bootstrap"], "\x7fELF") {
		t.Errorf("bootstrap is not an executable ELF binary (mode %v)", modes["bootstrap"])
	}
	if !strings.Contains(progress.String(), "building "+dir+" with go build") {
		t.Errorf("no progress line: %q", progress.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "bootstrap")); err == nil {
		t.Error("the build left a bootstrap in the source directory")
	}

	// Runtimes other than provided ones never trigger a build.
	data, err = e.buildCode(t.Context(), dir, "python3.12")
	if err != nil {
		t.Fatal(err)
	}
	if names, _, _ := zipEntries(t, data); names[0] == "bootstrap" {
		t.Error("a python function's code was built")
	}
}
