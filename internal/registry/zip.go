package registry

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/updraft/updraft/internal/lambdaerr"
)

// Deployment package limits ("Lambda quotas"): 50 MB zipped for a direct
// upload, 250 MB unzipped.
const (
	MaxZipBytes      = 52428800
	MaxUnzippedBytes = 262144000
	// maxZipRequestBytes is the request size Lambda quotes for a 50 MB zip
	// once base64-encoded in the JSON body.
	maxZipRequestBytes = 69905067
	// maxSymlinkTarget bounds the length of a symlink entry's target.
	maxSymlinkTarget = 4096
	// maxSymlinkHops bounds symlink resolution, as Linux does (ELOOP).
	maxSymlinkHops = 40
	// maxNameComponent is Linux's NAME_MAX: the longest file name.
	maxNameComponent = 255
	// maxEntryName bounds an entry's whole path, leaving room within
	// Linux's PATH_MAX (4096) for the code cache directory it unpacks
	// into (and for /var/task or /opt inside the environment).
	maxEntryName = 2048
)

const msgCouldNotUnzip = "Could not unzip uploaded file. Please check your file, then try to upload again."

// zipInfo is a validated deployment package.
type zipInfo struct {
	sha256Hex    string
	size         int64
	unzippedSize int64
}

// inspectZip validates a deployment package as CreateFunction and
// UpdateFunctionCode do: size limits (from the headers and again while
// decompressing every entry, so a zip whose headers lie is stopped), a
// readable archive, and entry names that stay inside the package root
// (no absolute paths, no "..", no symlink leading out). op names the
// operation for the size message.
func inspectZip(data []byte, op string) (*zipInfo, error) {
	if len(data) > MaxZipBytes {
		return nil, lambdaerr.RequestTooLarge("Request must be smaller than %d bytes for the %s operation", maxZipRequestBytes, op)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, lambdaerr.InvalidZipFile(msgCouldNotUnzip).WithCause(err)
	}
	if err := checkEntries(zr); err != nil {
		return nil, err
	}
	// Decompress everything once: corrupt data and lying headers fail
	// here rather than at the first cold start.
	var total int64
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		n, err := copyEntry(io.Discard, f, MaxUnzippedBytes-total)
		total += n
		if err != nil {
			return nil, err
		}
	}
	sum := sha256.Sum256(data)
	return &zipInfo{sha256Hex: hex.EncodeToString(sum[:]), size: int64(len(data)), unzippedSize: total}, nil
}

// checkEntries applies the header-level rules to every entry.
func checkEntries(zr *zip.Reader) error {
	var declared uint64
	links := make(map[string]string)
	names := make(map[string]bool, len(zr.File))
	kinds := make(map[string]entryKind, len(zr.File))
	for _, f := range zr.File {
		declared += f.UncompressedSize64
		if declared > MaxUnzippedBytes {
			return errUnzippedTooLarge()
		}
		name, err := entryName(f.Name)
		if err != nil {
			return err
		}
		if f.Method != zip.Store && f.Method != zip.Deflate {
			return lambdaerr.InvalidZipFile(msgCouldNotUnzip).WithCause(fmt.Errorf("entry %q: compression method %d", f.Name, f.Method))
		}
		if f.Flags&0x1 != 0 {
			return lambdaerr.InvalidZipFile(msgCouldNotUnzip).WithCause(fmt.Errorf("entry %q is encrypted", f.Name))
		}
		if name == "" {
			continue // the root itself
		}
		names[name] = true
		if err := addKind(kinds, name, kindOf(f.Mode())); err != nil {
			return err
		}
		if f.Mode()&fs.ModeSymlink != 0 {
			target, err := readSymlinkTarget(f)
			if err != nil {
				return err
			}
			links[name] = target
		}
	}
	for name := range names {
		// Nothing may be written through a symlink of the package.
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			if _, ok := links[dir]; ok {
				return errEscapes(name)
			}
		}
	}
	for name := range links {
		if err := resolveInside(links, name); err != nil {
			return err
		}
	}
	return nil
}

