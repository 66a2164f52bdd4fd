package pool

import (
	"slices"
	"testing"
)

func TestStartupEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"none", []string{"PATH=/bin", "AWS_REGION=us-east-1"}, nil},
		{"sorted subset", []string{"TZ=:UTC", "_HANDLER=a.b", "PYTHONPATH=/var/task", "LANG=en_US.UTF-8"},
			[]string{"LANG=en_US.UTF-8", "PYTHONPATH=/var/task", "TZ=:UTC"}},
		{"empty value counts", []string{"NODE_OPTIONS="}, []string{"NODE_OPTIONS="}},
	} {
		if got := startupEnv(tc.env); !slices.Equal(got, tc.want) {
			t.Errorf("%s: startupEnv = %q, want %q", tc.name, got, tc.want)
		}
	}
}
