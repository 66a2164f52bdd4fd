package registry

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/lambdaerr"
)

// The zip fuzz targets check what CreateFunction, UpdateFunctionCode and
// PublishLayerVersion promise about a deployment package, whatever its
// bytes: inspectZip refuses it with a client error or accepts it; an
// accepted package unpacks without error (a failure there would surface
// as a 500 at the first cold start), into regular files, directories and
// symlinks only, never more bytes than the limit, nothing outside the
// target directory, no symlink resolving outside it; and merging accepted
// layers into /opt keeps the same promises.

// FuzzZipEntries builds packages from a line-oriented description, so the
// fuzzer mutates names, kinds and symlink targets rather than CRCs. Each
// line is KIND NAME [= BODY]: KIND f (file), x (executable), d
// (directory), l (symlink, BODY its target); a line "|" starts a second
// package, merged over the first as a later layer.
func FuzzZipEntries(f *testing.F) {
	for _, s := range []string{
		"x bootstrap=#!/bin/sh\nd lib/\nf lib/a.txt=a\nl lib/a=a.txt",
		"f ./c.txt=c\nl bin/tool=../lib/tool\nf lib/tool=x",
		"f ../evil=x",
		"f a/../../evil=x",
		`f a\..\..\evil=x`,
		"l up=..",
		"d d/\nl d/b=..\nl a=d/b/..",
		"l x=y\nl y=x/z",
		"d sub/\nl link=sub\nf link/file=x",
		"f a=1\nd a/",
		"d a/\nf a=1",
		"f a/b=1\nf a=2",
		"l a=b\nf a=1",
		"f a=1\nl a=b",
		"l lib=.\n|\nf lib/x=1",
		"d sub/\nl sub/a=../e/..\n|\nl e=.\n|\nf sub/a/escaped=x",
		"l a=b\n|\nd a/\nf a/c=1",
		"f python/lib/m.py=x\n|\nf python/lib/m.py=y\nl python/l=lib",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, desc string) {
		var pkgs [][]zentry
		cur := []zentry{}
		for line := range strings.SplitSeq(desc, "\n") {
			if line == "|" {
				pkgs = append(pkgs, cur)
				cur = []zentry{}
				continue
			}
			kind, rest, ok := strings.Cut(line, " ")
			if !ok {
				continue
			}
			name, body, _ := strings.Cut(rest, "=")
			e := zentry{name: name, body: body}
			switch kind {
			case "f":
				e.mode = 0o644
			case "x":
				e.mode = 0o755
			case "d":
				e.mode, e.body = fs.ModeDir|0o755, ""
			case "l":
				e.mode = fs.ModeSymlink | 0o777
			default:
				continue
			}
			if strings.HasSuffix(name, "/") {
				e.body = "" // zip.Writer takes no data for a directory name
			}
			cur = append(cur, e)
		}
		pkgs = append(pkgs, cur)
		if len(pkgs) > 4 {
			t.Skip("more layers than the test needs")
		}
		zips := make([][]byte, len(pkgs))
		for i, p := range pkgs {
			zips[i] = makeZip(t, p...)
		}
		checkPackages(t, zips)
	})
}

// FuzzZipBytes gives inspectZip and extractZip arbitrary bytes, seeded
// with real packages, zip bombs and lying headers.
func FuzzZipBytes(f *testing.F) {
	f.Add(makeZip(f, zentry{name: "bootstrap", body: "#!/bin/sh\necho hi\n", mode: 0o755}, zentry{name: "lib/"}, zentry{name: "lib/l", body: "../bootstrap", mode: fs.ModeSymlink | 0o777}))
	f.Add(makeZip(f, zentry{name: "index.py", body: "def handler(e, c):\n    return e\n"}))
	f.Add(rawZip(f, "liar", make([]byte, 64<<10), 16))
	f.Add(rawZip(f, "big", []byte("small"), MaxUnzippedBytes+1))
	f.Add([]byte("PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("not a zip"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkPackages(t, [][]byte{data})
	})
}

