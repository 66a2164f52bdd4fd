package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/testutil"
)

// TestExamples deploys every example in examples/ with the one command
// its README gives and checks that it does what it says.
func TestExamples(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{})
	root := testutil.ModuleRoot(t)
	deploy := func(t *testing.T, name, runtime, handler, dir string) {
		t.Helper()
		out, errOut, err := updraftCLI(t, srv, "function", "create", name, "--runtime", runtime, "--handler", handler,
			"--code", filepath.Join(root, "examples", dir))
		if err != nil {
			t.Fatalf("deploy %s: %v\n%s\n%s", dir, err, out, errOut)
		}
	}
	invoke := func(t *testing.T, name, payload string) string {
		t.Helper()
		out, errOut, err := updraftCLI(t, srv, "invoke", name, "--payload", payload)
		if err != nil {
			t.Fatalf("invoke %s: %v\n%s\n%s", name, err, out, errOut)
		}
		return out
	}

	t.Run("hello in Python and Node", func(t *testing.T) {
		deploy(t, "hello-py", "python3.12", "app.handler", "hello-python")
		deploy(t, "hello-node", "nodejs20.x", "index.handler", "hello-node")
		for _, fn := range []string{"hello-py", "hello-node"} {
			if out := invoke(t, fn, `{"name":"Ada"}`); !strings.Contains(out, `"Hello, Ada!"`) {
				t.Errorf("%s answered %s", fn, out)
			}
		}
	})

	t.Run("sentiment through the batch endpoint", func(t *testing.T) {
		deploy(t, "sentiment", "python3.12", "app.handler", "sentiment-batch")
		h := http.Header{"X-Updraft-Batch-Id": {"example-1"}}
		body := []byte(`{"data":[[0,"I love it"],[1,"terrible and slow"],[2,"good but broken"],[3,"a table"]]}`)
		if status, _, resp := signedDo(t, srv, "execute-api", "POST", "/updraft/v1/async/sentiment", body, h); status != 202 {
			t.Fatalf("POST: %d %s", status, resp)
		}
		var got []byte
		testutil.WaitFor(t, 30*time.Second, func() error {
			status, _, resp := signedDo(t, srv, "execute-api", "GET", "/updraft/v1/async/sentiment", nil, h)
			if status != 200 {
				return fmt.Errorf("GET: %d %s", status, resp)
			}
			got = resp
			return nil
		})
		var result struct{ Data [][]any }
		if err := json.Unmarshal(got, &result); err != nil {
			t.Fatal(err)
		}
		if want := "[[0 Positive] [1 Negative] [2 Mixed] [3 Neutral]]"; fmt.Sprint(result.Data) != want {
			t.Fatalf("scores %v, want %s", result.Data, want)
		}
	})

	t.Run("work after the response with an extension", func(t *testing.T) {
		deploy(t, "audited", "python3.12", "app.handler", "extension-python")
		if out := invoke(t, "audited", `{"order":42}`); !strings.Contains(out, `"accepted": 42`) && !strings.Contains(out, `"accepted":42`) {
			t.Fatalf("answer %s", out)
		}
		testutil.WaitFor(t, 20*time.Second, func() error {
			out, _, err := updraftCLI(t, srv, "logs", "audited")
			if err != nil || !strings.Contains(out, "audit: order 42 recorded") {
				return fmt.Errorf("logs lack the extension's line: %v\n%s", err, out)
			}
			return nil
		})
	})

	t.Run("streaming in Node", func(t *testing.T) {
		deploy(t, "stream-node", "nodejs20.x", "index.handler", "stream-node")
		out := invoke(t, "stream-node", `{"lines":3}`)
		if !strings.Contains(out, "line 1 of 3") || !strings.Contains(out, "line 3 of 3") {
			t.Fatalf("streamed answer %q", out)
		}
	})
	t.Run("fan out and fan in with a workflow", func(t *testing.T) {
		for _, f := range []string{"prepare", "compute", "aggregate"} {
			deploy(t, "fanout-"+f, "python3.12", "app."+f, "fan-out")
		}
		run := func(args ...string) string {
			t.Helper()
			out, errOut, err := updraftCLI(t, srv, args...)
			if err != nil {
				t.Fatalf("updraft %v: %v\n%s\n%s", args, err, out, errOut)
			}
			return out
		}
		run("workflow", "create", "fan-out", "--definition", filepath.Join(root, "examples", "fan-out", "workflow.json"))
		out := run("workflow", "start", "fan-out", "--input", `{"count":40}`, "--wait", "60s")
		var d struct{ Status, Output, ExecutionArn string }
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("start --wait printed %s: %v", out, err)
		}
		total := 0
		for i := range 40 {
			total += i * i
		}
		if d.Status != "SUCCEEDED" || d.Output != fmt.Sprintf(`{"in_order":true,"items":40,"total":%d}`, total) {
			t.Fatalf("execution: %s", out)
		}
		hist := run("workflow", "history", d.ExecutionArn)
		if !strings.Contains(hist, "MapIterationSucceeded") || !strings.Contains(hist, "ExecutionSucceeded") || !strings.HasPrefix(hist, "ID") {
			t.Errorf("history table:\n%s", hist)
		}
		if list := run("workflow", "list", "fan-out"); !strings.Contains(list, "SUCCEEDED") {
			t.Errorf("workflow list fan-out:\n%s", list)
		}
	})
}