// entryKind is what an entry makes at its path once unpacked.
type entryKind uint8

const (
	kindFile entryKind = iota + 1
	kindDir
	kindLink
)

func (k entryKind) String() string {
	switch k {
	case kindDir:
		return "directory"
	case kindLink:
		return "symlink"
	}
	return "file"
}

func kindOf(mode fs.FileMode) entryKind {
	switch {
	case mode.IsDir():
		return kindDir
	case mode&fs.ModeSymlink != 0:
		return kindLink
	}
	return kindFile
}

// addKind records that name is a k, and that every directory above it is
// one. A path the package makes two different things (a file and a
// directory, say "a" and "a/b"), or two symlinks, has no one unpacked
// form: unzip tools disagree and extractZip would fail half way, at the
// function's first cold start instead of at upload. A file given twice is
// allowed; the last one wins, as with unzip -o.
func addKind(kinds map[string]entryKind, name string, k entryKind) error {
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		if err := setKind(kinds, dir, kindDir); err != nil {
			return err
		}
	}
	return setKind(kinds, name, k)
}

func setKind(kinds map[string]entryKind, name string, k entryKind) error {
	prev, seen := kinds[name]
	switch {
	case !seen:
		kinds[name] = k
	case prev != k:
		return lambdaerr.InvalidZipFile("%s The path %q is both a %s and a %s in the package.", msgCouldNotUnzip, name, prev, k)
	case k == kindLink:
		return lambdaerr.InvalidZipFile("%s The symlink %q appears twice in the package.", msgCouldNotUnzip, name)
	}
	return nil
}

