package auth

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// wellFormed reports whether c has the shapes of a generated pair: an
// access key ID of AKIA and 16 upper-case alphanumerics, and a 40-character
// base64-alphabet secret.
func wellFormed(c Credentials) bool {
	return regexp.MustCompile(`^AKIA[A-Z0-9]{16}$`).MatchString(c.AccessKeyID) &&
		regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`).MatchString(c.SecretAccessKey)
}

func TestLoadOrCreateUsesTheEnvironmentWhenBothValuesAreSet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := Credentials{AccessKeyID: "AKIAENV", SecretAccessKey: "envsecret"}
	c, created, err := LoadOrCreate(dir, env)
	if err != nil {
		t.Fatal(err)
	}
	if c != env || created {
		t.Fatalf("got %v created=%v, want the environment pair, not created", c, created)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("data dir was touched: stat err = %v", err)
	}
}

func TestLoadOrCreateRejectsHalfAnEnvironmentPair(t *testing.T) {
	for _, env := range []Credentials{{AccessKeyID: "AKIAENV"}, {SecretAccessKey: "s"}} {
		if _, _, err := LoadOrCreate(t.TempDir(), env); err == nil {
			t.Errorf("LoadOrCreate with %#v succeeded, want an error", env)
		}
	}
}

func TestLoadOrCreateGeneratesThenReloads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	c, created, err := LoadOrCreate(dir, Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("created = false on first start")
	}
	if !wellFormed(c) {
		t.Errorf("generated %q / %q, want AKIA+16 upper-case alphanumerics and 40 base64 characters", c.AccessKeyID, c.SecretAccessKey)
	}
	st, err := os.Stat(filepath.Join(dir, CredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode = %#o, want 0600", st.Mode().Perm())
	}
	dst, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if dst.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode = %#o, want 0700", dst.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only %s", len(entries), CredentialsFile)
	}

	again, created, err := LoadOrCreate(dir, Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	if created || again != c {
		t.Fatalf("second start: got %v created=%v, want the same pair, not created", again, created)
	}
}

func TestLoadOrCreateReadsAnExistingFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    Credentials
		wantErr string
	}{
		{name: "a valid 0600 file", content: `{"AccessKeyId":"AKIAFILE","SecretAccessKey":"filesecret"}`, mode: 0o600,
			want: Credentials{"AKIAFILE", "filesecret"}},
		{name: "a group-readable file", content: `{"AccessKeyId":"AKIAFILE","SecretAccessKey":"filesecret"}`, mode: 0o640, wantErr: "want 0600"},
		{name: "a world-readable file", content: `{"AccessKeyId":"AKIAFILE","SecretAccessKey":"filesecret"}`, mode: 0o644, wantErr: "want 0600"},
		{name: "broken JSON", content: `{"AccessKeyId":`, mode: 0o600, wantErr: "read credentials"},
		{name: "a missing secret", content: `{"AccessKeyId":"AKIAFILE"}`, mode: 0o600, wantErr: "both required"},
		{name: "an unknown field", content: `{"AccessKeyId":"A","SecretAccessKey":"s","Token":"x"}`, mode: 0o600, wantErr: "unknown field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, CredentialsFile)
			if err := os.WriteFile(path, []byte(tc.content), tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil { // umask-proof
				t.Fatal(err)
			}
			c, created, err := LoadOrCreate(dir, Credentials{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if created || c != tc.want {
				t.Fatalf("got %v created=%v, want %v", c, created, tc.want)
			}
		})
	}
}

func TestLoadOrCreateFileRoundTripsThroughJSON(t *testing.T) {
	dir := t.TempDir()
	c, _, err := LoadOrCreate(dir, Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, CredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]string
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["AccessKeyId"] != c.AccessKeyID || raw["SecretAccessKey"] != c.SecretAccessKey {
		t.Fatalf("file %s does not hold the returned pair", data)
	}
}

func TestGenerateMakesDistinctWellFormedPairs(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		if !wellFormed(c) {
			t.Fatalf("malformed pair %q / %q", c.AccessKeyID, c.SecretAccessKey)
		}
		if seen[c.AccessKeyID] {
			t.Fatalf("access key ID %s generated twice", c.AccessKeyID)
		}
		seen[c.AccessKeyID] = true
	}
}

func TestExportLines(t *testing.T) {
	tests := []struct {
		name string
		c    Credentials
		want string
	}{
		{name: "a generated-style pair is printed bare", c: Credentials{"AKIAABCDEFGHIJ012345", "abc+/def=="},
			want: "export AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJ012345\nexport AWS_SECRET_ACCESS_KEY=abc+/def==\n"},
		{name: "shell metacharacters are single-quoted", c: Credentials{"AKIA", "it's $HOME"},
			want: "export AWS_ACCESS_KEY_ID=AKIA\nexport AWS_SECRET_ACCESS_KEY='it'\\''s $HOME'\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ExportLines(tc.c); got != tc.want {
				t.Fatalf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestCredentialsNeverFormatTheSecret(t *testing.T) {
	c := Credentials{AccessKeyID: "AKIAVISIBLE", SecretAccessKey: "top-secret-value"}
	for _, verb := range []string{"%v", "%+v", "%s", "%#v"} {
		if got := fmt.Sprintf(verb, c); strings.Contains(got, c.SecretAccessKey) || !strings.Contains(got, c.AccessKeyID) {
			t.Errorf("Sprintf(%q) = %q", verb, got)
		}
	}
}
