package cli

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// maxZipBytes is Lambda's limit for a zip uploaded directly in the request
// ("Lambda quotas": 50 MB zipped, direct upload). Checking it here gives a
// clear message before a large upload is sent only to be refused.
const maxZipBytes = 50 << 20

// zipEpoch is the modification time written for every entry, so that the
// same tree always zips to the same bytes (and the same CodeSha256). It is
// the earliest time the zip format's MS-DOS fields can hold.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// loadCode returns the deployment package for --code path: a directory is
// zipped (see zipDir), with extra added to it; a file named *.zip is sent
// as it is, after checking that it is a zip; any other file, such as a
// lone bootstrap binary, is zipped on its own under its base name with its
// mode kept.
func loadCode(path string, extra map[string]string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--code: %w", err)
	}
	var data []byte
	switch {
	case info.IsDir():
		data, err = zipDir(path, extra)
	case strings.EqualFold(filepath.Ext(path), ".zip"):
		data, err = os.ReadFile(path)
		if err == nil {
			if _, zerr := zip.NewReader(bytes.NewReader(data), int64(len(data))); zerr != nil {
				err = fmt.Errorf("%s is not a valid zip file: %w", path, zerr)
			}
		}
	case info.Mode().IsRegular():
		data, err = zipFile(path, info)
	default:
		err = fmt.Errorf("%s is neither a directory nor a regular file", path)
	}
	if err != nil {
		return nil, fmt.Errorf("--code: %w", err)
	}
	if len(data) > maxZipBytes {
		return nil, fmt.Errorf("--code %s: the zip is %.1f MB; Lambda's direct upload limit is 50 MB", path, float64(len(data))/(1<<20))
	}
	return data, nil
}

// zipDir zips the files under dir into memory with paths relative to dir,
// in lexical order, with their permission bits kept (a provided runtime's
// bootstrap must stay executable) and a fixed timestamp, so that the same
// tree always yields the same bytes. Directories get no entries of their
// own; a symbolic link to a file is stored as that file's contents; links
// to directories and special files are refused rather than silently
// dropped. extra adds files from elsewhere (zip name → path on disk),
// replacing a file of the same name in dir.
func zipDir(dir string, extra map[string]string) ([]byte, error) {
	type entry struct {
		name, path string
		perm       fs.FileMode
	}
	byName := map[string]entry{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		info, err := os.Stat(path) // follows a symlink to its target
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s: only regular files and links to them can be zipped (found %s)", path, info.Mode().Type())
		}
		name := filepath.ToSlash(rel)
		byName[name] = entry{name: name, path: path, perm: info.Mode().Perm()}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("zip %s: %w", dir, err)
	}
	for name, path := range extra {
		info, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("zip %s: %w", dir, err)
		}
		byName[name] = entry{name: name, path: path, perm: info.Mode().Perm()}
	}
	if len(byName) == 0 {
		return nil, fmt.Errorf("zip %s: the directory has no files", dir)
	}
	entries := make([]entry, 0, len(byName))
	for _, e := range byName {
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		if err := addFile(zw, e.name, e.path, e.perm); err != nil {
			return nil, fmt.Errorf("zip %s: %w", dir, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip %s: %w", dir, err)
	}
	return buf.Bytes(), nil
}

// zipFile zips one file under its base name.
func zipFile(path string, info fs.FileInfo) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if err := addFile(zw, filepath.Base(path), path, info.Mode().Perm()); err != nil {
		return nil, fmt.Errorf("zip %s: %w", path, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip %s: %w", path, err)
	}
	return buf.Bytes(), nil
}

// addFile copies the file at path into zw as name with permission bits
// perm, which SetMode records as Unix attributes.
func addFile(zw *zip.Writer, name, path string, perm fs.FileMode) error {
	hdr := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipEpoch}
	hdr.SetMode(perm)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return fmt.Errorf("add %s: %w", name, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("add %s: %w", name, err)
	}
	return nil
}

// bootstrapWarning returns a warning for a provided* runtime whose zip has
// no top-level bootstrap, or one that is not executable ("Building a
// custom runtime": the runtime's entry point is an executable file named
// bootstrap). The function would fail at its first invoke; saying so now
// is kinder. A bootstrap may also come from a layer, so this only warns.
func bootstrapWarning(zipData []byte, runtime string) string {
	if !strings.HasPrefix(runtime, "provided") {
		return ""
	}
	zr, err := zip.NewReader(bytes.NewReader(zipData), int64(len(zipData)))
	if err != nil {
		return ""
	}
	for _, f := range zr.File {
		if f.Name != "bootstrap" {
			continue
		}
		if f.Mode()&0o111 == 0 {
			return "warning: bootstrap is not executable in the code zip; runtime " + runtime + " will fail to start it (chmod +x bootstrap)"
		}
		return ""
	}
	return "warning: the code has no top-level bootstrap file; runtime " + runtime + " needs one unless a layer provides it"
}
