package iam

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Credentials are temporary credentials of a role session.
type Credentials struct {
	// AccessKeyID is "ASIA" and 16 upper-case letters and digits.
	AccessKeyID string
	// SecretAccessKey is 40 characters, derived from the token.
	SecretAccessKey string
	// SessionToken carries the session (see the package documentation).
	SessionToken string
	// Expiration is when the credentials stop working.
	Expiration time.Time
}

// Session errors of LookupSession; the authenticator maps them to STS's
// InvalidClientTokenId / ExpiredToken answers.
var (
	// ErrSessionInvalid: the token is malformed, forged, or not of this
	// access key id.
	ErrSessionInvalid = errors.New("iam: the security token included in the request is invalid")
	// ErrSessionExpired: the session's expiry has passed.
	ErrSessionExpired = errors.New("iam: the security token included in the request is expired")
	// ErrSessionRevoked: the session (or its tag) was revoked.
	ErrSessionRevoked = errors.New("iam: the security token included in the request was revoked")
)

// Session durations: STS's 15 minutes to the role's maximum (at most 12
// hours). A revocation outlives the longest session issued before it,
// and a few minutes of clock skew between nodes.
const (
	MinSessionDuration = 15 * time.Minute
	revocationTTL      = maxSessionDuration*time.Second + 5*time.Minute
)

// SessionOption sets an optional property of a session.
type SessionOption func(*sessionClaims)

// WithTag sets the session's opaque tag (e.g. the id of the execution
// environment the credentials are for): RevokeTag revokes every session
// carrying it. At most 255 bytes.
func WithTag(tag string) SessionOption {
	return func(c *sessionClaims) { c.tag = tag }
}

// sessionClaims is what a session token carries.
type sessionClaims struct {
	akid                              string
	expiry                            int64 // unix seconds
	roleARN, roleID, sessionName, tag string
}

// token layout: version byte, akid (20 bytes), expiry (8 bytes, big
// endian), then roleARN, roleID, sessionName and tag each as a one-byte
// length and the bytes; then the HMAC-SHA256 of all that under the token
// key. Base64 (standard) as a whole.
const tokenVersion = 1

func (c *sessionClaims) payload() ([]byte, error) {
	b := make([]byte, 0, 64+len(c.roleARN)+len(c.roleID)+len(c.sessionName)+len(c.tag))
	b = append(b, tokenVersion)
	b = append(b, c.akid...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.expiry))
	for _, f := range []string{c.roleARN, c.roleID, c.sessionName, c.tag} {
		if len(f) > 255 {
			return nil, fmt.Errorf("iam: session field of %d bytes", len(f))
		}
		b = append(b, byte(len(f)))
		b = append(b, f...)
	}
	return b, nil
}

func parseClaims(b []byte) (*sessionClaims, bool) {
	if len(b) < 1+20+8 || b[0] != tokenVersion {
		return nil, false
	}
	c := &sessionClaims{akid: string(b[1:21]), expiry: int64(binary.BigEndian.Uint64(b[21:29]))}
	b = b[29:]
	fields := []*string{&c.roleARN, &c.roleID, &c.sessionName, &c.tag}
	for _, f := range fields {
		if len(b) < 1 || len(b) < 1+int(b[0]) {
			return nil, false
		}
		*f = string(b[1 : 1+int(b[0])])
		b = b[1+int(b[0]):]
	}
	return c, len(b) == 0
}

// IssueSession returns temporary credentials for role lasting ttl (at
// least 15 minutes, at most the role's MaxSessionDuration: the caller
// checks and answers the client; IssueSession refuses what is out of
// range). Nothing is stored.
func (s *Store) IssueSession(role Role, sessionName string, ttl time.Duration, opts ...SessionOption) (Credentials, error) {
	if ttl < MinSessionDuration || ttl > time.Duration(max(role.MaxSessionDuration, minSessionDuration))*time.Second {
		return Credentials{}, fmt.Errorf("iam: session duration %s out of range", ttl)
	}
	exp := s.now().Add(ttl)
	c := sessionClaims{akid: newID("ASIA", 20), expiry: exp.Unix(), roleARN: role.ARN, roleID: role.RoleID, sessionName: sessionName}
	for _, o := range opts {
		o(&c)
	}
	payload, err := c.payload()
	if err != nil {
		return Credentials{}, err
	}
	s.mu.RLock()
	tk, sk := s.v.tokenKey, s.v.secretKey
	s.mu.RUnlock()
	if tk == nil {
		return Credentials{}, errors.New("iam: no signing key")
	}
	token := append(payload, mac(tk, payload)...)
	return Credentials{
		AccessKeyID:     c.akid,
		SecretAccessKey: sessionSecret(sk, payload),
		SessionToken:    base64.StdEncoding.EncodeToString(token),
		Expiration:      exp,
	}, nil
}

