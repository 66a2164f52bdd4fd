package fnlog

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestEnvChildProcessOutputBeforeResponse runs a real child that, for each
// invocation, prints to stdout and stderr and then "responds" on fd 3; End is
// called as soon as the response arrives, as the pool does, and the tail must
// hold what the child printed.
func TestEnvChildProcessOutputBeforeResponse(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh:", err)
	}
	const n = 30
	e, sink := newTestEnv(t)
	respR, respW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer respR.Close()
	script := fmt.Sprintf(`i=0; while [ $i -lt %d ]; do read x || exit 0; echo "out $i"; echo "err $i" >&2; echo $i >&3; i=$((i+1)); done`, n)
	cmd := exec.Command(sh, "-c", script)
	cmd.ExtraFiles = []*os.File{respW}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	// The recommended wiring: os.Pipe write ends go to the child as files
	// (no copying goroutine in exec), the read ends to Attach.
	stdout, stdoutW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, stderrW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = stdoutW, stderrW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	respW.Close()
	stdoutW.Close()
	stderrW.Close()
	e.Attach(stdout)
	e.Attach(stderr)
	resp := bufio.NewReader(respR)
	for i := range n {
		id := fmt.Sprintf("req-%d", i)
		e.Begin(id, "")
		fmt.Fprintln(stdin, "go")
		if _, err := resp.ReadString('\n'); err != nil {
			t.Fatalf("invocation %d: response: %v", i, err)
		}
		tail := e.End(Report{})
		for _, want := range []string{fmt.Sprintf("\nout %d\n", i), fmt.Sprintf("\nerr %d\n", i)} {
			if !bytes.Contains(tail, []byte(want)) {
				t.Fatalf("invocation %d: tail misses %q: %q", i, want, tail)
			}
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for _, r := range sink.records() {
		if rest, ok := strings.CutPrefix(r.Message, "out "); ok && r.RequestID != "req-"+rest {
			t.Fatalf("%q attributed to %q", r.Message, r.RequestID)
		}
	}
}
