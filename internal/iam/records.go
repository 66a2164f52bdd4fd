package iam

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Key prefixes of the updraft-iam bucket (see the package documentation).
const (
	prefixUser       = "user."
	prefixRole       = "role."
	prefixPolicy     = "policy."
	prefixRevokedKey = "revoked.key."
	prefixRevokedTag = "revoked.tag."
	keySigningKey    = "signing-key"
)

// policySet is what users and roles have in common: inline policies and
// attached managed policies.
type policySet struct {
	// Inline maps an inline policy's name to its document (JSON).
	Inline map[string]string `json:"inline,omitempty"`
	// Attached holds managed policy ARNs in the order they were attached.
	Attached []string `json:"attached,omitempty"`
}

type keyRecord struct {
	ID      string          `json:"id"`
	Secret  string          `json:"secret"`
	Status  AccessKeyStatus `json:"status"`
	Created time.Time       `json:"created"`
}

type userRecord struct {
	Name    string      `json:"name"`
	ID      string      `json:"id"`
	Path    string      `json:"path"`
	Created time.Time   `json:"created"`
	Tags    []Tag       `json:"tags,omitempty"`
	Keys    []keyRecord `json:"keys,omitempty"`
	policySet
}

type roleRecord struct {
	Name        string    `json:"name"`
	ID          string    `json:"id"`
	Path        string    `json:"path"`
	Trust       string    `json:"trust"`
	Description string    `json:"description,omitempty"`
	MaxSession  int       `json:"maxSession"`
	Created     time.Time `json:"created"`
	Tags        []Tag     `json:"tags,omitempty"`
	policySet
}

type versionRecord struct {
	ID      string    `json:"id"`
	Doc     string    `json:"doc"`
	Created time.Time `json:"created"`
}

type policyRecord struct {
	Name        string          `json:"name"`
	ID          string          `json:"id"`
	Path        string          `json:"path"`
	Description string          `json:"description,omitempty"`
	Created     time.Time       `json:"created"`
	Updated     time.Time       `json:"updated"`
	Default     string          `json:"default"`
	Versions    []versionRecord `json:"versions"`
	// Next is the number of the next version: version ids are never
	// reused, as in IAM.
	Next int   `json:"next"`
	Tags []Tag `json:"tags,omitempty"`
}

// revocationRecord marks revoked sessions until it expires.
type revocationRecord struct {
	At time.Time `json:"at"`
}

func userKey(name string) string   { return prefixUser + keyToken(strings.ToLower(name)) }
func roleKey(name string) string   { return prefixRole + keyToken(strings.ToLower(name)) }
func policyKey(name string) string { return prefixPolicy + keyToken(strings.ToLower(name)) }

// keyToken escapes s into one KV key token: lower-case letters, digits,
// '-' and '_' stay; every other byte becomes "=" and two hex digits. It is
// unambiguous ('=' always starts an escape), so distinct strings never
// share a key. The empty string, which no record is named but a lookup
// may ask for, is "=" alone: JetStream refuses an empty key token.
func keyToken(s string) string {
	if s == "" {
		return "="
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('=')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// idAlphabet is the alphabet of IAM's unique ids and access key ids.
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newID returns prefix followed by random characters of idAlphabet up to
// length n: "AIDA" for users, "AROA" roles, "ANPA" policies (21), "AKIA"
// and "ASIA" access keys (20).
func newID(prefix string, n int) string {
	id := make([]byte, 0, n)
	id = append(id, prefix...)
	var buf [32]byte
	for len(id) < n {
		_, _ = rand.Read(buf[:]) // never fails (crypto/rand)
		for _, b := range buf {
			// 252 = 7*36: rejecting larger bytes keeps characters uniform.
			if b < 252 && len(id) < n {
				id = append(id, idAlphabet[b%36])
			}
		}
	}
	return string(id)
}

// newSecret returns a 40-character secret access key.
func newSecret() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var buf [40]byte
	_, _ = rand.Read(buf[:])
	for i, b := range buf {
		buf[i] = alphabet[b&63]
	}
	return string(buf[:])
}

func decode[T any](key string, b []byte) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("iam: decode %s: %w", key, err)
	}
	return v, nil
}

// now returns the store's clock, truncated to seconds as IAM shows dates.
func (s *Store) now() time.Time { return s.clock().UTC().Truncate(time.Second) }
