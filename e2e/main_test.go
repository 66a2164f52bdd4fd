package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/updraft/updraft/internal/testutil"
)

// Functions under full isolation reach nothing on the host, its loopback
// included, so a server a test wants its functions to call (a gate, a
// URL that fails on demand) runs in a peer network namespace the tests
// create (see newPeerNamespace), and every server the tests start allows
// egress to it. Without root, functions share the host's network and the
// servers listen on loopback.
var functionReachable struct {
	base string       // http://ADDR:PORT of the shared server
	mux  sync.Map     // path prefix → http.Handler
	n    atomic.Int64 // numbers the prefixes
}

func TestMain(m *testing.M) {
	var cleanups []func()
	cleanup := func(f func()) { cleanups = append(cleanups, f) }
	dispatch := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		prefix, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if h, ok := functionReachable.mux.Load(prefix); ok {
			h.(http.Handler).ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	})
	if p, _ := newPeerNamespace(cleanup, dispatch); p != nil {
		functionReachable.base = fmt.Sprintf("http://%s:%d", p.peerIP, p.port)
		// Inherited by every server StartServer runs.
		os.Setenv("UPDRAFT_FUNCTION_EGRESS_ALLOW", p.peerIP+"/32")
	} else {
		ts := httptest.NewServer(dispatch)
		cleanup(ts.Close)
		functionReachable.base = ts.URL
	}
	code := m.Run()
	testutil.RemoveBuiltBinaries()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	os.Exit(code)
}

// reachableURL serves h at a URL that the test's functions can reach and
// returns it.
func reachableURL(t *testing.T, h http.Handler) string {
	t.Helper()
	prefix := fmt.Sprintf("t%d", functionReachable.n.Add(1))
	functionReachable.mux.Store(prefix, h)
	t.Cleanup(func() { functionReachable.mux.Delete(prefix) })
	return functionReachable.base + "/" + prefix + "/"
}
