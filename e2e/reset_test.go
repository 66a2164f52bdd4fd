package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/updraft/updraft/internal/testutil"
)

// TestResetKeepsTmp checks Lambda's rule that a timeout, a crash or an
// out-of-memory kill resets the environment but /tmp survives into the
// re-init, while an environment that is evicted (idle, code update) takes
// its /tmp with it. Under full isolation /tmp is a disk-backed file system
// per environment, carried to the environment that replaces a reset one.
func TestResetKeepsTmp(t *testing.T) {
	t.Parallel()
	srv := testutil.StartServer(t, testutil.Options{Args: []string{"--idle-ttl", "2s"}})
	requireFullIsolation(t, srv)
	c := srv.Lambda()

	writeTmp := func(t *testing.T, fn, value string) {
		t.Helper()
		var got string
		invokeJSON(t, c, fn, map[string]string{"action": "write-tmp", "value": value}, &got)
	}
	readTmp := func(t *testing.T, fn string) *lambda.InvokeOutput {
		t.Helper()
		return invokeRaw(t, c, fn, `{"action":"read-tmp"}`)
	}

	resets := []struct {
		name     string
		opts     fnOpts
		event    string
		wantType string
	}{
		{"a timeout", fnOpts{timeout: 1}, `{"action":"sleep","n":3000}`, "Sandbox.Timedout"},
		{"a runtime exit", fnOpts{}, `{"action":"exit","n":7}`, "Runtime.ExitError"},
		{"an out-of-memory kill", fnOpts{memory: 128, timeout: 30}, `{"action":"alloc","n":400}`, "Runtime.OutOfMemory"},
	}
	for i, tc := range resets {
		t.Run(tc.name+" keeps /tmp", func(t *testing.T) {
			fn := fmt.Sprintf("reset-%d", i)
			createTestFunction(t, c, fn, tc.opts)
			writeTmp(t, fn, "before "+tc.name)
			res := invokeRaw(t, c, fn, tc.event)
			if typ := functionErrorType(t, res); typ != tc.wantType {
				t.Fatalf("error type %q, want %s (payload %s)", typ, tc.wantType, res.Payload)
			}
			var got string
			invokeJSON(t, c, fn, map[string]string{"action": "read-tmp"}, &got)
			if got != "before "+tc.name {
				t.Fatalf("after %s /tmp held %q, want %q", tc.name, got, "before "+tc.name)
			}
		})
	}

	t.Run("a code update after a reset wipes /tmp", func(t *testing.T) {
		const fn = "reset-update"
		created := createTestFunction(t, c, fn, fnOpts{timeout: 1})
		writeTmp(t, fn, "old code")
		if typ := functionErrorType(t, invokeRaw(t, c, fn, `{"action":"sleep","n":3000}`)); typ != "Sandbox.Timedout" {
			t.Fatalf("error type %q, want Sandbox.Timedout", typ)
		}
		upd, err := c.UpdateFunctionCode(ctx(t), &lambda.UpdateFunctionCodeInput{
			FunctionName: aws.String(fn),
			ZipFile:      testFunctionZip(t),
		})
		if err != nil || aws.ToString(upd.RevisionId) == aws.ToString(created.RevisionId) {
			t.Fatalf("update code: %v", err)
		}
		if res := readTmp(t, fn); res.FunctionError == nil {
			t.Fatalf("after a code update /tmp still held %s", res.Payload)
		}
	})

	t.Run("an idle eviction wipes /tmp", func(t *testing.T) {
		const fn = "reset-idle"
		createTestFunction(t, c, fn, fnOpts{})
		writeTmp(t, fn, "idle")
		testutil.WaitFor(t, 15*time.Second, func() error {
			if n := poolHealth(t, srv).Environments; n != 0 {
				return fmt.Errorf("%d environments still alive past the idle TTL", n)
			}
			return nil
		})
		if res := readTmp(t, fn); res.FunctionError == nil {
			t.Fatalf("after an idle eviction /tmp still held %s", res.Payload)
		}
	})
}
