package daemon

import (
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/sandbox"
	"github.com/updraft/updraft/internal/store"
)

func TestPrintJoin(t *testing.T) {
	tests := []struct {
		name string
		join store.Join
		want string
	}{
		{name: "nothing to join prints nothing", join: store.Join{}, want: ""},
		{
			name: "a loopback listener prints the URL and the creds",
			join: store.Join{URL: "nats://127.0.0.1:4222", CredsFile: "/data/nats.creds"},
			want: "other nodes can join with: updraft server --nats-url nats://127.0.0.1:4222 --nats-creds /data/nats.creds\n" +
				"  copy /data/nats.creds (the NATS key; keep it mode 0600) to each joining node\n",
		},
		{
			name: "a TLS listener with a generated CA prints the CA",
			join: store.Join{URL: "tls://node1:4222", CredsFile: "/data/nats.creds", CAFile: "/data/nats-ca.pem", TLS: true},
			want: "other nodes can join with: updraft server --nats-url tls://node1:4222 --nats-creds /data/nats.creds --nats-ca /data/nats-ca.pem\n" +
				"  copy /data/nats.creds (the NATS key; keep it mode 0600) to each joining node, with /data/nats-ca.pem (the CA that verifies this server)\n",
		},
		{
			name: "paths with spaces are quoted",
			join: store.Join{URL: "tls://node1:4222", CredsFile: "/my data/nats.creds", TLS: true, OwnCert: true},
			want: "other nodes can join with: updraft server --nats-url tls://node1:4222 --nats-creds '/my data/nats.creds'\n" +
				"  copy '/my data/nats.creds' (the NATS key; keep it mode 0600) to each joining node\n" +
				"  joiners verify --nats-tls-cert with the system roots, or add --nats-ca with the CA that signed it\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			printJoin(&b, tc.join)
			if b.String() != tc.want {
				t.Fatalf("printJoin printed\n%s\nwant\n%s", b.String(), tc.want)
			}
		})
	}
}

func TestIsolationLimitsAreOneLine(t *testing.T) {
	if got := isolationLimits(sandbox.Status{Level: sandbox.LevelFull}, false); got != "" {
		t.Errorf("full isolation: %q, want nothing", got)
	}
	for _, forced := range []bool{false, true} {
		got := isolationLimits(sandbox.Status{Level: sandbox.LevelBasic, RunAsUID: 1000}, forced)
		for _, want := range []string{"isolation basic:", "uid 1000", "network", "file system", "processes", "full isolation"} {
			if !strings.Contains(got, want) {
				t.Errorf("forced %v: %q does not mention %q", forced, got, want)
			}
		}
		if strings.Contains(got, "\n") {
			t.Errorf("forced %v: %q is not one line", forced, got)
		}
	}
}

func TestBannerIsolationLineIsForAPerson(t *testing.T) {
	tests := []struct {
		name      string
		isolation string
		status    sandbox.Status
		want      string
	}{
		{
			name: "full isolation on cgroup v1", isolation: "full",
			status: sandbox.Status{Level: sandbox.LevelFull, CgroupVersion: "v1", Freezer: "cgroup", Namespaces: true, RunAsUID: 65534, MemoryEnforcement: "cgroup", Network: "egress"},
			want:   "isolation: full: own namespaces (mount, pid, ipc, uts, network), cgroup v1 (memory limit by the cgroup, freezing by the cgroup freezer), functions run as uid 65534, network: outbound only\n",
		},
		{
			name: "basic isolation says why", isolation: "basic",
			status: sandbox.Status{Level: sandbox.LevelBasic, Freezer: "signal", RunAsUID: 1000, MemoryEnforcement: "watcher", Network: "host", Reason: "not root"},
			want:   "isolation: basic: no namespaces (a process group per function), memory limit by a watcher, freezing by SIGSTOP, functions run as uid 1000, network: the host's; not root\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			printBanner(&b, banner{Isolation: tc.isolation, Status: tc.status, Endpoint: "http://127.0.0.1:9321"})
			line, _, _ := strings.Cut(b.String(), "\n")
			if line+"\n" != tc.want {
				t.Fatalf("isolation line\n%s\nwant\n%s", line, tc.want)
			}
			if strings.ContainsAny(line, "{}") {
				t.Fatalf("the isolation line prints a Go struct: %s", line)
			}
		})
	}
}
