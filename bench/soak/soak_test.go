package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSoak runs the soak for its default 2 minutes (see the package
// comment for what it injects and checks) and fails with every violation
// it reports. It needs root, ip and slirp4netns, and is skipped with
// -short.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak runs for minutes; skipped with -short")
	}
	if why := preflight(); why != "" {
		t.Skip(why)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	w := &lineLogger{t: t}
	violations, err := run(ctx, defaultConfig(), w)
	w.flush()
	if err != nil {
		t.Fatalf("the soak could not run: %v", err)
	}
	for _, v := range violations {
		t.Errorf("violation: %s", v)
	}
}

// TestPercentile checks the figure the connection report prints.
func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var d []time.Duration
		for _, v := range n {
			d = append(d, time.Duration(v)*time.Millisecond)
		}
		return d
	}
	tests := []struct {
		name string
		in   []time.Duration
		p    int
		want time.Duration
	}{
		{"no samples give zero", nil, 50, 0},
		{"the median of an odd count is the middle", ms(30, 10, 20), 50, 20 * time.Millisecond},
		{"p100 is the largest", ms(5, 40, 7), 100, 40 * time.Millisecond},
		{"p0 is the smallest", ms(5, 40, 7), 0, 5 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.in, tc.p); got != tc.want {
				t.Errorf("percentile(%v, %d) = %v, want %v", tc.in, tc.p, got, tc.want)
			}
		})
	}
}

// TestDescendants checks how the leak check tells a server's processes
// from those a killed server left behind.
func TestDescendants(t *testing.T) {
	procs := []proc{
		{pid: 10, ppid: 1, state: 'S', comm: "soak"},
		{pid: 20, ppid: 10, state: 'S', comm: "updraft"},
		{pid: 21, ppid: 20, state: 'S', comm: "exe"},
		{pid: 22, ppid: 21, state: 'S', comm: "bootstrap"},
		{pid: 23, ppid: 20, state: 'Z', comm: "mkfs.ext4"},
		{pid: 30, ppid: 10, state: 'S', comm: "slirp4netns"},
		{pid: 40, ppid: 1, state: 'S', comm: "other"},
	}
	tests := []struct {
		name string
		root int
		want []int
	}{
		{"a server's tree without its zombies", 20, []int{21, 22}},
		{"everything below the soak", 10, []int{20, 21, 22, 30}},
		{"a leaf has none", 22, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			for _, p := range descendants(procs, tc.root) {
				got = append(got, p.pid)
			}
			if !equalSets(got, tc.want) {
				t.Errorf("descendants(%d) = %v, want %v", tc.root, got, tc.want)
			}
		})
	}
}

func TestFDKind(t *testing.T) {
	tests := []struct{ name, target, want string }{
		{"sockets are one kind", "socket:[12345]", "socket"},
		{"pipes are one kind", "pipe:[999]", "pipe"},
		{"anonymous inodes keep their type", "anon_inode:[eventpoll]", "anon_inode:[eventpoll]"},
		{"message blocks of a stream are one kind", "/d/data/jetstream/streams/S/msgs/310.blk", "<data-dir>/jetstream/streams/S/msgs/N.blk"},
		{"files outside the data dir keep their path", "/dev/null", "/dev/null"},
		{"cgroup files of pre-started sandboxes are one kind", "/sys/fs/cgroup/freezer/updraft/pid29-start24-ns40-1/.zygote-29-17/freezer.state",
			"/sys/fs/cgroup/freezer/updraft/pidN-startN-nsN-N/.zygote-N-N/freezer.state"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fdKind(tc.target, "/d/data"); got != tc.want {
				t.Errorf("fdKind(%q) = %q, want %q", tc.target, got, tc.want)
			}
		})
	}
}

func equalSets(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[int]bool{}
	for _, v := range a {
		m[v] = true
	}
	for _, v := range b {
		if !m[v] {
			return false
		}
	}
	return true
}

// lineLogger sends what the soak prints to t.Log, a line at a time.
type lineLogger struct {
	t   *testing.T
	mu  sync.Mutex
	buf strings.Builder
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	s := l.buf.String()
	i := strings.LastIndexByte(s, '\n')
	if i < 0 {
		return len(p), nil
	}
	for _, line := range strings.Split(s[:i], "\n") {
		l.t.Log(line)
	}
	l.buf.Reset()
	l.buf.WriteString(s[i+1:])
	return len(p), nil
}

// flush logs a last line without a newline.
func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 0 {
		l.t.Log(l.buf.String())
		l.buf.Reset()
	}
}
