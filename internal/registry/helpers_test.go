package registry

import (
	"archive/zip"
	"bytes"
	"io/fs"
	"log/slog"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
	"github.com/updraft/updraft/internal/store"
	"github.com/updraft/updraft/internal/testutil"
	"github.com/updraft/updraft/internal/testutil/storetest"
)

const (
	testRegion  = "us-east-1"
	testAccount = "000000000000"
	testRole    = "arn:aws:iam::000000000000:role/lambda-role"
)

// testLogger is the registry tests' logger: Info and up, to t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return testutil.Logger(t, slog.LevelInfo)
}

// newStore opens an embedded store in a temporary directory.
func newStore(t testing.TB) *store.Store {
	t.Helper()
	return storetest.Open(t, t.TempDir(), testLogger(t))
}

// newRegistry opens a registry on st with its own code cache.
func newRegistry(t testing.TB, st *store.Store) *Registry {
	t.Helper()
	r, err := New(t.Context(), st, Config{Region: testRegion, AccountID: testAccount, CodeCacheDir: t.TempDir()}, testLogger(t))
	if err != nil {
		t.Fatalf("registry.New: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	r.SetCodeBaseURL("http://127.0.0.1:9321")
	return r
}

// zentry is one entry of a test zip.
type zentry struct {
	name string
	body string
	mode fs.FileMode // 0 means a 0644 file (or a directory for names ending in /)
}

// makeZip builds a zip in memory.
func makeZip(t testing.TB, entries ...zentry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		switch {
		case e.mode != 0:
			h.SetMode(e.mode)
		case strings.HasSuffix(e.name, "/"):
			h.SetMode(fs.ModeDir | 0o755)
		default:
			h.SetMode(0o644)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatalf("zip entry %s: %v", e.name, err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatalf("zip entry %s: %v", e.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("zip close: %v", err)
	}
	return buf.Bytes()
}

// helloZip is a small valid package.
func helloZip(t testing.TB, body string) []byte {
	return makeZip(t,
		zentry{name: "bootstrap", body: "#!/bin/sh\necho " + body + "\n", mode: 0o755},
		zentry{name: "lib/", mode: fs.ModeDir | 0o755},
		zentry{name: "lib/data.txt", body: body},
	)
}

func createReq(t testing.TB, name string) *lambdaapi.CreateFunctionRequest {
	return &lambdaapi.CreateFunctionRequest{
		FunctionName: name,
		Runtime:      "provided.al2023",
		Role:         testRole,
		Handler:      "bootstrap",
		Code:         &lambdaapi.FunctionCode{ZipFile: helloZip(t, name)},
	}
}

func mustCreate(t testing.TB, r *Registry, name string) *lambdaapi.FunctionConfiguration {
	t.Helper()
	fc, err := r.CreateFunction(t.Context(), createReq(t, name))
	if err != nil {
		t.Fatalf("CreateFunction(%s): %v", name, err)
	}
	return fc
}

// wantType fails unless err is a *lambdaerr.Error of type typ.
func wantType(t testing.TB, err error, typ string) *lambdaerr.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", typ)
	}
	e, ok := lambdaerr.As(err)
	if !ok || e.Type != typ {
		t.Fatalf("got %v, want %s", err, typ)
	}
	return e
}

func ptr[T any](v T) *T { return &v }
