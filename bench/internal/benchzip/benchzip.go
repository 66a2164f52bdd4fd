// Package benchzip builds the deployment zips the bench programs upload.
package benchzip

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
)

// Entry is one file of a zip.
type Entry struct {
	Name string
	Data []byte
	Mode os.FileMode
	// Store keeps the bytes uncompressed (the zip is then about their
	// size); otherwise they are deflated.
	Store bool
}

// Zip returns a zip archive holding entries, in order.
func Zip(entries ...Entry) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate}
		if e.Store {
			h.Method = zip.Store
		}
		h.SetMode(e.Mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, fmt.Errorf("zip %s: %w", e.Name, err)
		}
		if _, err := w.Write(e.Data); err != nil {
			return nil, fmt.Errorf("zip %s: %w", e.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	return buf.Bytes(), nil
}

// Bootstrap returns a zip holding one executable named bootstrap.
func Bootstrap(data []byte) ([]byte, error) {
	return Zip(Entry{Name: "bootstrap", Data: data, Mode: 0o755})
}
