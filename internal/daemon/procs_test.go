package daemon

import "testing"

func TestServerProcs(t *testing.T) {
	for _, tc := range []struct {
		name      string
		flag      int
		env       string
		goDefault int
		want      int
	}{
		{"half of two CPUs", 0, "", 2, 1},
		{"half of eight CPUs", 0, "", 8, 4},
		{"one CPU stays one", 0, "", 1, 1},
		{"odd counts round down", 0, "", 3, 1},
		{"the flag wins", 3, "", 8, 3},
		{"the flag wins over the variable", 2, "6", 8, 2},
		{"the variable is left as Go applied it", 0, "6", 6, 0},
	} {
		if got := serverProcs(tc.flag, tc.env, tc.goDefault); got != tc.want {
			t.Errorf("%s: serverProcs(%d, %q, %d) = %d, want %d", tc.name, tc.flag, tc.env, tc.goDefault, got, tc.want)
		}
	}
}
