package pool

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/registry"
)

// invokeTestfn runs one event of internal/testutil/testfn (served as sha
// "testfn") and returns the payload and the function error type, "" when
// it succeeded.
func (h *harness) invokeTestfn(t *testing.T, v *registry.Version, payload string) (string, string) {
	t.Helper()
	res, err := h.pool.Invoke(t.Context(), newRequest(v, payload))
	if err != nil {
		t.Fatalf("Invoke %s: %v", payload, err)
	}
	return string(res.Payload), res.ErrorType
}

// carriedPath returns the /tmp carried for v's key, or "".
func (h *harness) carriedPath(v *registry.Version) string {
	h.pool.mu.Lock()
	defer h.pool.mu.Unlock()
	return h.pool.carried[envKey{v.FunctionName, v.Version, v.RevisionID}].path
}

// TestResetKeepsTmp checks that the environment replacing one that was
// reset (timeout, crash) finds its /tmp, and that a carried /tmp goes
// when its version goes stale, after the idle TTL, and on Close.
func TestResetKeepsTmp(t *testing.T) {
	h := newHarness(t, Config{MaxEnvironments: 10})
	h.code.dirs["testfn"] = buildCodeDir(t, "./internal/testutil/testfn")
	v := version("resets", "testfn", "rev-1")
	v.Timeout = time.Second

	// reset writes value to /tmp, resets the environment with event and
	// returns the carried /tmp.
	reset := func(t *testing.T, value, event, wantType string) string {
		t.Helper()
		if out, typ := h.invokeTestfn(t, v, `{"action":"write-tmp","value":"`+value+`"}`); typ != "" {
			t.Fatalf("write-tmp: %s %s", typ, out)
		}
		if out, typ := h.invokeTestfn(t, v, event); typ != wantType {
			t.Fatalf("%s: error type %q (%s), want %s", event, typ, out, wantType)
		}
		path := h.carriedPath(v)
		if path == "" {
			t.Fatalf("nothing carried after %s", wantType)
		}
		if len(h.envs(v.FunctionName)) != 0 {
			t.Fatalf("the reset environment is still in the pool")
		}
		return path
	}
	wantGone := func(t *testing.T, path string) {
		t.Helper()
		if p := h.carriedPath(v); p != "" {
			t.Errorf("still carried: %s", p)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("carried /tmp %s: %v, want removed", path, err)
		}
	}

	t.Run("a timeout keeps /tmp for the next environment", func(t *testing.T) {
		path := reset(t, "after-timeout", `{"action":"sleep","n":3000}`, "Sandbox.Timedout")
		out, typ := h.invokeTestfn(t, v, `{"action":"read-tmp"}`)
		if typ != "" || out != `"after-timeout"` {
			t.Fatalf("read-tmp after the reset = %s %s, want \"after-timeout\"", typ, out)
		}
		if h.carriedPath(v) != "" {
			t.Error("the carried /tmp was not handed over")
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("the handed-over /tmp: %v", err)
		}
	})
	t.Run("a crash keeps /tmp for the next environment", func(t *testing.T) {
		reset(t, "after-crash", `{"action":"exit","n":3}`, "Runtime.ExitError")
		out, typ := h.invokeTestfn(t, v, `{"action":"read-tmp"}`)
		if typ != "" || out != `"after-crash"` {
			t.Fatalf("read-tmp after the reset = %s %s, want \"after-crash\"", typ, out)
		}
	})
	t.Run("a later reset replaces what was carried", func(t *testing.T) {
		first := reset(t, "first", `{"action":"exit","n":3}`, "Runtime.ExitError")
		// Another environment of the key, reset while the first's /tmp waits.
		second := t.TempDir() + "/second"
		if err := os.Mkdir(second, 0o700); err != nil {
			t.Fatal(err)
		}
		h.pool.carry(envKey{v.FunctionName, v.Version, v.RevisionID}, second)
		if _, err := os.Stat(first); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the replaced /tmp %s: %v, want removed", first, err)
		}
		if h.carriedPath(v) != second {
			t.Errorf("carried %q, want the later %q", h.carriedPath(v), second)
		}
		h.pool.EvictStale(v.FunctionName, func(string, string) bool { return false })
	})
	t.Run("a stale version drops what it carried", func(t *testing.T) {
		path := reset(t, "stale", `{"action":"exit","n":3}`, "Runtime.ExitError")
		h.pool.EvictStale("other", func(string, string) bool { return false })
		if h.carriedPath(v) != path {
			t.Fatal("EvictStale of another function dropped this one's /tmp")
		}
		h.pool.EvictStale(v.FunctionName, func(string, string) bool { return true })
		if h.carriedPath(v) != path {
			t.Fatal("EvictStale dropped the /tmp of a version it keeps")
		}
		h.pool.EvictStale(v.FunctionName, func(string, string) bool { return false })
		wantGone(t, path)
	})
	t.Run("an unused carried /tmp goes after the idle TTL", func(t *testing.T) {
		path := reset(t, "idle", `{"action":"exit","n":3}`, "Runtime.ExitError")
		h.pool.evictIdle(time.Now())
		if h.carriedPath(v) != path {
			t.Fatal("evicted before the idle TTL")
		}
		h.pool.evictIdle(time.Now().Add(h.pool.cfg.IdleTTL))
		wantGone(t, path)
		out, typ := h.invokeTestfn(t, v, `{"action":"read-tmp"}`)
		if typ == "" {
			t.Errorf("read-tmp after the carried /tmp expired = %s, want an error (no file)", out)
		}
	})
	t.Run("an idle eviction does not carry /tmp", func(t *testing.T) {
		if out, typ := h.invokeTestfn(t, v, `{"action":"write-tmp","value":"evicted"}`); typ != "" {
			t.Fatalf("write-tmp: %s %s", typ, out)
		}
		h.pool.evictIdle(time.Now().Add(h.pool.cfg.IdleTTL))
		if p := h.carriedPath(v); p != "" {
			t.Errorf("an idle eviction carried %s", p)
		}
	})
	t.Run("Close removes what is carried", func(t *testing.T) {
		path := reset(t, "close", `{"action":"exit","n":3}`, "Runtime.ExitError")
		if err := h.pool.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		wantGone(t, path)
	})
}
