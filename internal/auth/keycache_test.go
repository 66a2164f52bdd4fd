package auth

import (
	"bytes"
	"fmt"
	"testing"
)

func TestKeyCacheDerivesTheSameKeys(t *testing.T) {
	var kc keyCache
	scopes := []credential{
		{Date: "20261207", Region: "us-east-1", Service: "lambda"},
		{Date: "20261207", Region: "us-east-1", Service: "iam"},
		{Date: "20261208", Region: "us-east-1", Service: "lambda"},
		{Date: "20261207", Region: "eu-west-1", Service: "lambda"},
	}
	for _, secret := range []string{"secret-a", "secret-b"} {
		for _, c := range scopes {
			want := signingKey(secret, c)
			for range 2 { // a miss, then a hit
				if got := kc.get(secret, c); !bytes.Equal(got, want) {
					t.Fatalf("key for %s %+v = %x, want %x", secret, c, got, want)
				}
			}
		}
	}
	if n := len(kc.keys); n != 8 {
		t.Fatalf("cache holds %d keys, want 8", n)
	}
}

func TestKeyCacheStartsOverAtItsLimit(t *testing.T) {
	var kc keyCache
	for i := range keyCacheLimit + 10 {
		c := credential{Date: "20261207", Region: "us-east-1", Service: "lambda"}
		secret := fmt.Sprintf("s%d", i)
		if got := kc.get(secret, c); !bytes.Equal(got, signingKey(secret, c)) {
			t.Fatalf("key %d differs", i)
		}
	}
	if n := len(kc.keys); n > keyCacheLimit {
		t.Fatalf("cache holds %d keys, past its limit %d", n, keyCacheLimit)
	}
}
