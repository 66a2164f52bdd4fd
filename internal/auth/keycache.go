package auth

import "sync"

// keyCacheLimit bounds the signing keys a Verifier remembers. A key is
// valid for one day, region and service, so a server sees a handful per
// access key; past the limit (many keys, or a caller cycling scopes) the
// cache starts over rather than grow.
const keyCacheLimit = 4096

// keyCacheEntry names one derived signing key: the secret and the scope it
// was derived for.
type keyCacheEntry struct {
	secret, date, region, service string
}

// keyCache remembers derived SigV4 signing keys. Deriving one takes four
// HMAC-SHA256 rounds, about a quarter of a warm request's verification;
// the same client signs every request of a day with the same key.
type keyCache struct {
	mu   sync.RWMutex
	keys map[keyCacheEntry][]byte
}

// get returns the signing key for secret and c, deriving and remembering
// it on a miss. The returned slice must not be modified.
func (kc *keyCache) get(secret string, c credential) []byte {
	e := keyCacheEntry{secret: secret, date: c.Date, region: c.Region, service: c.Service}
	kc.mu.RLock()
	k, ok := kc.keys[e]
	kc.mu.RUnlock()
	if ok {
		return k
	}
	k = signingKey(secret, c)
	kc.mu.Lock()
	if kc.keys == nil || len(kc.keys) >= keyCacheLimit {
		kc.keys = make(map[keyCacheEntry][]byte)
	}
	kc.keys[e] = k
	kc.mu.Unlock()
	return k
}
