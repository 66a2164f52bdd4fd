// Package runtimes provides the managed runtimes updraft ships: for
// python3.* and nodejs* functions it finds a real interpreter on the host
// and supplies a runtime interface client, written for updraft with each
// language's standard library only, that speaks the Runtime API to the
// environment's server and calls the function's handler.
//
// The clients are embedded in the binary and written once per content
// hash under <data-dir>/runtimes/<hash>, world-readable, so the sandbox can
// mount that directory read-only at /var/runtime (Lambda's
// LAMBDA_RUNTIME_DIR) for the unprivileged function user.
package runtimes

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

//go:embed python node
var clients embed.FS

// Runtimes resolves managed runtimes.
type Runtimes struct {
	dir string
	// lookPath finds interpreter candidates; replaced in tests.
	lookPath func(string) ([]string, error)

	// found caches interpreter results by name: every cold start of a
	// managed runtime asks, and the answer does not change while the
	// server runs.
	mu    sync.Mutex
	found map[string]string

	// nodeSDK is the node_modules directory of the AWS SDK for
	// JavaScript that nodejs functions may import, or "".
	nodeSDK string
}

// Option configures New.
type Option func(*Runtimes)

// WithNodeSDK makes dir/node_modules, when it exists, the place nodejs
// functions find the AWS SDK for JavaScript v3 (and whatever else was
// installed there) that they do not ship: on NODE_PATH after their
// layers', as Lambda's /var/runtime/node_modules. dir must be visible
// inside the sandbox at the same path (under /usr).
func WithNodeSDK(dir string) Option {
	return func(r *Runtimes) {
		if dir == "" {
			return
		}
		nm := filepath.Join(dir, "node_modules")
		if st, err := os.Stat(nm); err == nil && st.IsDir() {
			r.nodeSDK = nm
		}
	}
}

// NodeSDK is the node_modules directory nodejs functions import the AWS
// SDK from, or "" when there is none.
func (r *Runtimes) NodeSDK() string { return r.nodeSDK }

// Launch is how to start one runtime inside a sandbox.
type Launch struct {
	// Path is the interpreter (a host path, visible in the sandbox).
	Path string
	// Args follow the interpreter: the client's entry point.
	Args []string
	// Env is added to the function's environment (search paths).
	Env map[string]string
	// Template names the runtime template that can run this launch (one
	// per distinct command and search path), "" when the runtime has
	// none: its client can wait, started, for its function (see
	// StartupVariable).
	Template string
	// OwnOutput says the template's runtime cannot take its output
	// descriptors when it is handed its function (Node.js has no dup2):
	// it writes to a pipe of its own from its start.
	OwnOutput bool
}

