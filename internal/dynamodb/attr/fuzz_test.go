package attr

import (
	"encoding/json"
	"testing"
)

// FuzzValue: any JSON either decodes into a value that encodes and
// decodes back to an equal value, or is refused.
func FuzzValue(f *testing.F) {
	for _, s := range []string{`{"S":"a"}`, `{"N":"-1.5e3"}`, `{"NS":["1","2"]}`, `{"M":{"a":{"L":[{"NULL":true},{"BOOL":false}]}}}`, `{"BS":["aGk="]}`, `{"SS":["a","a"]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v Value
		if json.Unmarshal([]byte(s), &v) != nil {
			return
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var w Value
		if err := json.Unmarshal(b, &w); err != nil || !Equal(v, w) {
			t.Fatalf("%s -> %s: %v", s, b, err)
		}
		_ = v.Size()
	})
}

// FuzzNumber: what parses prints in canonical form that parses to the
// same number.
func FuzzNumber(f *testing.F) {
	for _, s := range []string{"1", "-0.0e5", "1e125", ".5", "+007"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNumber(s)
		if err != nil {
			return
		}
		m, err := ParseNumber(n.String())
		if err != nil || m.Cmp(n) != 0 || m.String() != n.String() {
			t.Fatalf("%q -> %q: %v", s, n.String(), err)
		}
	})
}
