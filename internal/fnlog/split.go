package fnlog

import (
	"bytes"
	"unicode/utf8"
)

// splitter cuts a byte stream into lines. It keeps at most max bytes of an
// unterminated line; a longer line is emitted in pieces of at most max bytes,
// cut before an incomplete UTF-8 sequence when there is one at the boundary.
// Joining the emitted pieces (with a newline after each complete line)
// reproduces the input exactly.
//
// A splitter is not safe for concurrent use; [lineWriter] guards it.
type splitter struct {
	max int    // longest piece emitted; at least utf8.UTFMax
	buf []byte // unterminated line; len(buf) <= max
}

// write feeds p and calls emit for each complete line, without its newline.
// emit must not keep the slice.
func (s *splitter) write(p []byte, emit func([]byte)) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		seg := p
		if i >= 0 {
			seg = p[:i]
			p = p[i+1:]
		} else {
			p = nil
		}
		if len(s.buf) == 0 && i >= 0 && len(seg) <= s.max {
			emit(seg) // whole line in one write: no copy
			continue
		}
		for len(seg) > 0 {
			n := min(s.max-len(s.buf), len(seg))
			s.buf = append(s.buf, seg[:n]...)
			seg = seg[n:]
			if len(seg) > 0 { // buf is full and the line goes on
				c := cutPoint(s.buf)
				emit(s.buf[:c])
				s.buf = s.buf[:copy(s.buf, s.buf[c:])]
			}
		}
		if i >= 0 {
			emit(s.buf)
			s.buf = s.buf[:0]
		}
	}
}

// flush emits the unterminated line, if any.
func (s *splitter) flush(emit func([]byte)) {
	if len(s.buf) > 0 {
		emit(s.buf)
		s.buf = s.buf[:0]
	}
}

// cutPoint returns where to cut the full buffer b: before a UTF-8 sequence
// that b ends in the middle of, or len(b).
func cutPoint(b []byte) int {
	for j := len(b) - 1; j >= 0 && j >= len(b)-utf8.UTFMax; j-- {
		if utf8.RuneStart(b[j]) {
			if j > 0 && !utf8.FullRune(b[j:]) {
				return j
			}
			break
		}
	}
	return len(b)
}
