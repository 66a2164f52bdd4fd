package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClusterKey(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen.key")
	secret, created, err := loadOrCreateClusterKey(gen, true)
	if err != nil || !created || len(secret) < 32 {
		t.Fatalf("generate: %q %v %v", secret, created, err)
	}
	again, created, err := loadOrCreateClusterKey(gen, true)
	if err != nil || created || again != secret {
		t.Fatalf("second start: %q %v %v, want the same secret, not created", again, created, err)
	}
	if _, _, err := loadOrCreateClusterKey(filepath.Join(dir, "absent.key"), false); err == nil {
		t.Fatal("a named key file that does not exist was accepted")
	}
	for _, tc := range []struct {
		name, body string
		mode       os.FileMode
		want       string // error substring; "" for success
	}{
		{"comment then secret", "# note\n\n  abcdefghijklmnopqrstuvwxyz  \n", 0o600, ""},
		{"readable by others", "abcdefghijklmnopqrstuvwxyz\n", 0o644, "want 0600"},
		{"too short", "short\n", 0o600, "shorter than 16"},
		{"only comments", "# nothing\n", 0o600, "holds no secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "k")
			if err := os.WriteFile(p, []byte(tc.body), tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			got, err := readClusterKey(p)
			switch {
			case tc.want == "" && (err != nil || got != "abcdefghijklmnopqrstuvwxyz"):
				t.Fatalf("got %q, %v", got, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %q, %v; want an error with %q", got, err, tc.want)
			}
		})
	}
}

func TestNodeNameIsKept(t *testing.T) {
	dir := t.TempDir()
	first, err := loadOrCreateNodeName(dir)
	if err != nil || first == "" || strings.ContainsAny(first, " .*>") {
		t.Fatalf("generated %q, %v", first, err)
	}
	second, err := loadOrCreateNodeName(dir)
	if err != nil || second != first {
		t.Fatalf("second start: %q, %v; want %q", second, err, first)
	}
}
