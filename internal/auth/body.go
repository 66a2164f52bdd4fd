package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
)

// emptySHA256 is the hex SHA-256 of an empty body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// hasNoBody reports whether r certainly has an empty body, so it need not be
// read to be hashed.
func hasNoBody(r *http.Request) bool {
	return r.Body == nil || r.Body == http.NoBody
}

// hashBody reads r.Body to the end, returns its hex SHA-256, and replaces
// r.Body with a body that reads the same bytes again from the start, so the
// handler sees the request as the client sent it.
//
// The body is read at most once: the SigV4 payload hash covers the whole
// body, so it cannot be verified before the last byte arrives, and handing
// the handler a stream it reads before verification finishes would let it
// act on forged data. Bodies up to memLimit bytes stay in memory; larger
// ones (code uploads of 50 MB and more) are spooled to a temporary file in
// spoolDir that the replacement body removes on Close. A body over maxBytes
// is rejected with RequestEntityTooLargeException without being buffered
// further.
//
// Every byte held counts against bud before it is read: a body that states
// its Content-Length reserves it all up front, a chunked one as it
// arrives; either is refused with a 503 SlowDown (see [errBusy]) if the
// budget is spent. The caller must call release once the request is
// verified or refused, whatever the error; it returns the reservation.
func hashBody(r *http.Request, maxBytes, memLimit int64, spoolDir string, bud *budget) (sum string, release func(), err error) {
	sp := &spool{dir: spoolDir, memLimit: memLimit, budget: bud}
	release = func() { bud.give(sp.held); sp.held = 0 }
	if hasNoBody(r) {
		return emptySHA256, release, nil
	}
	if r.ContentLength > maxBytes {
		return "", release, errTooLarge(maxBytes)
	}
	if r.ContentLength > 0 {
		if !bud.take(r.ContentLength) {
			return "", release, errBusy()
		}
		sp.held = r.ContentLength
		if r.ContentLength <= memLimit {
			sp.buf.Grow(int(r.ContentLength))
		}
	}
	h := sha256.New()
	// A pooled copy buffer: io.Copy would allocate (and zero) 32 KB for
	// every signed request, the most of what verifying one cost.
	bufp := copyBuffers.Get().(*[]byte)
	n, err := io.CopyBuffer(io.MultiWriter(h, sp), io.LimitReader(r.Body, maxBytes+1), *bufp)
	copyBuffers.Put(bufp)
	closeErr := r.Body.Close()
	var be *Error
	switch {
	case errors.As(err, &be):
		return "", release, errors.Join(be, sp.discard())
	case err != nil:
		return "", release, errors.Join(fmt.Errorf("auth: read request body: %w", err), sp.discard())
	case n > maxBytes:
		if dErr := sp.discard(); dErr != nil {
			return "", release, dErr
		}
		return "", release, errTooLarge(maxBytes)
	case closeErr != nil:
		return "", release, errors.Join(fmt.Errorf("auth: close request body: %w", closeErr), sp.discard())
	case sp.failed != nil:
		return "", release, errors.Join(sp.failed, sp.discard())
	}
	b, err := sp.body()
	if err != nil {
		return "", release, err
	}
	r.Body = b
	r.ContentLength = n
	if b.f == nil {
		data := sp.buf.Bytes()
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	} else {
		r.GetBody = nil
	}
	return hex.EncodeToString(h.Sum(nil)), release, nil
}

// copyBuffers holds the buffers hashBody copies bodies through.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// spool is an io.Writer that keeps up to memLimit bytes in memory and moves
// everything to a temporary file once more arrives.
type spool struct {
	dir      string // "" means os.TempDir()
	memLimit int64
	buf      bytes.Buffer
	f        *os.File // nil while in memory
	budget   *budget
	written  int64 // bytes written so far
	held     int64 // bytes reserved in budget; at least written
	// failed is the spool file's write error (a full disk). The rest of
	// the body is then read and dropped, so that the client gets its
	// answer after its upload rather than a reset connection.
	failed error
}

// Write implements io.Writer. It reserves what the budget does not yet
// cover before keeping a byte, and fails with [errBusy] if it cannot.
func (s *spool) Write(p []byte) (int, error) {
	if s.failed != nil {
		return len(p), nil
	}
	if need := s.written + int64(len(p)) - s.held; need > 0 {
		if !s.budget.take(need) {
			return 0, errBusy()
		}
		s.held += need
	}
	s.written += int64(len(p))
	if s.f == nil && int64(s.buf.Len())+int64(len(p)) > s.memLimit {
		f, err := os.CreateTemp(s.dir, "updraft-body-*")
		if err != nil {
			return s.fail(p, err)
		}
		s.f = f
		if _, err := f.Write(s.buf.Bytes()); err != nil {
			return s.fail(p, err)
		}
		s.buf = bytes.Buffer{}
	}
	if s.f != nil {
		if _, err := s.f.Write(p); err != nil {
			return s.fail(p, err)
		}
		return len(p), nil
	}
	return s.buf.Write(p)
}

// fail records the spool's write error and drops p.
func (s *spool) fail(p []byte, err error) (int, error) {
	s.failed = fmt.Errorf("auth: spool request body: %w", err)
	s.buf = bytes.Buffer{}
	return len(p), nil
}

// body returns a ReadCloser over what was written, from the start.
func (s *spool) body() (*spooledBody, error) {
	if s.f == nil {
		return &spooledBody{r: bytes.NewReader(s.buf.Bytes())}, nil
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, errors.Join(fmt.Errorf("auth: rewind spooled body: %w", err), s.discard())
	}
	return &spooledBody{r: s.f, f: s.f}, nil
}

// discard drops the spooled data and removes the temporary file, if any.
func (s *spool) discard() error {
	s.buf = bytes.Buffer{}
	if s.f == nil {
		return nil
	}
	err := removeFile(s.f)
	s.f = nil
	return err
}

// spooledBody is the request body the handler reads after verification.
type spooledBody struct {
	r io.Reader
	f *os.File // the spool file, removed on Close; nil for in-memory bodies

	once     sync.Once
	closeErr error
}

// Read implements io.Reader.
func (b *spooledBody) Read(p []byte) (int, error) { return b.r.Read(p) }

// Close releases the body; for a spooled body it removes the temporary
// file. It is safe to call more than once.
func (b *spooledBody) Close() error {
	b.once.Do(func() {
		if b.f != nil {
			b.closeErr = removeFile(b.f)
		}
	})
	return b.closeErr
}

func removeFile(f *os.File) error {
	cErr := f.Close()
	rErr := os.Remove(f.Name())
	if cErr != nil || rErr != nil {
		return fmt.Errorf("auth: remove spooled body %s: %w", f.Name(), errors.Join(cErr, rErr))
	}
	return nil
}
