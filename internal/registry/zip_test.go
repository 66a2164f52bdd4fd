package registry

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/updraft/updraft/internal/lambdaapi"
	"github.com/updraft/updraft/internal/lambdaerr"
)

func TestZipEntriesMustStayInside(t *testing.T) {
	tests := []struct {
		name    string
		entries []zentry
		ok      bool
	}{
		{name: "plain files and directories", ok: true, entries: []zentry{
			{name: "bootstrap", body: "x", mode: 0o755}, {name: "a/"}, {name: "a/b.txt", body: "b"}, {name: "./c.txt", body: "c"}}},
		{name: "a symlink to a sibling", ok: true, entries: []zentry{
			{name: "lib/libx.so.1", body: "x"}, {name: "lib/libx.so", body: "libx.so.1", mode: fs.ModeSymlink | 0o777}}},
		{name: "a symlink up and back down", ok: true, entries: []zentry{
			{name: "bin/tool", body: "../lib/tool", mode: fs.ModeSymlink | 0o777}, {name: "lib/tool", body: "x"}}},
		{name: "a parent path", entries: []zentry{{name: "../evil", body: "x"}}},
		{name: "a parent path in the middle", entries: []zentry{{name: "a/../../evil", body: "x"}}},
		{name: "a backslash parent path", entries: []zentry{{name: `a\..\..\evil`, body: "x"}}},
		{name: "an absolute path", entries: []zentry{{name: "/etc/cron.d/evil", body: "x"}}},
		{name: "a drive letter", entries: []zentry{{name: `C:\evil`, body: "x"}}},
		{name: "a symlink to an absolute path", entries: []zentry{{name: "passwd", body: "/etc/passwd", mode: fs.ModeSymlink | 0o777}}},
		{name: "a symlink to the parent", entries: []zentry{{name: "up", body: "..", mode: fs.ModeSymlink | 0o777}}},
		{name: "a symlink climbing out", entries: []zentry{{name: "a/b/up", body: "../../../etc", mode: fs.ModeSymlink | 0o777}}},
		{name: "a symlink escaping through another symlink", entries: []zentry{
			{name: "d/"}, {name: "d/b", body: "..", mode: fs.ModeSymlink | 0o777}, {name: "a", body: "d/b/..", mode: fs.ModeSymlink | 0o777}}},
		{name: "a symlink loop", entries: []zentry{
			{name: "x", body: "y", mode: fs.ModeSymlink | 0o777}, {name: "y", body: "x/z", mode: fs.ModeSymlink | 0o777}}},
		{name: "a file written through a symlink", entries: []zentry{
			{name: "sub/"}, {name: "link", body: "sub", mode: fs.ModeSymlink | 0o777}, {name: "link/file", body: "x"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := inspectZip(makeZip(t, tc.entries...), "CreateFunction")
			if tc.ok {
				if err != nil {
					t.Fatalf("refused a good zip: %v", err)
				}
				return
			}
			wantType(t, err, lambdaerr.TypeInvalidParameterValue)
		})
	}
}

// TestZipPathsHaveOneKind covers packages FuzzZipEntries found accepted
// at upload and then failing to unpack at the first cold start: a path
// that is two things at once, a name or link target Linux cannot hold.
func TestZipPathsHaveOneKind(t *testing.T) {
	link := fs.ModeSymlink | 0o777
	tests := []struct {
		name    string
		entries []zentry
		ok      bool
	}{
		{name: "a file given twice (the last wins)", ok: true, entries: []zentry{{name: "a", body: "1"}, {name: "./a", body: "2"}}},
		{name: "a directory given twice", ok: true, entries: []zentry{{name: "a/"}, {name: "a/b", body: "1"}, {name: "a/"}}},
		{name: "a file, then a directory of the same name", entries: []zentry{{name: "a", body: "1"}, {name: "a/"}}},
		{name: "a directory, then a file of the same name", entries: []zentry{{name: "a/"}, {name: "a", body: "1"}}},
		{name: "a file inside a file", entries: []zentry{{name: "a/b", body: "1"}, {name: "a", body: "2"}}},
		{name: "a symlink over a file", entries: []zentry{{name: "a", body: "1"}, {name: "a", body: "b", mode: link}}},
		{name: "a file over a symlink", entries: []zentry{{name: "a", body: "b", mode: link}, {name: "a", body: "1"}}},
		{name: "a symlink given twice", entries: []zentry{{name: "a", body: "b", mode: link}, {name: "a", body: "b", mode: link}}},
		{name: "a symlink target holding a NUL", entries: []zentry{{name: "a", body: "b\x00c", mode: link}}},
		{name: "a name of 255 bytes", ok: true, entries: []zentry{{name: "d/" + strings.Repeat("n", 255), body: "1"}}},
		{name: "a name longer than Linux allows", entries: []zentry{{name: "d/" + strings.Repeat("n", 256), body: "1"}}},
		{name: "a path of 2048 bytes", ok: true, entries: []zentry{{name: strings.Repeat(strings.Repeat("p", 127)+"/", 15) + strings.Repeat("f", 128), body: "1"}}},
		{name: "a path longer than 2048 bytes", entries: []zentry{{name: strings.Repeat(strings.Repeat("p", 200)+"/", 11) + "f", body: "1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := makeZip(t, tc.entries...)
			_, err := inspectZip(data, "CreateFunction")
			if !tc.ok {
				wantType(t, err, lambdaerr.TypeInvalidParameterValue)
				return
			}
			if err != nil {
				t.Fatalf("refused a good zip: %v", err)
			}
			if err := extractZip(data, t.TempDir()); err != nil {
				t.Fatalf("accepted zip does not unpack: %v", err)
			}
		})
	}
}

// rawZip writes one deflated entry whose header claims declared bytes.
func rawZip(t testing.TB, name string, content []byte, declared uint64) []byte {
	t.Helper()
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestCompression)
	fw.Write(content)
	fw.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(content),
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: declared}
	h.SetMode(0o644)
	w, err := zw.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(comp.Bytes())
	zw.Close()
	return buf.Bytes()
}