// checkPackages inspects each zip; when all are accepted it unpacks each
// like CodeDir, merges them in order like OptDir, and checks the
// invariants on every directory it wrote.
func checkPackages(t *testing.T, zips [][]byte) {
	t.Helper()
	infos := make([]*zipInfo, len(zips))
	for i, data := range zips {
		zi, err := inspectZip(data, "CreateFunction")
		if err != nil {
			if _, ok := lambdaerr.As(err); !ok {
				t.Fatalf("package %d refused with an internal error: %v", i, err)
			}
			return
		}
		if zi.unzippedSize > MaxUnzippedBytes {
			t.Fatalf("package %d accepted with %d bytes unzipped", i, zi.unzippedSize)
		}
		infos[i] = zi
	}
	base := t.TempDir()
	canary := filepath.Join(base, "canary")
	if err := os.WriteFile(canary, []byte("untouched"), 0o644); err != nil {
		t.Fatal(err)
	}
	dirs := make([]string, len(zips))
	for i, data := range zips {
		// Deep enough that a climb of a few levels stays inside base.
		dirs[i] = filepath.Join(base, "deep", "down", "code", string(rune('a'+i)))
		if err := os.MkdirAll(dirs[i], 0o755); err != nil {
			t.Fatal(err)
		}
		if err := extractZip(data, dirs[i]); err != nil {
			t.Fatalf("package %d was accepted but does not unpack: %v", i, err)
		}
		if n := checkTree(t, dirs[i], false); n > infos[i].unzippedSize {
			t.Fatalf("package %d wrote %d bytes, inspected as %d", i, n, infos[i].unzippedSize)
		}
	}
	opt := filepath.Join(base, "deep", "down", "opt")
	if err := os.Mkdir(opt, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, d := range dirs {
		if err := mergeTree(d, opt); err != nil {
			t.Fatalf("merging layer %d: %v", i, err)
		}
	}
	// Links of the merged layers may together lead above /opt (layer 1
	// "a/b" -> "../e/..", layer 2 "e" -> "."), as they may on Lambda,
	// which extracts layers over each other the same way: inside the
	// environment that is its own root. The host never follows them:
	// mergeTree replaces a link rather than write through it, and /opt is
	// bind-mounted as a whole. So only the files are checked there.
	checkTree(t, opt, true)
	// Nothing may have been written beside the directories.
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch rel, _ := filepath.Rel(base, p); {
		case rel == "." || rel == "canary" || rel == "deep" || rel == filepath.Join("deep", "down") ||
			rel == filepath.Join("deep", "down", "code") || rel == filepath.Join("deep", "down", "opt"):
		case strings.HasPrefix(rel, filepath.Join("deep", "down", "opt")+string(filepath.Separator)):
		case strings.HasPrefix(rel, filepath.Join("deep", "down", "code")+string(filepath.Separator)):
		default:
			t.Errorf("%s was written outside the target directories", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(canary); err != nil || string(b) != "untouched" {
		t.Fatalf("the file beside the target directory changed: %q, %v", b, err)
	}
}

// checkTree checks an unpacked directory: regular files (0644 or 0755),
// directories and symlinks only, unless linksMayLeave every symlink
// resolving inside dir (or dangling inside it), and returns the bytes of
// its regular files.
func checkTree(t *testing.T, dir string, linksMayLeave bool) int64 {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	var total int64
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch mode := info.Mode(); {
		case mode.IsDir():
		case mode.IsRegular():
			if perm := mode.Perm(); perm != 0o644 && perm != 0o755 || mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 {
				t.Errorf("%s has mode %v", rel, mode)
			}
			total += info.Size()
		case mode&fs.ModeSymlink != 0:
			// os.Root follows links the way the kernel does but refuses
			// any that leave it.
			if _, err := root.Stat(rel); err != nil && !linksMayLeave && escapes(err) {
				target, _ := os.Readlink(p)
				t.Errorf("symlink %s -> %s leads outside %s: %v", rel, target, dir, err)
			}
		default:
			t.Errorf("%s has mode %v", rel, mode)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

// escapes reports whether err is os.Root's refusal of a path leading out
// of the root (the os package does not export the sentinel).
func escapes(err error) bool {
	return strings.Contains(err.Error(), "path escapes from parent")
}
