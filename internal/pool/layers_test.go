package pool

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/updraft/updraft/internal/registry"
	"github.com/updraft/updraft/internal/sandbox"
)

// The registry is the pool's layer source in the daemon.
var _ CodeSource = (*registry.Registry)(nil)

func TestFindBootstrapInLayers(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, mode os.FileMode) string {
		t.Helper()
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if mode != 0 {
			if err := os.WriteFile(filepath.Join(d, "bootstrap"), []byte("#!/bin/sh\n"), mode); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	code, empty, opt, plainOpt := mk("code", 0o755), mk("empty", 0), mk("opt", 0o755), mk("plain-opt", 0o644)
	basicLayout := sandbox.Layout{TaskRoot: empty, OptRoot: opt, TmpDir: "/tmp"}
	const missing = "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"
	tests := []struct {
		name, codeDir, optDir string
		layout                sandbox.Layout
		want, wantErr         string
	}{
		{name: "the code's bootstrap wins over a layer's", codeDir: code, optDir: opt, layout: fullLayout, want: "/var/task/bootstrap"},
		{name: "a layer's bootstrap runs when the code has none", codeDir: empty, optDir: opt, layout: fullLayout, want: "/opt/bootstrap"},
		{name: "in basic mode the layer's bootstrap is at its host path", codeDir: empty, optDir: opt, layout: basicLayout, want: filepath.Join(opt, "bootstrap")},
		{name: "a layer's bootstrap without the execute bit is refused", codeDir: empty, optDir: plainOpt, layout: fullLayout, wantErr: missing},
		{name: "no layers and no bootstrap is refused", codeDir: empty, layout: fullLayout, wantErr: missing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := testVersion()
			v.Runtime = "provided.al2023"
			got, err := findBootstrap(v, tc.codeDir, tc.optDir, tc.layout)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("findBootstrap = %q, %v; want error %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("findBootstrap = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