func TestZipBombs(t *testing.T) {
	t.Run("headers declaring more than 250 MB", func(t *testing.T) {
		data := rawZip(t, "big", []byte("small"), MaxUnzippedBytes+1)
		_, err := inspectZip(data, "CreateFunction")
		e := wantType(t, err, lambdaerr.TypeInvalidParameterValue)
		if e.Message != "Unzipped size must be smaller than 262144000 bytes" {
			t.Fatalf("message %q", e.Message)
		}
	})
	t.Run("many entries adding up to more than 250 MB", func(t *testing.T) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for i := range 3 {
			h := &zip.FileHeader{Name: "f" + string(rune('0'+i)), Method: zip.Deflate, UncompressedSize64: 100 << 20}
			w, _ := zw.CreateRaw(h)
			w.Write([]byte{3, 0}) // an empty deflate stream
		}
		zw.Close()
		_, err := inspectZip(buf.Bytes(), "CreateFunction")
		wantType(t, err, lambdaerr.TypeInvalidParameterValue)
	})
	t.Run("headers lying about a large entry", func(t *testing.T) {
		content := bytes.Repeat([]byte{0}, 4<<20)
		data := rawZip(t, "liar", content, 1024)
		_, err := inspectZip(data, "CreateFunction")
		wantType(t, err, lambdaerr.TypeInvalidParameterValue)
	})
	t.Run("the extraction budget holds whatever the headers say", func(t *testing.T) {
		data := rawZip(t, "f", bytes.Repeat([]byte("a"), 1000), 1000)
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		_, err = copyEntry(&out, zr.File[0], 999)
		e := wantType(t, err, lambdaerr.TypeInvalidParameterValue)
		if !strings.Contains(e.Message, "Unzipped size") || out.Len() > 1000 {
			t.Fatalf("message %q after writing %d bytes", e.Message, out.Len())
		}
	})
}

