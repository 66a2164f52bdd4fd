package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// needsGoBuild reports whether --code dir is the source of a Go function
// rather than its build: a directory with Go files at its top and no
// bootstrap. Deploying such a directory as it is would give a provided
// runtime nothing to run, so the CLI builds it (see goBuild), the way the
// examples are meant to be deployed:
//
//	updraft function create hello --code examples/hello-go
func needsGoBuild(dir string) bool {
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		return false
	}
	if _, err := os.Stat(filepath.Join(dir, "bootstrap")); err == nil {
		return false
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, m := range matches {
		if !strings.HasSuffix(m, "_test.go") {
			return true
		}
	}
	return false
}

// goBuild compiles the main package in dir into outDir/bootstrap for
// linux (the provided runtimes' OS, "Deploy Go Lambda functions with .zip
// file archives": GOOS=linux, CGO_ENABLED=0, the binary named bootstrap)
// on the host's architecture, and returns the binary's path. The go
// command's output goes to progress, which also gets one line saying what
// is being built.
func goBuild(ctx context.Context, dir, outDir string, progress io.Writer) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("--code %s holds Go sources but no bootstrap, and the go command is not installed to build them: "+
			"build with GOOS=linux go build -o bootstrap and deploy the result", dir)
	}
	out := filepath.Join(outDir, "bootstrap")
	fmt.Fprintf(progress, "building %s with go build (GOOS=linux GOARCH=%s CGO_ENABLED=0) into bootstrap\n", dir, runtime.GOARCH)
	cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build in %s: %w\n%s", dir, err, strings.TrimSpace(output.String()))
	}
	if _, err := progress.Write(output.Bytes()); err != nil {
		return "", fmt.Errorf("go build in %s: %w", dir, err)
	}
	return out, nil
}

// buildCode loads --code for a function of the given runtime ("" when an
// update does not change it), building Go sources first when needsGoBuild
// says so and the runtime is a provided one.
func (e *env) buildCode(ctx context.Context, path, fnRuntime string) ([]byte, error) {
	var extra map[string]string
	if (fnRuntime == "" || strings.HasPrefix(fnRuntime, "provided")) && needsGoBuild(path) {
		tmp, err := os.MkdirTemp("", "updraft-build-")
		if err != nil {
			return nil, fmt.Errorf("go build: %w", err)
		}
		defer os.RemoveAll(tmp)
		bin, err := goBuild(ctx, path, tmp, e.stderr)
		if err != nil {
			return nil, err
		}
		extra = map[string]string{"bootstrap": bin}
	}
	return loadCode(path, extra)
}