// StartupVariable reports whether the managed runtime reads the
// environment variable name only when its interpreter starts, so that a
// runtime template started with another value cannot run the function:
// the interpreter's own variables (PYTHON*, NODE_*), the locale, the time
// zone, the dynamic linker's and the C library's.
func StartupVariable(name string) bool {
	switch name {
	case "LANG", "LANGUAGE", "TZ", "HOME", "GLIBC_TUNABLES", "UV_THREADPOOL_SIZE":
		return true
	}
	for _, p := range []string{"PYTHON", "NODE_", "LC_", "LD_", "MALLOC_", "OPENSSL_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// Layout is where the sandbox shows the function's directories, and the
// function's memory size.
type Layout struct {
	RuntimeRoot, TaskRoot, OptRoot string
	MemoryMB                       int
}

// New writes the embedded clients under dataDir/runtimes and returns the
// resolver.
func New(dataDir string, opts ...Option) (*Runtimes, error) {
	sum, err := contentHash()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(dataDir, "runtimes", sum[:16])
	if err := extract(dir); err != nil {
		return nil, err
	}
	r := &Runtimes{dir: dir, lookPath: candidates}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

// Dir is the host directory to mount at the runtime root.
func (r *Runtimes) Dir() string { return r.dir }

// Managed reports whether runtime is one this package provides.
func Managed(runtime string) bool {
	return strings.HasPrefix(runtime, "python3") || strings.HasPrefix(runtime, "nodejs")
}

// Launch returns how to start runtime's client with the directories of l.
func (r *Runtimes) Launch(runtime string, l Layout) (*Launch, error) {
	switch {
	case strings.HasPrefix(runtime, "python3"):
		// The exact version when the host has it (python3.12), else the
		// host's python3: pure-Python code runs on either.
		py, err := r.interpreter(runtime)
		if err != nil {
			if py, err = r.interpreter("python3"); err != nil {
				return nil, err
			}
		}
		paths := []string{l.RuntimeRoot + "/python", l.TaskRoot}
		if l.OptRoot != "" {
			paths = append(paths, l.OptRoot+"/python", l.OptRoot+"/python/lib/"+runtime+"/site-packages")
		}
		return &Launch{
			Path: py,
			Args: []string{"-u", "-X", "utf8", l.RuntimeRoot + "/python/bootstrap.py"},
			Env: map[string]string{
				"PYTHONPATH":              strings.Join(paths, ":"),
				"PYTHONUNBUFFERED":        "1",
				"PYTHONDONTWRITEBYTECODE": "1",
			},
			// The runtime names the site-packages path of its layers.
			Template: "python:" + runtime,
		}, nil
	case strings.HasPrefix(runtime, "nodejs"):
		node, err := r.interpreter("node")
		if err != nil {
			return nil, err
		}
		var paths []string
		if l.OptRoot != "" {
			paths = append(paths, l.OptRoot+"/nodejs/node_modules", l.OptRoot+"/nodejs/"+strings.TrimSuffix(strings.TrimPrefix(runtime, "nodejs"), ".x")+"/node_modules")
		}
		// The SDK follows the layers, as on Lambda (NODE_PATH
		// /opt/nodejs/...:/var/runtime/node_modules:...); require finds
		// the function's own node_modules before any of these.
		if r.nodeSDK != "" {
			paths = append(paths, r.nodeSDK)
		}
		paths = append(paths, l.RuntimeRoot+"/node/node_modules", l.TaskRoot+"/node_modules")
		// Lambda's Node bootstrap sizes V8's heap from the memory size, so
		// a heap that fills up is a JavaScript error, not a cgroup kill.
		args := []string{"--expose-gc", "--max-http-header-size=81920"}
		if l.MemoryMB > 0 {
			newSpace := l.MemoryMB / 10
			args = append(args, fmt.Sprintf("--max-semi-space-size=%d", newSpace/2), fmt.Sprintf("--max-old-space-size=%d", l.MemoryMB-newSpace))
		}
		return &Launch{
			Path: node,
			Args: append(args, l.RuntimeRoot+"/node/index.mjs"),
			Env:  map[string]string{"NODE_PATH": strings.Join(paths, ":")},
			// The heap's size is fixed when V8 starts: a template per
			// memory size.
			Template:  fmt.Sprintf("node:%s:%d", runtime, l.MemoryMB),
			OwnOutput: true,
		}, nil
	}
	return nil, fmt.Errorf("runtime %s is not supported: use provided.al2023, python3.x or nodejs*.x", runtime)
}

// interpreter finds a real (not a shell shim) executable named name that
// the unprivileged function user can run.
func (r *Runtimes) interpreter(name string) (string, error) {
	r.mu.Lock()
	path, ok := r.found[name]
	r.mu.Unlock()
	if ok {
		return path, nil
	}
	path, err := r.findInterpreter(name)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	if r.found == nil {
		r.found = map[string]string{}
	}
	r.found[name] = path
	r.mu.Unlock()
	return path, nil
}

// findInterpreter looks name up; see interpreter.
func (r *Runtimes) findInterpreter(name string) (string, error) {
	paths, err := r.lookPath(name)
	if err != nil {
		return "", err
	}
	var refused []string
	for _, p := range paths {
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			continue
		}
		if why := unusable(real); why != "" {
			refused = append(refused, p+" ("+why+")")
			continue
		}
		return real, nil
	}
	if len(refused) == 0 {
		return "", fmt.Errorf("no %s interpreter found on this server: install %s (for example with apt-get)", name, name)
	}
	return "", fmt.Errorf("no usable %s interpreter on this server: %s", name, strings.Join(refused, "; "))
}

// candidates lists name in the usual system directories, then on PATH.
func candidates(name string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, dir := range []string{"/usr/bin", "/usr/local/bin", "/bin"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil && !st.IsDir() {
			add(filepath.Join(dir, name))
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			add(abs)
		}
	}
	return out, nil
}

// unusable says why path cannot serve as an interpreter for uid 65534, or
// "" when it can: it must be an ELF executable (a shim script would look
// for its real interpreter in places the sandbox may not show) that
// others may execute, in directories others may search.
func unusable(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	if st.Mode()&0o001 == 0 {
		return "not executable by other users"
	}
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := f.Read(magic); err != nil || string(magic) != "\x7fELF" {
		return "not a binary executable (a shim?)"
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		st, err := os.Stat(dir)
		if err != nil {
			return err.Error()
		}
		if st.Mode()&0o001 == 0 {
			return dir + " is not searchable by other users"
		}
		if dir == "/" {
			return ""
		}
	}
}

// contentHash digests every embedded file, so a new build writes a new
// directory and never changes files a running sandbox has mounted.
func contentHash() (string, error) {
	var names []string
	err := fs.WalkDir(clients, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("runtimes: list clients: %w", err)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := clients.ReadFile(n)
		if err != nil {
			return "", fmt.Errorf("runtimes: read %s: %w", n, err)
		}
		fmt.Fprintf(h, "%s %d\n", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// extract writes the clients to dir (once: a complete dir is kept).
func extract(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return nil
	}
	tmp := dir + ".tmp"
	_ = os.RemoveAll(tmp)
	err := fs.WalkDir(clients, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(tmp, p)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := clients.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err == nil {
		err = os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644)
	}
	if err == nil {
		err = os.MkdirAll(filepath.Dir(dir), 0o755)
	}
	if err == nil {
		_ = os.RemoveAll(dir)
		err = os.Rename(tmp, dir)
	}
	if err != nil {
		return fmt.Errorf("runtimes: write clients to %s: %w", dir, errors.Join(err, os.RemoveAll(tmp)))
	}
	// The data dir may be 0700: the function user must reach the clients.
	return os.Chmod(dir, 0o755)
}