// entryName cleans a zip entry name and refuses absolute paths and "..".
// It returns "" for the root directory entry.
func entryName(raw string) (string, error) {
	if raw == "" || strings.ContainsRune(raw, 0) {
		return "", errEscapes(raw)
	}
	if strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, `\`) || (len(raw) > 1 && raw[1] == ':') {
		return "", errEscapes(raw)
	}
	for _, part := range strings.FieldsFunc(raw, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return "", errEscapes(raw)
		}
	}
	name := path.Clean(strings.TrimSuffix(raw, "/"))
	if name == "." {
		return "", nil
	}
	// A name Linux cannot hold would pass here and fail at the first
	// cold start, when the package is unpacked.
	if len(name) > maxEntryName {
		return "", lambdaerr.InvalidZipFile("%s The entry name %.64q... is longer than %d bytes.", msgCouldNotUnzip, name, maxEntryName)
	}
	for part := range strings.SplitSeq(name, "/") {
		if len(part) > maxNameComponent {
			return "", lambdaerr.InvalidZipFile("%s The entry %.64q... has a name longer than %d bytes.", msgCouldNotUnzip, name, maxNameComponent)
		}
	}
	return name, nil
}

func readSymlinkTarget(f *zip.File) (string, error) {
	if f.UncompressedSize64 > maxSymlinkTarget {
		return "", errEscapes(f.Name)
	}
	rc, err := f.Open()
	if err != nil {
		return "", lambdaerr.InvalidZipFile(msgCouldNotUnzip).WithCause(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxSymlinkTarget+1))
	if err != nil {
		return "", lambdaerr.InvalidZipFile(msgCouldNotUnzip).WithCause(err)
	}
	// A NUL cannot be in a path: symlink(2) would refuse it at unpack.
	if len(b) == 0 || len(b) > maxSymlinkTarget || bytes.IndexByte(b, 0) >= 0 {
		return "", errEscapes(f.Name)
	}
	return string(b), nil
}

// resolveInside follows the symlink at name through the package's own
// symlinks, the way the kernel would once it is unpacked, and fails if the
// walk ever leaves the root. Lexical cleaning alone is not enough: with
// "d/b" -> ".." a link "a" -> "d/b/.." cleans to "d" but resolves to the
// parent of the root.
func resolveInside(links map[string]string, name string) error {
	target := links[name]
	if strings.HasPrefix(target, "/") {
		return errEscapes(name)
	}
	// stack holds the resolved path from the root; pending the components
	// still to walk.
	var stack []string
	if dir := path.Dir(name); dir != "." {
		stack = strings.Split(dir, "/")
	}
	pending := strings.Split(target, "/")
	hops := 0
	for len(pending) > 0 {
		comp := pending[0]
		pending = pending[1:]
		switch comp {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				return errEscapes(name)
			}
			stack = stack[:len(stack)-1]
			continue
		}
		stack = append(stack, comp)
		next, isLink := links[strings.Join(stack, "/")]
		if !isLink {
			continue
		}
		hops++
		if hops > maxSymlinkHops || strings.HasPrefix(next, "/") {
			return errEscapes(name)
		}
		stack = stack[:len(stack)-1]
		pending = append(strings.Split(next, "/"), pending...)
	}
	return nil
}

// copyEntry decompresses f into w, failing once more than budget bytes
// come out (whatever the header says).
func copyEntry(w io.Writer, f *zip.File, budget int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, lambdaerr.InvalidZipFile(msgCouldNotUnzip).WithCause(err)
	}
	defer rc.Close()
	n, err := io.Copy(w, io.LimitReader(rc, budget+1))
	if err != nil {
		var perr *os.PathError
		if errors.As(err, &perr) {
			return n, fmt.Errorf("registry: write %s: %w", f.Name, err)
		}
		return n, lambdaerr.InvalidZipFile(msgCouldNotUnzip).WithCause(err)
	}
	if n > budget {
		return n, errUnzippedTooLarge()
	}
	return n, nil
}

func errUnzippedTooLarge() error {
	return lambdaerr.InvalidParameterValue("Unzipped size must be smaller than %d bytes", MaxUnzippedBytes)
}

func errEscapes(name string) error {
	return lambdaerr.InvalidZipFile("%s The entry %q is not allowed: entries must stay inside the package (no absolute paths, no \"..\", no symlinks leading out).", msgCouldNotUnzip, name)
}

// extractZip unpacks a validated package into dir (which must exist and
// be empty), re-checking every rule while it writes: directories 0755,
// files 0755 when the zip marks them executable and 0644 otherwise,
// symlinks last.
func extractZip(data []byte, dir string) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("registry: open zip: %w", err)
	}
	if err := checkEntries(zr); err != nil {
		return err
	}
	var total int64
	type link struct{ name, target string }
	var links []link
	for _, f := range zr.File {
		name, err := entryName(f.Name)
		if err != nil {
			return err
		}
		if name == "" {
			continue
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		mode := f.Mode()
		switch {
		case mode.IsDir():
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return fmt.Errorf("registry: unpack %s: %w", name, err)
			}
		case mode&fs.ModeSymlink != 0:
			target, err := readSymlinkTarget(f)
			if err != nil {
				return err
			}
			links = append(links, link{dst, target})
		default:
			n, err := writeEntry(f, dst, mode, MaxUnzippedBytes-total)
			total += n
			if err != nil {
				return err
			}
		}
	}
	for _, l := range links {
		if err := os.MkdirAll(filepath.Dir(l.name), 0o755); err != nil {
			return fmt.Errorf("registry: unpack %s: %w", l.name, err)
		}
		if err := os.Symlink(l.target, l.name); err != nil {
			return fmt.Errorf("registry: unpack symlink %s: %w", l.name, err)
		}
	}
	return nil
}

func writeEntry(f *zip.File, dst string, mode fs.FileMode, budget int64) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, fmt.Errorf("registry: unpack %s: %w", f.Name, err)
	}
	perm := fs.FileMode(0o644)
	if mode&0o111 != 0 {
		perm = 0o755
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return 0, fmt.Errorf("registry: unpack %s: %w", f.Name, err)
	}
	n, err := copyEntry(out, f, budget)
	if cerr := out.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("registry: unpack %s: %w", f.Name, cerr)
	}
	if err == nil {
		// The umask may have narrowed perm at creation.
		if cerr := os.Chmod(dst, perm); cerr != nil {
			err = fmt.Errorf("registry: unpack %s: %w", f.Name, cerr)
		}
	}
	return n, err
}
