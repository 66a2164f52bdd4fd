package e2e

import (
	"bufio"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
)

// TestLogsFollowWithLimit runs `updraft logs NAME --follow --limit 3` as
// the README shows it: it prints the last 3 lines at once, then the lines
// of a later invocation as they are written.
func TestLogsFollowWithLimit(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	c := srv.Lambda()
	createTestFunction(t, c, "followed", fnOpts{})
	for range 2 {
		invokeJSON(t, c, "followed", map[string]any{"action": "echo"}, nil)
	}
	var last3 string
	testutil.WaitFor(t, 10*time.Second, func() error {
		out, errOut, err := updraftCLI(t, srv, "logs", "followed", "--limit", "3")
		if err != nil {
			t.Fatalf("logs --limit 3: %v\n%s", err, errOut)
		}
		if strings.Count(out, "\n") != 3 || !strings.Contains(out, "REPORT RequestId:") {
			return errors.New("the last 3 lines are not stored yet")
		}
		last3 = out
		return nil
	})

	bin := testutil.BuildBinary(t, "./cmd/updraft", "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "logs", "followed", "--follow", "--limit", "3", "--endpoint-url", srv.URL)
	cmd.Env = srv.AWSEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("logs --follow ended")
			}
			return l
		case <-time.After(20 * time.Second):
			t.Fatal("logs --follow printed nothing for 20 s")
			return ""
		}
	}
	var first []string
	for range 3 {
		first = append(first, next())
	}
	if got := strings.Join(first, "\n") + "\n"; got != last3 {
		t.Fatalf("--follow --limit 3 began with\n%s\nwant the last 3 lines\n%s", got, last3)
	}

	var echo struct {
		RequestID string `json:"requestId"`
	}
	invokeJSON(t, c, "followed", map[string]any{"action": "echo"}, &echo)
	for {
		if l := next(); strings.Contains(l, "REPORT RequestId: "+echo.RequestID) {
			return // the new invocation's lines arrived while following
		}
	}
}
