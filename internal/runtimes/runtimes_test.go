package runtimes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInterpreterSkipsShims(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shim := filepath.Join(dir, "python3")
	if err := os.WriteFile(shim, []byte("#!/bin/sh\nexec pyenv exec python3 \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := &Runtimes{dir: dir, lookPath: func(string) ([]string, error) { return []string{shim}, nil }}
	if _, err := r.interpreter("python3"); err == nil || !strings.Contains(err.Error(), "shim") {
		t.Fatalf("a shell shim was accepted: %v", err)
	}
	real, err := os.Executable() // an ELF binary in a directory the test can search
	if err != nil {
		t.Fatal(err)
	}
	r.lookPath = func(string) ([]string, error) { return []string{shim, real}, nil }
	got, err := r.interpreter("python3")
	if why := unusable(real); why != "" {
		t.Skipf("the test binary itself is not reachable by others here: %s", why)
	}
	if err != nil || got != real {
		t.Fatalf("interpreter = %q, %v; want %q", got, err, real)
	}
}

func TestLaunchSearchPaths(t *testing.T) {
	r, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"python/bootstrap.py", "node/index.mjs"} {
		if _, err := os.Stat(filepath.Join(r.Dir(), f)); err != nil {
			t.Errorf("client %s not written: %v", f, err)
		}
	}
	l := Layout{RuntimeRoot: "/var/runtime", TaskRoot: "/var/task", OptRoot: "/opt"}
	py, err := r.Launch("python3.12", l)
	if err != nil {
		t.Skipf("no python3 here: %v", err)
	}
	if want := "/var/runtime/python:/var/task:/opt/python:/opt/python/lib/python3.12/site-packages"; py.Env["PYTHONPATH"] != want {
		t.Errorf("PYTHONPATH = %q, want %q", py.Env["PYTHONPATH"], want)
	}
	if _, err := r.Launch("java21", l); err == nil {
		t.Error("java21 was accepted")
	}
}

func TestNodeHeapFollowsMemorySize(t *testing.T) {
	r, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l, err := r.Launch("nodejs20.x", Layout{RuntimeRoot: "/var/runtime", TaskRoot: "/var/task", MemoryMB: 1024})
	if err != nil {
		t.Skipf("no node here: %v", err)
	}
	got := strings.Join(l.Args, " ")
	for _, want := range []string{"--max-semi-space-size=51", "--max-old-space-size=922", "/var/runtime/node/index.mjs"} {
		if !strings.Contains(got, want) {
			t.Errorf("node args %q lack %s", got, want)
		}
	}
}

func TestNodeSDKFollowsLayers(t *testing.T) {
	sdk := t.TempDir()
	if err := os.Mkdir(filepath.Join(sdk, "node_modules"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir, want string
	}{
		{"installed", sdk, "/opt/nodejs/node_modules:/opt/nodejs/20/node_modules:" + sdk + "/node_modules:/var/runtime/node/node_modules:/var/task/node_modules"},
		{"not installed", filepath.Join(sdk, "missing"), "/opt/nodejs/node_modules:/opt/nodejs/20/node_modules:/var/runtime/node/node_modules:/var/task/node_modules"},
		{"turned off", "", "/opt/nodejs/node_modules:/opt/nodejs/20/node_modules:/var/runtime/node/node_modules:/var/task/node_modules"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(t.TempDir(), WithNodeSDK(tc.dir))
			if err != nil {
				t.Fatal(err)
			}
			l, err := r.Launch("nodejs20.x", Layout{RuntimeRoot: "/var/runtime", TaskRoot: "/var/task", OptRoot: "/opt"})
			if err != nil {
				t.Skipf("no node here: %v", err)
			}
			if got := l.Env["NODE_PATH"]; got != tc.want {
				t.Errorf("NODE_PATH = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStartupVariable(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"PYTHONPATH", true},
		{"PYTHONHASHSEED", true},
		{"NODE_OPTIONS", true},
		{"NODE_PATH", true},
		{"LANG", true},
		{"LC_ALL", true},
		{"TZ", true},
		{"LD_LIBRARY_PATH", true},
		{"LD_PRELOAD", true},
		{"HOME", true},
		{"MALLOC_ARENA_MAX", true},
		{"UV_THREADPOOL_SIZE", true},
		{"PATH", false},
		{"AWS_REGION", false},
		{"_HANDLER", false},
		{"GREETING", false},
		{"NODEJS", false},
	} {
		if got := StartupVariable(tc.name); got != tc.want {
			t.Errorf("StartupVariable(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestLaunchTemplates(t *testing.T) {
	r := &Runtimes{dir: t.TempDir(), lookPath: func(name string) ([]string, error) { return []string{"/bin/true"}, nil }}
	l := Layout{RuntimeRoot: "/var/runtime", TaskRoot: "/var/task", OptRoot: "/opt", MemoryMB: 128}
	py, err := r.Launch("python3.12", l)
	if err != nil {
		t.Fatal(err)
	}
	node128, err := r.Launch("nodejs20.x", l)
	if err != nil {
		t.Fatal(err)
	}
	l.MemoryMB = 512
	node512, err := r.Launch("nodejs20.x", l)
	if err != nil {
		t.Fatal(err)
	}
	if py.Template != "python:python3.12" || py.OwnOutput {
		t.Errorf("python3.12: template %q own output %v", py.Template, py.OwnOutput)
	}
	// V8's heap limits come from the memory size: one template each.
	if node128.Template == node512.Template || !node128.OwnOutput {
		t.Errorf("nodejs20.x: templates %q and %q, own output %v", node128.Template, node512.Template, node128.OwnOutput)
	}
}