func TestCodeDirUnpacksOnceWithModes(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	zipData := makeZip(t,
		zentry{name: "bootstrap", body: "#!/bin/sh\n", mode: 0o755},
		zentry{name: "handler.py", body: "def handler(e, c): return e\n"},
		zentry{name: "pkg/"},
		zentry{name: "pkg/tool", body: "#!/bin/sh\n", mode: 0o700},
		zentry{name: "pkg/readonly.txt", body: "r", mode: 0o400},
		zentry{name: "pkg/link", body: "tool", mode: fs.ModeSymlink | 0o777},
		zentry{name: "deep/er/file.txt", body: "implicit parents"},
	)
	req := createReq(t, "unpack")
	req.Code = &lambdaapi.FunctionCode{ZipFile: zipData}
	if _, err := r.CreateFunction(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	tg, err := r.Resolve("unpack", "")
	if err != nil {
		t.Fatal(err)
	}
	sha := tg.Version.CodeSha256Hex

	const callers = 16
	var wg sync.WaitGroup
	paths := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			paths[i], errs[i] = r.CodeDir(t.Context(), sha)
		}()
	}
	wg.Wait()
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("CodeDir: %v", errs[i])
		}
		if paths[i] != paths[0] {
			t.Fatalf("CodeDir gave %s and %s", paths[0], paths[i])
		}
	}
	if n := r.unpacks.Load(); n != 1 {
		t.Fatalf("unpacked %d times, want 1", n)
	}
	dir := paths[0]
	if filepath.Base(dir) != sha || filepath.Dir(dir) != r.cfg.CodeCacheDir {
		t.Fatalf("CodeDir = %s, want <cache>/%s", dir, sha)
	}
	wantModes := map[string]fs.FileMode{
		".":                0o755 | fs.ModeDir,
		"bootstrap":        0o755,
		"handler.py":       0o644,
		"pkg":              0o755 | fs.ModeDir,
		"pkg/tool":         0o755,
		"pkg/readonly.txt": 0o644,
		"deep/er":          0o755 | fs.ModeDir,
		"deep/er/file.txt": 0o644,
	}
	for name, want := range wantModes {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s has mode %v, want %v", name, fi.Mode(), want)
		}
	}
	if target, err := os.Readlink(filepath.Join(dir, "pkg/link")); err != nil || target != "tool" {
		t.Errorf("pkg/link -> %q, %v", target, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "handler.py")); err != nil || !strings.Contains(string(b), "def handler") {
		t.Errorf("handler.py = %q, %v", b, err)
	}
	left, _ := filepath.Glob(filepath.Join(r.cfg.CodeCacheDir, unpackTempPrefix+"*"))
	if len(left) != 0 {
		t.Errorf("temporary directories left: %v", left)
	}
	// Later calls find the directory without unpacking again.
	if again, err := r.CodeDir(t.Context(), sha); err != nil || again != dir || r.unpacks.Load() != 1 {
		t.Fatalf("second CodeDir = %s, %v (unpacks %d)", again, err, r.unpacks.Load())
	}
	if _, err := r.CodeDir(t.Context(), "not-a-sha"); err == nil {
		t.Fatal("CodeDir accepted a bad sha")
	}
	missing := strings.Repeat("ab", 32)
	if _, err := r.CodeDir(t.Context(), missing); err == nil {
		t.Fatal("CodeDir of unknown code succeeded")
	}
}

func TestCodeIsStoredOnce(t *testing.T) {
	st := newStore(t)
	r := newRegistry(t, st)
	zipData := helloZip(t, "same")
	for _, name := range []string{"one", "two"} {
		req := createReq(t, name)
		req.Code.ZipFile = zipData
		if _, err := r.CreateFunction(t.Context(), req); err != nil {
			t.Fatal(err)
		}
	}
	lister, err := st.Code().List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(lister) != 1 {
		t.Fatalf("object store holds %d objects, want 1", len(lister))
	}
}
