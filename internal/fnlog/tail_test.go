package fnlog

import (
	"strings"
	"testing"
)

func TestRing(t *testing.T) {
	big := strings.Repeat("0123456789", 500) // 5000 bytes
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"nothing written", nil, ""},
		{"short writes are kept whole", []string{"ab", "cd"}, "abcd"},
		{"a write larger than the ring keeps its end", []string{"x", big}, big[len(big)-TailSize:]},
		{"wrapping keeps the last bytes in order", []string{big[:3000], big[3000:]}, big[len(big)-TailSize:]},
		{"exactly full", []string{big[:TailSize]}, big[:TailSize]},
		{"full then one more", []string{big[:TailSize], "!"}, big[1:TailSize] + "!"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r ring
			for _, w := range tc.writes {
				r.writeString(w)
			}
			if got := string(r.bytes()); got != tc.want {
				t.Errorf("got %d bytes %.40q…, want %d bytes %.40q…", len(got), got, len(tc.want), tc.want)
			}
		})
	}
}
