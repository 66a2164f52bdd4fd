package auth

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// CredentialsFile is the name of the credentials file in the data directory.
const CredentialsFile = "credentials.json"

// Credentials is an AWS-style access key pair that clients sign with.
type Credentials struct {
	// AccessKeyID is the public half, e.g. "AKIAIOSFODNN7EXAMPLE".
	AccessKeyID string `json:"AccessKeyId"`
	// SecretAccessKey is the secret half; never logged.
	SecretAccessKey string `json:"SecretAccessKey"`
}

// String returns the access key ID with the secret redacted, so that
// credentials printed by accident do not leak.
func (c Credentials) String() string {
	return c.AccessKeyID + ":<redacted>"
}

// GoString is String for the %#v verb.
func (c Credentials) GoString() string { return "auth.Credentials{" + c.String() + "}" }

// LoadOrCreate returns the server's credentials. If fromEnv has both fields
// (the operator set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), they are
// used as they are and nothing is written. Otherwise the pair is read from
// <dataDir>/credentials.json, which must be readable by its owner only
// (mode 0600). If that file does not exist, a fresh pair is generated with
// crypto/rand, written there with mode 0600 (the directory is created 0700
// if needed), and created is true so the caller can print [ExportLines].
//
// Only one of the two fields in fromEnv is an error: an operator who set one
// variable surely meant to set both.
func LoadOrCreate(dataDir string, fromEnv Credentials) (c Credentials, created bool, err error) {
	switch {
	case fromEnv.AccessKeyID != "" && fromEnv.SecretAccessKey != "":
		return fromEnv, false, nil
	case fromEnv.AccessKeyID != "" || fromEnv.SecretAccessKey != "":
		return Credentials{}, false, errors.New("auth: credentials from the environment need both an access key ID and a secret access key")
	}
	if dataDir == "" {
		return Credentials{}, false, errors.New("auth: load credentials: empty data directory")
	}
	path := filepath.Join(dataDir, CredentialsFile)
	c, err = readCredentials(path)
	if err == nil {
		return c, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return Credentials{}, false, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return Credentials{}, false, fmt.Errorf("auth: create data directory: %w", err)
	}
	c, err = Generate()
	if err != nil {
		return Credentials{}, false, err
	}
	won, err := writeCredentials(path, c)
	if err != nil {
		return Credentials{}, false, err
	}
	if !won {
		// Another process created the file first; use its pair.
		c, err = readCredentials(path)
		return c, false, err
	}
	return c, true, nil
}

// readCredentials reads and checks a credentials file.
func readCredentials(path string) (Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("auth: read credentials: %w", err)
	}
	defer f.Close() //nolint:errcheck // read-only
	st, err := f.Stat()
	if err != nil {
		return Credentials{}, fmt.Errorf("auth: read credentials: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return Credentials{}, fmt.Errorf("auth: read credentials: %s has mode %#o, want 0600 (chmod 600 %s)", path, perm, path)
	}
	var c Credentials
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Credentials{}, fmt.Errorf("auth: read credentials %s: %w", path, err)
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return Credentials{}, fmt.Errorf("auth: read credentials %s: AccessKeyId and SecretAccessKey are both required", path)
	}
	return c, nil
}

// writeCredentials writes c to path with mode 0600 unless path already
// exists, in which case it reports won=false and leaves the file alone. The
// pair is written to a temporary file and hard-linked into place, so a
// reader never sees a partial file and two servers starting at once agree.
func writeCredentials(path string, c Credentials) (won bool, err error) {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return false, fmt.Errorf("auth: encode credentials: %w", err)
	}
	data = append(data, '\n')
	tmp, err := os.CreateTemp(filepath.Dir(path), ".credentials-*.tmp") // mode 0600
	if err != nil {
		return false, fmt.Errorf("auth: write credentials: %w", err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // best effort; the link below is what counts
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return false, fmt.Errorf("auth: write credentials: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return false, fmt.Errorf("auth: write credentials: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return false, fmt.Errorf("auth: write credentials: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("auth: write credentials: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("auth: write credentials: %w", err)
	}
	return true, nil
}

// akidAlphabet is the alphabet of the 16 characters after "AKIA".
const akidAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// Generate returns a new random key pair in AWS's shapes: an access key ID
// of "AKIA" and 16 upper-case letters and digits, and a 40-character secret
// in the base64 alphabet (30 random bytes).
func Generate() (Credentials, error) {
	id := make([]byte, 0, 20)
	id = append(id, "AKIA"...)
	var buf [32]byte
	for len(id) < 20 {
		if _, err := rand.Read(buf[:]); err != nil {
			return Credentials{}, fmt.Errorf("auth: generate access key ID: %w", err)
		}
		for _, b := range buf {
			// 252 = 7*36: rejecting larger bytes keeps every character
			// equally likely.
			if b < 252 && len(id) < 20 {
				id = append(id, akidAlphabet[b%36])
			}
		}
	}
	secret := make([]byte, 30)
	if _, err := rand.Read(secret); err != nil {
		return Credentials{}, fmt.Errorf("auth: generate secret access key: %w", err)
	}
	return Credentials{
		AccessKeyID:     string(id),
		SecretAccessKey: base64.StdEncoding.EncodeToString(secret),
	}, nil
}

// ExportLines returns the shell lines that configure the AWS CLI and SDKs
// with c, for the server to print when it created the pair:
//
//	export AWS_ACCESS_KEY_ID=AKIA...
//	export AWS_SECRET_ACCESS_KEY=...
//
// Values that are not shell-safe are single-quoted.
func ExportLines(c Credentials) string {
	return "export AWS_ACCESS_KEY_ID=" + shellQuote(c.AccessKeyID) + "\n" +
		"export AWS_SECRET_ACCESS_KEY=" + shellQuote(c.SecretAccessKey) + "\n"
}

// shellQuote returns s unchanged if a POSIX shell reads it as one literal
// word, and single-quoted otherwise.
func shellQuote(s string) string {
	safe := s != ""
	for i := 0; i < len(s) && safe; i++ {
		c := s[i]
		safe = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("+/=-_.,:@%", c) >= 0
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