func mac(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(payload)
	return m.Sum(nil)
}

// sessionSecret is the first 30 bytes of the payload's HMAC under the
// secret key in base64: 40 characters, like a long-term secret.
func sessionSecret(key, payload []byte) string {
	return base64.StdEncoding.EncodeToString(mac(key, payload)[:30])
}

// LookupSession verifies a session token presented with access key id
// akid and returns the session's secret access key (to check the
// request's signature with) and its principal. It fails with
// ErrSessionInvalid (malformed, forged, another key's token),
// ErrSessionExpired or ErrSessionRevoked. It reads only memory.
func (s *Store) LookupSession(akid, token string) (string, Principal, error) {
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil || len(raw) < sha256.Size {
		return "", Principal{}, ErrSessionInvalid
	}
	payload, sum := raw[:len(raw)-sha256.Size], raw[len(raw)-sha256.Size:]
	s.mu.RLock()
	tk, sk := s.v.tokenKey, s.v.secretKey
	s.mu.RUnlock()
	if tk == nil || !hmac.Equal(mac(tk, payload), sum) {
		return "", Principal{}, ErrSessionInvalid
	}
	c, ok := parseClaims(payload)
	if !ok || c.akid != akid {
		return "", Principal{}, ErrSessionInvalid
	}
	if s.clock().Unix() >= c.expiry {
		return "", Principal{}, ErrSessionExpired
	}
	s.mu.RLock()
	_, revoked := s.v.revokedKeys[akid]
	if !revoked && c.tag != "" {
		_, revoked = s.v.revokedTags[keyToken(c.tag)]
	}
	s.mu.RUnlock()
	if revoked {
		return "", Principal{}, ErrSessionRevoked
	}
	return sessionSecret(sk, payload), s.sessionPrincipal(c), nil
}

func (s *Store) sessionPrincipal(c *sessionClaims) Principal {
	roleName := c.roleARN
	for i := len(roleName) - 1; i >= 0; i-- {
		if roleName[i] == '/' {
			roleName = roleName[i+1:]
			break
		}
	}
	return Principal{
		Type:        PrincipalAssumedRole,
		ARN:         "arn:aws:sts::" + s.cfg.AccountID + ":assumed-role/" + roleName + "/" + c.sessionName,
		Account:     s.cfg.AccountID,
		UserID:      c.roleID + ":" + c.sessionName,
		Name:        roleName,
		RoleARN:     c.roleARN,
		SessionName: c.sessionName,
		AccessKeyID: c.akid,
	}
}

// SessionPrincipal returns the principal of a session of role named
// sessionName (what AssumeRole answers as AssumedRoleUser).
func (s *Store) SessionPrincipal(role Role, sessionName string) Principal {
	return s.sessionPrincipal(&sessionClaims{roleARN: role.ARN, roleID: role.RoleID, sessionName: sessionName})
}

// RevokeSession revokes the session with access key id akid on every
// node: once the watchers applied the record (at once on this node),
// LookupSession refuses it.
func (s *Store) RevokeSession(ctx context.Context, akid string) error {
	if akid == "" || strings.IndexFunc(akid, func(r rune) bool { return (r < 'A' || r > 'Z') && (r < '0' || r > '9') }) >= 0 {
		return fmt.Errorf("iam: revoke session: %q is not an access key id", akid)
	}
	// Access key ids are valid key tokens as they are.
	return s.revoke(ctx, prefixRevokedKey+akid)
}

// RevokeTag revokes every session issued WithTag(tag), past and (until
// the revocation expires, 12 hours and 5 minutes later) future.
func (s *Store) RevokeTag(ctx context.Context, tag string) error {
	if tag == "" {
		return errors.New("iam: revoke sessions: empty tag")
	}
	return s.revoke(ctx, prefixRevokedTag+keyToken(tag))
}

// revoke creates the revocation record key with a TTL past the longest
// session; one that exists already is replaced, so its TTL starts again.
func (s *Store) revoke(ctx context.Context, key string) error {
	b, err := json.Marshal(revocationRecord{At: s.now()})
	if err != nil {
		return fmt.Errorf("iam: revoke %s: %w", key, err)
	}
	for range 3 {
		rev, err := s.kv.Create(ctx, key, b, jetstream.KeyTTL(revocationTTL))
		if err == nil {
			s.apply(key, b, rev, false)
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("iam: revoke %s: %w", key, err)
		}
		if err := s.kv.Delete(ctx, key); err != nil {
			return fmt.Errorf("iam: revoke %s: %w", key, err)
		}
	}
	return fmt.Errorf("iam: revoke %s: %w", key, errConflict)
}
